"""The map page in headless Chromium (Debian's), against a live server: log in, see the grid
polygons drawn, drill down, and check that no request left 127.0.0.1."""

import os
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connections  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from territory.models import Unit  # noqa: E402
from tests.accessibility import assert_accessible  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 60)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()
# The paths of the tiles in the field page's tile cache (patrols/static/patrols/field-sw.js).
TILE_CACHE = """() => caches.open('wangge-field-tiles').then((cache) => cache.keys())
  .then((keys) => keys.map((request) => new URL(request.url).pathname))"""


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def login(page, live_server, username):
    page.goto(f"{live_server.url}/map/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_selector("#map[data-loaded]")


def test_map_draws_the_territory_and_drills_down_offline(territory, live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    login(page, live_server, "township_commander")
    # The township commander's top unit is township A, drawn as an SVG path.
    assert page.locator("path[data-code='411381001']").count() == 1
    page.locator("path[data-code='411381001']").click()
    page.wait_for_selector("#drill-down")
    assert "411381001" in page.inner_text("#unit-info")
    page.click("#drill-down")
    page.wait_for_selector("path[data-code='411381001001']")
    page.locator("path[data-code='411381001001']").click()
    page.wait_for_selector("#unit-info h2:has-text('village-411381001001')")
    page.click("#drill-down")
    page.wait_for_selector("path.unit-grid")
    grid_codes = set(
        page.locator("path.unit-grid").evaluate_all("els => els.map(e => e.dataset.code)")
    )
    assert grid_codes == {"411381001001001", "411381001001002"}
    # Figures of a grid: households counted by the database.
    page.locator("path[data-code='411381001001001']").click()
    page.wait_for_selector("#unit-info dd:has-text('411381001001001')")
    info = page.inner_text("#unit-info")
    assert "Households" in info and "\n2\n" in info
    # Township B is outside this user's territory: never drawn.
    assert page.locator("path[data-code='411381101']").count() == 0

    hosts = {urlparse(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"} or hosts == {"localhost"}, hosts
    assert any("/static/leaflet/leaflet.js" in url for url in requests)
    assert not errors


def test_grid_worker_sees_households_of_their_grid(territory, live_server, browser):
    page = browser.new_page(viewport={"width": 412, "height": 860})  # a phone
    login(page, live_server, "grid_worker")
    page.locator("path[data-code='411381001001001']").click()
    page.wait_for_selector("#drill-down")
    page.click("#drill-down")
    page.wait_for_selector("path.unit-microgrid")
    page.wait_for_function(
        "() => document.querySelectorAll('path.leaflet-interactive:not([data-code])').length >= 2"
    )
    markers = page.locator("path.leaflet-interactive:not([data-code])").count()
    assert markers == 2  # the two households of grid A1a, as circle markers


def test_map_stacks_a_buildings_households_and_drills_once_into_a_micro_grid(
    territory, live_server, browser
):
    from territory.models import Household

    # A tower of 1,200 flats at one point of micro-grid …01 (the south half of grid A1a).
    Household.objects.bulk_create(
        Household(
            location=Point(112.03, 32.63, srid=4326), address=f"团结路1号{i}室", head_name="王"
        )
        for i in range(1200)
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "grid_worker")
    page.goto(f"{live_server.url}/map/")  # the worker's home is the field page
    page.wait_for_selector("#map[data-loaded]")
    page.click("#language-form select")
    page.select_option("#language-form select", "en")
    page.wait_for_selector("html[lang='en']")
    page.wait_for_selector("#unit-list button[data-code='411381001001001']")
    # Chosen from the keyboard, from the list beside the map.
    page.focus("#unit-list button[data-code='411381001001001']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#drill-down")
    assert "1,202" in page.inner_text("#unit-info")  # thousands separators
    page.click("#drill-down")
    page.click("#drill-down")  # pressed twice: still one step of the path
    page.wait_for_selector("#map[data-places='3']", state="attached")
    # The tower is one marker with its count, not 1,200 dots; the two houses are dots.
    assert page.inner_text(".household-stack") == "1,200"
    assert page.locator("path.leaflet-interactive:not([data-code])").count() == 2
    assert page.locator("#breadcrumb a").count() == 2  # my territory > the grid, once
    # Into the micro-grid: the map goes there and draws its households once.
    zoom = page.evaluate("() => window.wanggeMap.map.getZoom()")
    page.click("#unit-list button[data-code='41138100100100101']")
    page.wait_for_selector("#unit-info h2:has-text('microgrid-41138100100100101')")
    page.click("#drill-down")
    page.wait_for_selector("#map[data-places='2']", state="attached")
    assert page.evaluate("() => window.wanggeMap.map.getZoom()") > zoom
    assert page.locator(".household-stack").count() == 1
    assert page.locator("#breadcrumb a").count() == 3
    assert page.get_attribute("#breadcrumb a:last-child", "aria-current") == "location"
    assert page.get_attribute("#breadcrumb a:first-child", "href") == "#top"
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom in"
    # Zoomed out, the tower and the house overlap: one cluster counting their households, named
    # for a screen reader; Enter on it (from the keyboard) zooms in and parts them again.
    page.evaluate("() => window.wanggeMap.map.setZoom(window.wanggeMap.map.getZoom() - 5)")
    cluster = page.locator(".household-cluster")
    cluster.wait_for()
    assert cluster.inner_text() == "1,201"
    assert cluster.get_attribute("aria-label") == "1,201 households · 2 addresses"
    assert cluster.get_attribute("role") == "button"
    # The stack leaves once the zoom's animation ends (it may still be fading when the badge
    # appears).
    page.wait_for_selector(".household-stack", state="detached")
    assert_accessible(page, "map, a micro-grid's households clustered")
    cluster.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".household-stack")
    page.wait_for_selector(".household-cluster", state="detached")
    connections.close_all()
    assert not errors
    context.close()


def test_admin_map_widget_draws_the_boundary_offline(territory, live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw")
    page.click("input[type=submit]")
    unit = territory.units["411381001001001"]
    page.goto(f"{live_server.url}/admin/territory/unit/{unit.pk}/change/")
    page.wait_for_selector(".leaflet-container path.leaflet-interactive")
    assert page.locator(".leaflet-draw-toolbar").count() >= 1  # editable, with Leaflet.draw
    hosts = {urlparse(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts


def test_language_switcher_changes_the_interface(territory, live_server, browser):
    page = browser.new_page(locale="en-US")
    login(page, live_server, "grid_worker")
    assert page.title() == "Territory map"
    page.select_option("#language-form select", "zh-hans")
    page.wait_for_function("() => document.title === '辖区地图'")
    page.wait_for_selector("#map[data-loaded]")
    assert "我的辖区" in page.inner_text("#breadcrumb")
    page.select_option("#language-form select", "en")
    page.wait_for_function("() => document.title === 'Territory map'")


def test_planner_previews_adjusts_and_commits_micro_grids(territory, live_server, browser):
    from microgrids.tests.test_services import EAST, add_households
    from territory.models import Unit

    add_households((112.051, 32.601, 112.099, 32.699), 159)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "village_officer")
    page.click("a[href='/planner/']")
    page.fill("#grid", EAST)
    page.click("#preview")
    page.wait_for_selector("path.proposal-part[data-part='4']")
    assert page.locator("path.proposal-part").count() == 4
    assert "all within the bounds" in page.inner_text("#summary")
    # Adjust: split micro-grid 1 (now out of bounds, commit refused), then merge the halves.
    page.click("#parts tr[data-part='1']")
    page.click("#split")
    page.wait_for_selector("path.proposal-part[data-part='5']")
    assert "outside the bounds" in page.inner_text("#summary") and page.is_disabled("#commit")
    # From the keyboard: focus a row, Enter selects it (and says so), as a click does.
    page.focus("#parts tr[data-part='1']")
    page.keyboard.press("Enter")
    assert page.get_attribute("#parts tr[data-part='1']", "aria-selected") == "true"
    page.focus("#parts tr[data-part='2']")
    page.keyboard.press(" ")
    assert page.get_attribute("#parts tr[data-part='2']", "aria-selected") == "true"
    page.click("#merge")
    page.wait_for_function("() => document.querySelectorAll('path.proposal-part').length === 4")
    assert "all within the bounds" in page.inner_text("#summary")
    assert_accessible(page, "planner, a preview")
    # Lock micro-grid 1 and re-run the rest: it stays, locked, with its households.
    kept = page.inner_text("#parts tr[data-part='1'] td:nth-child(2)")
    page.click("#parts tr[data-part='1']")
    page.click("#lock")
    page.wait_for_selector("#parts tr:has-text('🔒')")
    page.click("#rerun")
    page.wait_for_function("() => document.getElementById('message').textContent === ''")
    locked = page.locator("#parts tr:has-text('🔒')")
    assert locked.count() == 1 and locked.locator("td:nth-child(2)").inner_text() == kept
    assert "all within the bounds" in page.inner_text("#summary")
    page.click("#commit")
    page.wait_for_selector(f"path.unit-microgrid[data-code='{EAST}04']")
    codes = page.locator("path.unit-microgrid").evaluate_all("els => els.map(e => e.dataset.code)")
    assert sorted(codes) == [f"{EAST}0{i}" for i in range(1, 5)]
    page.wait_for_selector(f"#message:has-text('{EAST}01')")
    page.wait_for_selector("#divisions button[data-division]")
    assert Unit.objects.current().filter(level="microgrid", parent_code=EAST).count() == 4
    # Revert: the grid had no micro-grids before, so none is left on the map.
    page.click("#divisions button[data-division]")
    page.wait_for_selector("#message:has-text('Reverted')")
    assert page.locator("path.unit-microgrid").count() == 0
    assert not Unit.objects.current().filter(level="microgrid", parent_code=EAST).exists()
    connections.close_all()  # this one was opened inside Playwright's context: close it here
    hosts = {urlparse(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts in ({"127.0.0.1"}, {"localhost"}), hosts
    assert not errors


def test_planner_says_why_a_preview_is_refused(territory, live_server, browser):
    from microgrids.tests.test_services import EAST  # one household: 30 to 50 cannot be met

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "village_officer")
    page.click("a[href='/planner/']")
    page.fill("#grid", EAST)
    page.click("#preview")
    page.wait_for_selector("#message.error[role='alert']")
    # The problem of the API's error body, with the field it is about.
    assert page.inner_text("#message").startswith("bounds: ")
    connections.close_all()
    assert not errors


def test_planner_finds_a_grid_by_name_beyond_the_listed_ones(
    territory, live_server, browser, monkeypatch
):
    from microgrids import views

    Unit.objects.filter(code="411381001001002").update(name="东关社区二网格")
    monkeypatch.setattr(views, "PLANNER_GRID_CHOICES", 1)  # the page lists one grid only
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "village_officer")
    page.click("a[href='/planner/']")
    assert page.locator("#grid-list option").count() == 1
    page.type("#grid", "东关")
    page.wait_for_selector("#grid-list option[value='411381001001002']", state="attached")
    page.fill("#grid", "411381001001002")
    page.click("#load-current")
    page.wait_for_selector("#grid-name:has-text('东关社区二网格')")
    connections.close_all()
    assert not errors


def test_field_page_logs_an_incident_offline_and_sends_it_once(
    territory, live_server, browser, monkeypatch
):
    from patrols import views
    from patrols.models import Incident, IncidentPhoto

    monkeypatch.setattr(views, "FIELD_TILE_CACHE_LIMIT", 4)  # the service worker keeps 4 tiles

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": 112.021, "latitude": 32.621},
        permissions=["geolocation"],
    )
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "grid_worker")
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_selector("#route-stops li")  # today's route: the two due households
    assert page.locator("#route-stops li").count() == 2
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    manifest = page.evaluate("fetch('/field/manifest.webmanifest').then(r => r.json())")
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone"

    context.set_offline(True)
    page.wait_for_selector("#network.offline")
    # Three taps: open, pick what, send (with a photo).
    page.click("#log-incident")
    assert "your position" in page.inner_text("#where")
    box = page.locator("#map").bounding_box()  # tap a point in the grid instead
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_selector("#where:has-text('the point you tapped')")
    page.select_option("#item", "0201")
    page.set_input_files(
        "#photos", files=[{"name": "pile.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    page.click("#send")
    page.wait_for_selector("#outbox[data-waiting='1']")
    assert Incident.objects.count() == 0
    connections.close_all()

    context.set_offline(False)
    # The badge hides once empty (nothing pending): wait for the count, not for the badge.
    page.wait_for_selector("#outbox[data-waiting='0']", state="attached", timeout=15000)
    page.evaluate("Promise.all([window.wanggeField.flush(), window.wanggeField.flush()])")
    page.wait_for_selector("#incidents li.sent")
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.grid.code == "411381001001001" and incident.item.code == "0201"
    assert (round(incident.location.x, 3), round(incident.location.y, 3)) != (112.021, 32.621)
    assert IncidentPhoto.objects.filter(incident=incident).count() == 1
    # Reloaded under the service worker, the basemap's tiles go to its tile cache, trimmed to
    # the newest 4.
    page.reload()
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_load_state("networkidle")
    for _ in range(100):  # the worker trims after it answers: until it has
        cached = page.evaluate(TILE_CACHE)
        if len(cached) <= 4:
            break
        page.wait_for_timeout(100)
    assert len(cached) == 4 and all(path.startswith("/tiles/") for path in cached), cached
    # The page opens with no network, from the service worker's cache, and so do the tiles.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#log-incident")
    assert page.evaluate("(url) => fetch(url).then((r) => r.status)", cached[-1]) in (200, 204)
    connections.close_all()
    hosts = {urlparse(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts in ({"127.0.0.1"}, {"localhost"}), hosts
    assert not errors
    context.close()


def test_a_refused_incident_says_why_and_is_sent_again_from_a_moved_point(
    territory, live_server, browser
):
    from patrols.models import Incident

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors, dialogs = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    login(page, live_server, "grid_worker")
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#map[data-loaded]")
    # The route and the incidents are tabs: the route first, the arrow keys move between them.
    assert page.is_visible("#route-stops") and not page.is_visible("#incidents")
    page.focus("#tab-route")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#panel-incidents") and not page.is_visible("#route-stops")
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#tab-route", "aria-selected") == "true"
    context.set_offline(True)
    page.wait_for_selector("#network.offline")
    # The worker's grid is the western half of the view; tap the eastern edge: the next grid.
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5)
    page.click("#log-incident")
    page.select_option("#item", "0201")
    page.click("#send")
    assert len(dialogs) == 1  # warned before it was queued, and sent anyway
    page.wait_for_selector("#outbox[data-waiting='1']", state="attached")
    context.set_offline(False)
    page.wait_for_selector("#incidents li.failed")
    # Refused for good: said in the page's language with its fixes, and no longer pending.
    text = page.inner_text("#incidents li.failed")
    assert "您巡查的网格" in text, text
    assert page.get_attribute("#outbox", "data-waiting") == "0"
    assert page.get_attribute("#outbox", "data-refused") == "1"
    assert Incident.objects.count() == 0
    connections.close_all()
    page.click("#incidents li.failed button.move")
    page.wait_for_selector("#moving", state="visible")
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.wait_for_selector("#incidents li.sent")
    assert page.locator("#incidents li.failed").count() == 0
    incident = Incident.objects.get()
    assert incident.grid.code == "411381001001001"
    connections.close_all()
    assert not errors
    context.close()


def test_field_page_on_a_gcj02_basemap_stores_wgs84_positions(
    territory, live_server, browser, settings
):
    # Chinese tiles are drawn in GCJ-02, about 500 m off WGS84 here: the page shows positions
    # where the tiles put them, and what it stores is still WGS84.
    from core import coords
    from patrols.models import Incident

    settings.WANGGE_BASEMAP_CRS = "gcj02"
    gps = (112.021, 32.621)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": gps[0], "latitude": gps[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "grid_worker")
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#map[data-loaded]")

    def marker_at(colour):  # where the map shows a marker: [lng, lat] in the map's CRS
        return page.wait_for_function(
            """(colour) => { let found = null;
                   window.wanggeField.map.eachLayer((l) => {
                     if (l.options && (l.options.fillColor || l.options.color) === colour)
                       found = l.getLatLng(); });
                   return found && [found.lng, found.lat]; }""",
            arg=colour,
        ).json_value()

    shown = coords.wgs84_to_gcj02(*gps)
    assert marker_at("#1a73e8") == pytest.approx([float(shown[0]), float(shown[1])], abs=1e-7)

    def log_incident(tap=False, stored_before=0):
        page.click("#log-incident")
        tapped = None
        if tap:
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45)
            page.wait_for_selector("#where:has-text('the point you tapped')")
            tapped = marker_at("#b3261e")
        page.select_option("#item", "0201")
        page.click("#send")
        page.wait_for_function(  # listed from the server: stored
            "(n) => document.querySelectorAll('#incidents li.sent').length > n",
            arg=stored_before,
        )
        return tapped

    log_incident()  # at my position
    at_position = Incident.objects.get()
    assert (at_position.location.x, at_position.location.y) == pytest.approx(gps, abs=1e-7)
    connections.close_all()

    tapped = log_incident(tap=True, stored_before=1)
    at_tap = Incident.objects.exclude(pk=at_position.pk).get()
    expected = coords.gcj02_to_wgs84(*tapped)
    assert (at_tap.location.x, at_tap.location.y) == pytest.approx(
        (float(expected[0]), float(expected[1])), abs=1e-7
    )
    connections.close_all()
    assert not errors
    context.close()
