"""The resident's request in headless Chromium: a phone files a request with a photo and a
point tapped on a GCJ-02 map, sees it in "my requests"; the station and a worker take it to
verified through the services; the resident reloads and rates it 4 stars with a comment. On a
phone and a desktop, with screenshots under var/screenshots/, and no request leaves the
server."""

from urllib.parse import urlparse

import pytest
from django.db import connections

from tests.accessibility import assert_accessible
from tests.test_browser import JPEG, browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import OVERFLOW, TAP_TARGETS, open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check_phone_layout(page, what):
    small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
    assert small == [], (what, small)
    layout = page.evaluate(OVERFLOW)
    assert layout["page"][0] <= layout["page"][1] and layout["wide"] == [], (what, layout)


def test_a_resident_files_a_request_and_rates_the_result(
    territory,
    live_server,
    browser,  # noqa: F811
    settings,
):
    from cases import services
    from cases.models import Case, CaseEvent, CasePhoto
    from core import coords
    from territory.services import role_assign
    from territory.tests.factories import UserFactory

    settings.WANGGE_BASEMAP_CRS = "gcj02"  # Chinese tiles: the tapped point is GCJ-02
    worker = UserFactory(username="grid_002_worker")
    role_assign(user=worker, role="grid_worker", unit_code="411381001001002")

    context, page, problems = open_page(browser, 390, 844, is_mobile=True, has_touch=True)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, live_server, "resident")
    page.goto(f"{live_server.url}/me/requests/new/")
    page.wait_for_selector("#request-map .leaflet-overlay-pane path")  # the grid's outline
    shoot(page, "resident-new", "resident", 390, 844)
    check_phone_layout(page, "new request")
    assert_accessible(page, "new request")

    # Sent empty: the page says what is missing, next to the fields, and sends nothing.
    page.click("#send")
    assert page.inner_text("[data-error-for=item]") and page.inner_text("[data-error-for=where]")
    assert Case.objects.count() == 0

    page.select_option("#category", "02")
    page.select_option("#item", "0201")
    page.fill("#description", "路灯不亮，<b>晚上</b>很黑")
    box = page.locator("#request-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#request-map[data-chosen]")
    tapped = page.evaluate("() => window.wanggeRequest.chosen()")  # [lat, lng], GCJ-02

    # A file that is no image: the API refuses it and the page shows why under the photos.
    page.set_input_files(
        "#photos", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}]
    )
    page.click("#send")
    page.wait_for_function("() => document.querySelector('[data-error-for=photos]').textContent")
    assert "not a readable image" in page.inner_text("[data-error-for=photos]")
    assert Case.objects.count() == 0

    page.set_input_files(
        "#photos", files=[{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    page.click("#send")
    page.wait_for_url("**/me/requests/#case-*")
    case = Case.objects.get()
    assert (case.reporter.username, case.source, case.item.code) == ("resident", "resident", "0201")
    assert case.grid.code == "411381001001002"
    # Stored in WGS84: the GCJ-02 point the resident tapped, converted once, on the server.
    expected = coords.gcj02_to_wgs84(tapped[1], tapped[0])
    assert (case.point.x, case.point.y) == pytest.approx(
        (float(expected[0]), float(expected[1])), abs=1e-6
    )
    assert CasePhoto.objects.filter(event__case=case, event__seq=1).count() == 1
    card = page.locator(f"#case-{case.pk}")
    assert case.number in card.inner_text() and "Reported" in card.inner_text()
    assert "<b>" in card.inner_text()  # shown as typed, never as markup
    card.locator("summary:has-text('History')").click()
    page.wait_for_function(  # served by the permission-checked endpoint, and decodable
        "(id) => { const img = document.querySelector('#' + id + ' .photos img');"
        " return img && img.complete && img.naturalWidth > 0; }",
        arg=f"case-{case.pk}",
    )
    shoot(page, "resident-list", "resident", 390, 844)
    check_phone_layout(page, "my requests")
    assert_accessible(page, "my requests, a history open")

    # The station dispatches, the grid's worker accepts and reports it handled, the station
    # verifies: all through the services, as the desk would.
    officer = territory.users["village_officer"]
    for user, action, fields in (
        (officer, "dispatch", {"assignee": worker.pk}),
        (worker, "accept", {}),
        (worker, "handle", {"note": "换了灯泡", "photo_files": [("done.jpg", JPEG)]}),
        (officer, "verify", {}),
    ):
        case = services.case_act(
            user=user, case=case, action=action, expected_version=case.version, **fields
        )
    connections.close_all()

    page.reload()
    card = page.locator(f"#case-{case.pk}")
    assert "Verified" in card.inner_text()
    card.locator(f"#rate-{case.pk}-4").click()  # the 4th star
    card.locator("textarea[name=note]").fill("很快就修好了")
    shoot(page, "resident-rate", "resident", 390, 844)
    check_phone_layout(page, "rating")
    assert_accessible(page, "my requests, rating")
    card.locator("button:has-text('Send rating')").click()
    page.wait_for_selector(".messages li.success")
    case.refresh_from_db()
    assert case.satisfaction == 4
    rated = CaseEvent.objects.get(case=case, action="rate")
    assert (rated.fields, rated.note, rated.actor.username) == (
        {"rating": 4},
        "很快就修好了",
        "resident",
    )
    card = page.locator(f"#case-{case.pk}")
    assert "★★★★☆" in card.inner_text() and "很快就修好了" in card.inner_text()
    assert card.locator("form.rate").count() == 0
    context.close()

    # The desktop: both pages, in Chinese.
    context, desk, desk_problems = open_page(browser, 1440, 900, locale="zh-CN")
    desk.on("request", lambda request: requests.append(request.url))
    sign_in(desk, live_server, "resident")
    desk.goto(f"{live_server.url}/me/requests/")
    assert "我的诉求" in desk.inner_text("h1")
    shoot(desk, "resident-list", "resident", 1440, 900)
    assert_accessible(desk, "my requests")
    desk.goto(f"{live_server.url}/me/requests/new/")
    desk.wait_for_selector("#request-map .leaflet-overlay-pane path")
    shoot(desk, "resident-new", "resident", 1440, 900)
    assert_accessible(desk, "new request")
    context.close()
    connections.close_all()

    refused = f"400 {live_server.url}/api/cases/"  # the file that was no image, on purpose
    assert problems == [refused] and desk_problems == [], problems + desk_problems
    outside = [u for u in requests if urlparse(u).hostname not in ("localhost", "127.0.0.1")]
    assert outside == [], outside
