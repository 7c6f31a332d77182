"""The map page in headless Chromium (Debian's), against a live server: log in, see the grid
polygons drawn, drill down, and check that no request left 127.0.0.1."""

import os
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

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
        "document.querySelectorAll('path.leaflet-interactive:not([data-code])').length >= 2"
    )
    markers = page.locator("path.leaflet-interactive:not([data-code])").count()
    assert markers == 2  # the two households of grid A1a, as circle markers


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
    page.wait_for_function("document.title === '辖区地图'")
    page.wait_for_selector("#map[data-loaded]")
    assert "我的辖区" in page.inner_text("#breadcrumb")
    page.select_option("#language-form select", "en")
    page.wait_for_function("document.title === 'Territory map'")
