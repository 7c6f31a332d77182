"""The rankings page in headless Chromium on a phone: the commander's grids ranked in
Chinese, tap-sized controls, nothing wider than the screen but the table's scroller, no CSP or
script error; and the weekly report's map, downloaded from it and opened from the disk with
every request refused, draws the grids (nothing in it needs the network)."""

import pytest
from django.db import connections

from cases import services
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import TAP_TARGETS, open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => !e.closest('.table-scroll'))
  .filter((e) => { const r = e.getBoundingClientRect();
                   return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5); })
  .map((e) => e.tagName + '#' + e.id + '.' + e.className)"""


def test_the_rankings_on_a_phone_and_the_offline_map(territory, live_server, browser, tmp_path):  # noqa: F811
    services.case_report(user=territory.users["resident"], item="0102", lon=112.07, lat=32.65)
    context, page, problems = open_page(
        browser, 390, 844, locale="zh-CN", accept_downloads=True, is_mobile=True, has_touch=True
    )
    sign_in(page, live_server, "commander")
    page.goto(f"{live_server.url}/command/rankings/?level=grid")
    page.wait_for_selector("#ranking-table")
    assert page.title() == "排名"
    assert page.locator("#ranking-table tbody tr").count() == 3
    shoot(page, "rankings", "commander", 390, 844)
    assert not page.evaluate(WIDE)
    small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
    assert not small, small
    with page.expect_download() as download:
        page.click("#download-report-map")
    assert download.value.suggested_filename.endswith(".html")
    path = tmp_path / "report.html"  # the download's own file has no extension: not HTML
    download.value.save_as(path)

    offline = browser.new_context(viewport={"width": 1024, "height": 768})
    asked = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort()

    offline.route("http*://**/*", refuse)
    map_page = offline.new_page()
    errors = []
    map_page.on("pageerror", lambda error: errors.append(str(error)))
    map_page.goto(f"file://{path}")
    map_page.wait_for_selector("path.leaflet-interactive")
    assert map_page.locator("path.leaflet-interactive").count() == 3
    assert map_page.locator(".report-legend").is_visible()
    map_page.screenshot(path="var/screenshots/report-map-commander-1024x768.png")
    assert not asked and not errors, (asked, errors)
    offline.close()
    connections.close_all()
    assert not problems, problems
    context.close()
