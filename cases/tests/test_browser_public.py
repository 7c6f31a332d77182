"""The public disclosure (晒单) in headless Chromium, as an anonymous visitor on a phone and a
desktop: the published case is listed, the map draws the grids shaded by their count and no
marker, the language switcher turns the page English, and no personal datum of the case (the
reporter's name, the contact's name and phone, the ID numbers in the description and in the
handling note) is anywhere in the page. No request leaves the server."""

from urllib.parse import urlparse

import pytest
from django.db import connections

from cases.tests.test_public import PERSONAL, VILLAGE_A1, publish, raise_case
from territory.services import role_assign
from tests.accessibility import assert_accessible
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import OVERFLOW, SCREENSHOTS, TAP_TARGETS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _published(territory):
    resident = territory.users["resident"]
    resident.first_name, resident.last_name = "秀英", "张"
    resident.save()
    role_assign(user=territory.users["volunteer"], role="volunteer", unit_code="411381101201")
    return publish(territory, raise_case(territory))


def _no_personal_data(page):
    html = page.content()
    text = page.inner_text("body")
    for personal in PERSONAL:
        assert personal not in html and personal not in text, personal


@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_an_anonymous_visitor_sees_the_published_case_on_a_grid_map(
    territory,
    live_server,
    browser,  # noqa: F811 (the fixture)
    width,
    height,
):
    case = _published(territory)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = open_page(browser, width, height, locale="zh-CN")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(f"{live_server.url}/public/{VILLAGE_A1}/")
        page.wait_for_selector("#public-map[data-loaded]")
        assert page.get_attribute("#public-map", "data-loaded") == "2"
        article = page.locator(f"#case-{case.number}")
        assert "垃圾乱堆乱放" in article.inner_text()
        assert "★★★★☆" in article.inner_text()
        # The map: two grid polygons, shaded by their count; nothing finer than a grid.
        grids = page.locator("path.public-grid")
        assert grids.count() == 2
        counts = dict(grids.evaluate_all("els => els.map(e => [e.dataset.grid, e.dataset.cases])"))
        assert counts == {"411381001001001": "0", "411381001001002": "1"}
        fills = set(grids.evaluate_all("els => els.map(e => e.getAttribute('fill'))"))
        assert len(fills) == 2  # the grid with a case is darker than the one without
        assert page.locator(".leaflet-marker-icon, .leaflet-marker-pane > *").count() == 0
        assert page.locator("path.leaflet-interactive:not(.public-grid)").count() == 0
        _no_personal_data(page)
        if width < 800:
            small = [t for t in page.evaluate(TAP_TARGETS) if min(t["width"], t["height"]) < 44]
            assert not small, small
        layout = page.evaluate(OVERFLOW)
        assert not layout["wide"] and layout["page"][0] <= layout["page"][1], layout
        page.screenshot(path=str(SCREENSHOTS / f"public-zh-{width}x{height}.png"), full_page=True)
        assert_accessible(page, "public disclosure of a village")

        # The language switcher works without a login (on a phone it sits in the menu).
        if width < 800:
            page.click(".menu-toggle")
        with page.expect_navigation():
            page.select_option("#language-form select", "en")
        page.wait_for_selector("#public-map[data-loaded]")
        assert page.get_attribute("html", "lang") == "en"
        body = page.inner_text("body")
        assert "Rubbish dumped" in body and "Published cases of" in body
        assert "垃圾乱堆乱放" not in body
        _no_personal_data(page)
        page.screenshot(path=str(SCREENSHOTS / f"public-en-{width}x{height}.png"), full_page=True)

        page.goto(f"{live_server.url}/public/")
        page.wait_for_selector(f"a[href='/public/{VILLAGE_A1}/']")
        page.screenshot(path=str(SCREENSHOTS / f"public-index-{width}x{height}.png"))
        assert_accessible(page, "public disclosure's index")
    finally:
        context.close()
        connections.close_all()
    hosts = {urlparse(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts
    assert not problems, problems
