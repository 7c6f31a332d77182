"""The planner on a GCJ-02 basemap: proposals drawn where the tiles put them, drawings sent back
in WGS84 (a browser, a live server)."""

import pytest
from django.db import connections

from core import coords
from tests.test_browser import browser, login  # noqa: F401 - the fixture and the login steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_planner_on_a_gcj02_basemap_draws_and_reads_back_in_wgs84(
    territory,
    live_server,
    browser,  # noqa: F811
    settings,
):
    from microgrids.tests.test_services import EAST, add_households

    settings.WANGGE_BASEMAP_CRS = "gcj02"
    add_households((112.051, 32.601, 112.099, 32.699), 159)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "village_officer")
    page.goto(f"{live_server.url}/planner/")
    page.fill("#grid", EAST)
    page.click("#preview")
    page.wait_for_selector("path.proposal-part[data-part='4']")
    assert "worst compactness" in page.inner_text("#summary-line")
    # Each part's first vertex: where the API put it (WGS84) and where the map shows it.
    pairs = page.evaluate(
        """() => { const out = [];
             window.wanggePlanner.map.eachLayer((l) => {
               if (l.feature && l.feature.properties && l.feature.properties.number) {
                 const shown = l.getLatLngs()[0][0];
                 out.push([l.feature.geometry.coordinates[0][0], [shown.lng, shown.lat]]);
               } });
             return out; }"""
    )
    assert len(pairs) == 4
    for (lon, lat), shown in pairs:
        expected = coords.wgs84_to_gcj02(lon, lat)
        assert shown == pytest.approx([float(expected[0]), float(expected[1])], abs=1e-7)
    # A polygon drawn on the map (GCJ-02) goes to the server in WGS84.
    drawn = [[112.06, 32.61], [112.07, 32.61], [112.07, 32.62], [112.06, 32.61]]
    sent = page.evaluate(
        "(ring) => window.wanggePlanner.drawnToWgs84({type: 'Polygon', coordinates: [ring]})",
        drawn,
    )
    for (x, y), (lon, lat) in zip(drawn, sent["coordinates"][0], strict=True):
        back = coords.wgs84_to_gcj02(lon, lat)
        assert [float(back[0]), float(back[1])] == pytest.approx([x, y], abs=1e-6)
    connections.close_all()
    assert not errors
