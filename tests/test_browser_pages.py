"""Every role's pages in headless Chromium on a phone and a desktop: where each role lands, the
refused and missing pages in the site's frame, the phone page's top bar and tap targets. Each
page is saved as a screenshot under var/screenshots/ (a test artifact, not compared)."""

from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connections

from tests.accessibility import assert_accessible
from tests.test_browser import browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONES = [(360, 740), (390, 844)]
VIEWPORTS = [(390, 844), (1440, 900)]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# The pages the tests open to see them refused or missing.
EXPECTED_ERRORS = {"/no-such-page/", "/planner/", "/field/"}
HOMES = {
    "admin": "/map/",
    "commander": "/command/",
    "township_commander": "/command/",
    "village_officer": "/planner/",
    "grid_chief": "/field/",
    "grid_worker": "/field/",
    "microgrid_worker": "/field/",
    "volunteer": "/cases/",
    "department_staff": "/cases/",
    "resident": "/me/",
}
# Every control a finger may hit (map features aside: the route's stop markers are the map's
# content, drawn by the route's own layer).
TAP_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, select, input:not([type=hidden]), textarea, summary, [role=button]')]
  .filter((e) => !e.closest('.leaflet-marker-pane, .leaflet-overlay-pane'))
  .filter((e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
                   return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; })
  .map((e) => { const r = e.getBoundingClientRect();
                return {what: e.tagName + '#' + e.id + '.' + e.className + ' ' +
                              (e.textContent || '').trim().slice(0, 20),
                        width: r.width, height: r.height}; })"""
OVERFLOW = """() => {
  const bar = document.querySelector('.topbar');
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => { const r = e.getBoundingClientRect();
                     return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5); })
    .filter((e) => !e.closest('.leaflet-container'))
    .map((e) => e.tagName + '#' + e.id + '.' + e.className);
  return {bar: [bar.scrollWidth, bar.clientWidth], page: [document.documentElement.scrollWidth,
          innerWidth], wide: wide, barHeight: bar.getBoundingClientRect().height};
}"""


def open_page(browser, width, height, **options):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A CSP violation is reported on the console; a failed load is checked by its response
    # below, since the refused and missing pages answer 403 and 404 on purpose.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if (message.type == "error" and "Failed to load resource" not in message.text)
            or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and urlparse(response.url).path not in EXPECTED_ERRORS
            else None
        ),
    )
    return context, page, problems


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page, name, role, width, height):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{role}-{width}x{height}.png"))


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_field_page_fits_a_small_phone_with_big_tap_targets(
    territory,
    live_server,
    browser,  # noqa: F811
    width,
    height,
):
    context, page, problems = open_page(
        browser,
        width,
        height,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"longitude": 112.021, "latitude": 32.621},
        permissions=["geolocation"],
    )
    sign_in(page, live_server, "grid_worker")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_selector("#route-stops li")
    page.click("#log-incident")  # the form's selects and buttons are tap targets too
    page.wait_for_selector("#incident-form:not([hidden])")
    shoot(page, "field", "grid_worker", width, height)
    assert_accessible(page, "field page, incident form open")
    small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
    assert not small, small
    overflow = page.evaluate(OVERFLOW)
    assert overflow["bar"][0] <= overflow["bar"][1], overflow
    assert overflow["page"][0] <= overflow["page"][1], overflow
    assert not overflow["wide"], overflow
    assert overflow["barHeight"] <= 64, overflow  # one row: labels do not wrap
    # The links, the user and the language fold into the menu: its rows are tap targets too.
    page.click(".topbar .menu-toggle")
    page.wait_for_selector("#site-nav a[href='/field/']", state="visible")
    shoot(page, "field-menu", "grid_worker", width, height)
    small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
    assert not small, small
    overflow = page.evaluate(OVERFLOW)
    assert not overflow["wide"] and overflow["page"][0] <= overflow["page"][1], overflow
    page.click(".topbar .menu-toggle")  # closed again
    # The form closed: while it is open a tap chooses the incident's point, even on a stop.
    page.click("#cancel")
    page.wait_for_selector("#incident-form", state="hidden")
    # Zoomed out, the two stops overlap: one badge with their number, named by the stops it
    # holds; a tap on it zooms in and parts them.
    assert sorted(page.locator(".stop-number").all_inner_texts()) == ["1", "2"]
    page.evaluate("() => window.wanggeField.map.setZoom(window.wanggeField.map.getZoom() - 5)")
    cluster = page.locator(".stop-cluster")
    cluster.wait_for()
    assert cluster.inner_text() == "2" and cluster.get_attribute("aria-label") == "站点 1, 2"
    page.wait_for_selector(".stop-number", state="detached")  # gone once the zoom's fade ends
    cluster.tap()
    page.wait_for_selector(".stop-number")
    assert sorted(page.locator(".stop-number").all_inner_texts()) == ["1", "2"]
    connections.close_all()
    assert not problems, problems
    context.close()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_every_role_lands_on_its_work_and_errors_have_a_way_home(
    territory,
    live_server,
    browser,  # noqa: F811
    width,
    height,
):
    territory.users["grid_chief"].work_phone = "139-0377-0001"
    territory.users["grid_chief"].save()
    checked = set()  # axe-core runs once on each kind of page: the roles share the templates
    for role, home in HOMES.items():
        context, page, problems = open_page(browser, width, height, locale="zh-CN")
        if not checked:  # the login page, with its error
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", "wrong")
            page.click("button[type=submit]")
            page.wait_for_selector(".login [role=alert]")
            assert_accessible(page, "login")
        sign_in(page, live_server, role)
        assert page.url == f"{live_server.url}{home}", role
        if home in ("/map/", "/field/", "/cases/", "/command/"):
            page.wait_for_selector("#map[data-loaded]")
        shoot(page, "home", role, width, height)
        if home not in checked:
            assert_accessible(page, f"home of {role}")
            checked.add(home)
        overflow = page.evaluate(OVERFLOW)
        assert overflow["page"][0] <= overflow["page"][1], (role, overflow)
        assert not overflow["wide"], (role, overflow)

        page.goto(f"{live_server.url}/no-such-page/")
        assert page.title() == "未找到", role
        shoot(page, "404", role, width, height)
        if "404" not in checked:
            assert_accessible(page, f"404 for {role}")
            checked.add("404")
        back = page.locator("main a:has-text('返回我的首页')")
        assert back.get_attribute("href") == "/", role
        if role == next(iter(HOMES)):
            # Followed once: "/" sends each role home (the sign-in above lands there through it).
            back.click()
            page.wait_for_load_state("networkidle")
            assert page.url == f"{live_server.url}{home}", role

        refused = (
            "/field/"
            if role in ("commander", "township_commander", "village_officer")
            else "/planner/"
        )
        if role != "admin":
            response = page.goto(f"{live_server.url}{refused}")
            assert response.status == 403 and page.title() == "无权访问", role
            assert page.locator(".topbar nav a[href='/map/']").count() == 1
            shoot(page, "403", role, width, height)
            if "403" not in checked:
                assert_accessible(page, f"403 for {role}")
                checked.add("403")
        connections.close_all()
        assert not problems, (role, problems)
        context.close()


def test_resident_sees_their_grids_contacts_and_no_staff_tools(
    territory,
    live_server,
    browser,  # noqa: F811
):
    chief = territory.users["grid_chief"]
    # The resident's grid (411381001001002) is served by its own chief here.
    from territory.services import role_assign

    role_assign(user=chief, role="grid_chief", unit_code="411381001001002")
    chief.work_phone = "139-0377-0001"
    chief.save()
    for width, height in VIEWPORTS:
        context, page, problems = open_page(browser, width, height, locale="zh-CN")
        sign_in(page, live_server, "resident")
        page.wait_for_selector(".contacts li")
        assert "139-0377-0001" in page.inner_text(".contacts")
        assert page.locator("a[href='tel:139-0377-0001']").count() == 1
        assert page.locator(".topbar a[href='/api/docs/']").count() == 0
        page.goto(f"{live_server.url}/map/")
        page.wait_for_selector("#map[data-loaded]")
        page.locator("path[data-code='411381001001002']").click()
        page.wait_for_selector("#unit-info h2")
        assert page.locator("#drill-down").count() == 0  # it would show nothing
        shoot(page, "map", "resident", width, height)
        assert_accessible(page, "map of a resident, a grid chosen")
        connections.close_all()
        assert not problems, problems
        context.close()
