"""Every map draws the server's own vector basemap (streets, buildings, names) and a scale bar,
with no request leaving the server; screenshots of the demo town at a phone's and a desktop's
size go to var/screenshots/."""

from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from demo.seeding import demo_seed
from demo.users import DEMO_PASSWORD, demo_users_create
from tests.test_browser import browser, login  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
SMALL = {"townships": 4, "villages": 16, "grids": 60, "microgrid_grids": 2}

# Pixels of the basemap's canvases that are not its plain background: roads, buildings, fields.
DRAWN = """() => {
  let drawn = 0;
  for (const canvas of document.querySelectorAll('.leaflet-tile-pane canvas')) {
    if (!canvas.width) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4 * 97) {
      if (Math.abs(data[i] - 0xf2) + Math.abs(data[i + 1] - 0xef) + Math.abs(data[i + 2] - 0xe9) > 24) drawn++;
    }
  }
  return drawn;
}"""


def _open(browser, live_server, path, username, viewport, drawn=200):  # noqa: F811
    page = browser.new_page(viewport=viewport)
    requests, tiles, errors = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda r: (
            tiles.append((r.status, r.headers.get("content-type"))) if "/tiles/" in r.url else None
        ),
    )
    page.goto(f"{live_server.url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".leaflet-control-scale-line")
    try:
        page.wait_for_function(f"() => ({DRAWN})() > {drawn}", timeout=120_000)
    except Exception:
        page.screenshot(path=SHOTS / "basemap-failed.png")
        raise
    page.wait_for_timeout(1500)  # the labels of the last tiles
    return page, requests, tiles, errors


def _check(requests, tiles, errors, live_server):
    host = urlparse(live_server.url).netloc
    assert all(urlparse(u).netloc == host for u in requests if u.startswith("http")), requests
    assert any(s == 200 and t == "application/vnd.mapbox-vector-tile" for s, t in tiles), tiles
    assert all(s in (200, 204, 304) for s, _ in tiles), tiles
    assert not errors, errors


@pytest.mark.parametrize(
    "name,viewport",
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1440, "height": 900})],
)
def test_the_maps_draw_the_town_with_a_scale_bar_offline(live_server, browser, name, viewport):  # noqa: F811
    demo_seed(seed=7, counts=SMALL)
    demo_users_create()
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The grid worker's field page opens on their town grid: street level.
    page, requests, tiles, errors = _open(browser, live_server, "/field/", "grid_worker", viewport)
    for _ in range(3):  # down to the buildings
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(800)
    page.wait_for_timeout(2000)
    assert "m" in page.inner_text(".leaflet-control-scale-line")  # metric: "100 m", "1 km"
    page.screenshot(path=SHOTS / f"basemap-field-{name}.png")
    _check(requests, tiles, errors, live_server)
    page.close()
    # The county commander's map opens on the county: main roads, farmland, the river, names.
    # At county zoom on a phone the lines are thin and few (a river, a few roads): any drawn
    # sample beyond the background shows the basemap is there.
    page, requests, tiles, errors = _open(
        browser, live_server, "/map/", "commander", viewport, drawn=5
    )
    page.screenshot(path=SHOTS / f"basemap-map-{name}.png")
    _check(requests, tiles, errors, live_server)
    page.close()
