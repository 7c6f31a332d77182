"""The command screen in headless Chromium: the county commander lands on it, the basemap,
the density cells and the choropleth draw, a filter and a drill-down redraw them, the cards
link to their cases, nothing is requested from outside 127.0.0.1, and the phone's page fits
its screen. Screenshots go to var/screenshots/."""

import datetime
from urllib.parse import urlparse

import pytest
from django.db import connections
from django.utils import timezone

from cases import services
from cases.models import Case
from territory.models import Unit
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import OVERFLOW, open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels of a canvas that are not transparent (sampled).
PAINTED = """(selector) => {
  let n = 0;
  for (const c of document.querySelectorAll(selector)) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4 * 13) if (d[i] > 0) n++;
  }
  return n;
}"""
OVERLAY = ".leaflet-overlay-pane canvas:not(.heat-canvas)"
MARKUP = '<img src=x onerror="document.body.dataset.owned=1">镇'


def test_the_commander_s_screen_draws_filters_and_drills_down(
    territory,
    live_server,
    browser,  # noqa: F811
):
    commander = territory.users["commander"]
    for lon, lat, item in [
        (112.02, 32.62, "0102"),
        (112.03, 32.66, "0201"),
        (112.15, 32.65, "0102"),
    ]:
        case = services.case_report(user=commander, item=item, lon=lon, lat=lat)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - datetime.timedelta(hours=2))
    # A name typed by a person is text wherever the screen shows it, never markup.
    Unit.objects.filter(code="411381001").update(name=MARKUP)
    host = urlparse(live_server.url).netloc
    for width, height in [(1440, 900), (390, 844)]:
        phone = width < 700
        context, page, problems = open_page(
            browser,
            width,
            height,
            locale="zh-CN",
            is_mobile=phone,
            has_touch=phone,
            accept_downloads=True,
        )
        requests, tiles = [], []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.on(
            "response",
            lambda r, seen=tiles: seen.append(r.status) if "/tiles/" in r.url else None,
        )
        sign_in(page, live_server, "commander")
        assert page.url == f"{live_server.url}/command/"
        page.wait_for_selector("#map[data-loaded][data-heat=drawn][data-choropleth=drawn]")
        page.wait_for_selector(".leaflet-control-scale-line")
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-tile-pane canvas').length > 0"
        )
        assert tiles and all(s in (200, 204, 304) for s in tiles), tiles
        assert int(page.get_attribute("canvas.heat-canvas", "data-cells")) == 3  # 3 places
        assert page.evaluate(PAINTED, "canvas.heat-canvas") > 0
        assert page.evaluate(PAINTED, OVERLAY) > 0
        assert page.title() == "指挥一张屏"
        assert "热点" in page.inner_text("#explain")
        assert page.inner_text("#headline li:first-child strong").startswith("3")
        link = page.locator("#card-list a").first
        assert link.get_attribute("href") == f"/cases/{case.pk}/"
        shoot(page, "command", "commander", width, height)
        if phone:
            overflow = page.evaluate(OVERFLOW)
            assert overflow["page"][0] <= overflow["page"][1] and not overflow["wide"], overflow
        else:
            # A filter: one item's cases only; the cells redraw from the filtered counts.
            with page.expect_response(
                lambda r: "/api/command/heat/" in r.url and "item=0201" in r.url
            ):
                page.select_option("#f-catalogue", "item:0201")
            page.wait_for_selector("#map[data-loaded]")
            assert page.get_attribute("canvas.heat-canvas", "data-cells") == "1"
            # Drill down from the keyboard's list of the county's townships: everything
            # re-centres on the first, whose villages the choropleth shows now.
            page.select_option("#f-drill", "411381001")
            page.click("#f-drill-go")
            page.wait_for_selector("#map[data-loaded][data-unit='411381001']")
            assert page.locator("#command-trail a").count() == 2  # the county, the township
            assert page.inner_text("#command-trail a >> nth=1") == MARKUP
            assert MARKUP in page.inner_text("#command-unit")
            assert page.locator("body img, body[data-owned]").count() == 0
            assert page.input_value("#f-level") == "village"
            assert page.get_attribute("canvas.heat-canvas", "data-cells") == "1"  # its 0201 case
            shoot(page, "command-drilled", "commander", width, height)
            # The view as a PNG for the weekly report, made in the page from its canvases.
            with page.expect_download() as download:
                page.click("#export-png")
            with open(download.value.path(), "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        outside = [u for u in requests if u.startswith("http") and urlparse(u).netloc != host]
        assert not outside, outside
        connections.close_all()
        assert not problems, problems
        context.close()
