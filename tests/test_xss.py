"""Stored XSS: what grid workers type (addresses, head names) and unit names reach other
people's browsers (the commander's map, the planner, the field page). They must be shown as
text, never run; and the Content-Security-Policy must hold on every page in normal use, so a
slip in one script is not enough to run an attacker's code."""

import pytest
from django.db import connections

from territory.models import Household, Unit
from tests.test_browser import browser, login  # noqa: F401  (the fixture is used by name)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each payload marks the page if it ever runs; the marks must stay unset.
IMG = "<img src=x onerror=\"window.__xss='img'\">"
SCRIPT = "<script>window.__xss='script'</script>"
GRID = "411381001001001"  # grid A1a: grid_worker's, with two households and two micro-grids
EMPTY_GRID = "411381001001002"  # grid A1b: one household, no micro-grids

# Records every CSP violation and every marked run, from before the page's own scripts.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""


def watched_page(browser, **options):  # noqa: F811
    context = browser.new_context(**options)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda m: m.type == "error" and page.console_errors.append(m.text),
    )
    page.page_errors = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    return page


def assert_clean(page):
    """No payload ran, nothing was blocked, nothing was refused."""
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__violations") == []
    assert not [m for m in page.console_errors if "Content Security Policy" in m]
    assert not page.page_errors


def csp_of(response):
    header = response.headers.get("content-security-policy")
    assert header, f"no Content-Security-Policy on {response.url}"
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def plant(unit_code, name):
    Unit.objects.filter(code=unit_code).update(name=name)


def test_household_address_and_unit_names_are_text_on_the_map(territory, live_server, browser):  # noqa: F811
    plant(GRID, "grid " + IMG)
    plant("41138100100100101", "micro " + SCRIPT)
    Household.objects.filter(grid__code=GRID).update(address="addr " + IMG, head_name=SCRIPT)
    page = watched_page(browser, viewport={"width": 1280, "height": 800})
    login(page, live_server, "grid_worker")

    grid = page.locator(f"path[data-code='{GRID}']")
    grid.hover()
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for()
    assert tooltip.inner_text().startswith("grid " + IMG)
    assert page.locator(".leaflet-tooltip img").count() == 0
    grid.click()
    page.wait_for_selector("#drill-down")
    assert page.inner_text("#unit-info h2") == "grid " + IMG
    page.click("#drill-down")
    page.wait_for_selector("path.unit-microgrid")
    assert ("grid " + IMG) in page.inner_text("#breadcrumb")
    page.locator("path[data-code='41138100100100101']").hover()
    page.wait_for_selector(".leaflet-tooltip:has-text('micro <script>')")

    # The households of the grid: their tooltips carry the address and the head's name.
    households = page.locator("path.leaflet-interactive:not([data-code])")
    page.wait_for_function(
        "() => document.querySelectorAll('path.leaflet-interactive:not([data-code])').length === 2"
    )
    for i in range(2):
        households.nth(i).dispatch_event("mouseover")
    texts = page.locator(".leaflet-tooltip").all_inner_texts()
    assert texts.count("addr " + IMG + " · " + SCRIPT) == 2, texts
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
    assert page.locator("img[src=x], #map script").count() == 0
    connections.close_all()
    assert_clean(page)
    page.context.close()


def test_grid_name_is_text_in_the_planner(territory, live_server, browser):  # noqa: F811
    plant(EMPTY_GRID, IMG)
    page = watched_page(browser, viewport={"width": 1280, "height": 800})
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "village_officer")
    page.goto(f"{live_server.url}/planner/")
    assert page.locator(f"#grid-list option[value='{EMPTY_GRID}']").text_content() == IMG
    page.fill("#grid", EMPTY_GRID)
    page.fill("#low", "1")
    page.click("#preview")
    page.wait_for_selector("path.proposal-part[data-part='1']")
    page.wait_for_function("() => !document.getElementById('commit').disabled")
    page.click("#commit")
    # Committed: the new micro-grid is named after its grid, and its tooltip shows that name.
    micro = page.locator(f"path.unit-microgrid[data-code='{EMPTY_GRID}01']")
    micro.wait_for()
    micro.hover()
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for()
    assert tooltip.inner_text().startswith(IMG + "-微网格01")
    assert page.locator(".leaflet-tooltip img, img[src=x]").count() == 0
    connections.close_all()
    assert_clean(page)
    page.context.close()


def test_addresses_and_unit_names_are_text_on_the_field_page(territory, live_server, browser):  # noqa: F811
    plant(GRID, IMG)
    Household.objects.filter(grid__code=GRID).update(address=SCRIPT, head_name=IMG)
    page = watched_page(
        browser,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": 112.021, "latitude": 32.621},
        permissions=["geolocation"],
    )
    login(page, live_server, "grid_worker")
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_selector("#route-stops li")
    assert page.locator(f"#unit option[value='{GRID}']").text_content() == IMG
    stops = page.locator("#route-stops li").all_inner_texts()
    assert len(stops) == 2 and all(s.startswith(SCRIPT + " · ") for s in stops), stops
    assert sorted(page.locator(".stop-number").all_inner_texts()) == ["1", "2"]
    assert page.locator("img[src=x], .field script").count() == 0
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    connections.close_all()
    assert_clean(page)
    page.context.close()


def _open(page, url, ready):
    response = page.goto(url)
    page.wait_for_selector(ready)
    return response


def test_every_page_sends_a_strict_policy_and_breaks_none_of_it(territory, live_server, browser):  # noqa: F811
    base = live_server.url
    page = watched_page(browser, viewport={"width": 1280, "height": 900})
    policy = csp_of(_open(page, f"{base}/login/", "input[name=username]"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline, no eval, no nonce on our pages
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:", "blob:"}
    assert_clean(page)
    page.context.close()

    pages = [
        ("village_officer", "/map/", "#map[data-loaded]"),
        ("village_officer", f"/planner/?grid={GRID}", "#summary-line, #message.error"),
        ("grid_worker", "/field/", "#route-stops li"),
        ("admin", "/api/docs/", ".swagger-ui .opblock"),
        # DRF's browsable API (Pygments, a dev dependency, made it write an inline <style>).
        ("village_officer", "/api/scheduled-changes/", ".response-info"),
        # ... and styled its nested form fields inline (the case form's point).
        ("village_officer", "/api/cases/", ".response-info"),
    ]
    for username, path, ready in pages:
        page = watched_page(
            browser,
            viewport={"width": 1280, "height": 900},
            geolocation={"longitude": 112.021, "latitude": 32.621},
            permissions=["geolocation"],
        )
        login(page, live_server, username)
        assert_clean(page)
        response = _open(page, base + path, ready)
        # Swagger UI's start-up script is a separate same-origin script too, not inline.
        assert csp_of(response)["script-src"] == ["'self'"], path
        if path == "/field/":
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        if path == "/map/":
            # The language switcher runs from a static script, not from an inline handler.
            page.select_option("#language-form select", "zh-hans")
            page.wait_for_function("() => document.documentElement.lang === 'zh-hans'")
        connections.close_all()
        assert_clean(page)
        page.context.close()

    # The admin's Leaflet widget starts from inline scripts that carry the request's nonce.
    page = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw")
    page.click("input[type=submit]")
    household = territory.households["A1a-south"]
    response = _open(
        page,
        f"{base}/admin/territory/household/{household.pk}/change/",
        ".leaflet-container .leaflet-marker-icon",
    )
    script_src = csp_of(response)["script-src"]
    assert script_src[0] == "'self'" and len(script_src) == 2
    assert script_src[1].startswith("'nonce-")
    connections.close_all()
    assert_clean(page)
    page.context.close()


def test_the_policy_refuses_injected_markup(territory, live_server, browser):  # noqa: F811
    # Defence in depth: even markup that some script wrongly injects does not run.
    page = watched_page(browser)
    login(page, live_server, "commander")
    page.evaluate(
        """() => {
        const box = document.createElement('div');
        box.innerHTML = `<img src="data:," onerror="window.__xss='handler'">`;
        document.body.appendChild(box);
        const script = document.createElement('script');
        script.textContent = "window.__xss = 'inline'";
        document.body.appendChild(script);
        setTimeout("window.__xss = 'eval'", 0);  // a string timer is eval
    }"""
    )
    page.wait_for_function("() => window.__violations.length >= 3")
    assert page.evaluate("window.__xss") is None
    assert any(v.startswith("script-src eval") for v in page.evaluate("window.__violations"))
    connections.close_all()
    page.context.close()
