"""The case desk in headless Chromium: one case through all six orders by two people in two
browsers, the village officer (the station) and the grid worker (the handler), with a rework
loop; a second, stale action told that someone else acted first; both pages on a phone and a
desktop (screenshots under var/screenshots/, tap targets, no overflow, no CSP complaint)."""

import re

import pytest
from django.db import connections

from cases import services
from cases.models import Case, CaseEvent
from conftest import HOUSEHOLD_POINTS
from tests.accessibility import assert_accessible
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import OVERFLOW, TAP_TARGETS, VIEWPORTS, open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _case(territory, description="路灯不亮，晚上看不见路"):
    x, y = HOUSEHOLD_POINTS["A1a-south"]
    # The station types in a resident's call: a grid matter of grid A1a, the worker's grid.
    return services.case_report(
        user=territory.users["village_officer"],
        item="0201",
        lon=x,
        lat=y,
        description=description,
        contact_name="张三丰",
        contact_phone="13812345678",
    )


def _open_case(page, live_server, case):
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_selector("body[data-suggested]")


def _status(page) -> str:
    return page.get_attribute(".case-sheet", "data-status")


def _act(page, action, **fields):
    """Open the action's form (a plain button or a fold), fill it, send it, and wait for the
    page to come back."""
    form = page.locator(f"form.act-form[data-action='{action}']")
    fold = page.locator(f"details.act:has(form[data-action='{action}'])")
    if fold.count():
        fold.locator("summary").click()
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            if name == "assignee":
                value = field.locator(f"option[value^='user:{value}:']").get_attribute("value")
            field.select_option(str(value))
        else:
            field.fill(str(value))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_selector("body[data-suggested]")


def _check_fits(page, where, phone):
    # A finger on a phone; the desktop's top bar keeps its mouse-sized controls.
    if phone:
        small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
        assert not small, (where, small)
    overflow = page.evaluate(OVERFLOW)
    assert overflow["page"][0] <= overflow["page"][1], (where, overflow)
    assert not overflow["wide"], (where, overflow)


def test_a_case_through_the_six_orders_with_a_rework_loop(territory, live_server, browser):  # noqa: F811
    case = _case(territory)
    worker = territory.users["grid_worker"]
    station, officer, officer_problems = open_page(browser, 1440, 900, locale="zh-CN")
    field, handler, handler_problems = open_page(
        browser, 390, 844, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    sign_in(officer, live_server, "village_officer")
    sign_in(handler, live_server, "grid_worker")

    # 群众点单 -> 站点派单: the officer finds it on the desk and sends it to the grid's worker.
    officer.goto(f"{live_server.url}/cases/")
    officer.wait_for_selector(f".desk-case[data-id='{case.pk}']")
    officer.click(f".desk-case[data-id='{case.pk}'] a.desk-case-number")
    officer.wait_for_selector("body[data-suggested]")
    assert _status(officer) == "reported"
    assert "13812345678" in officer.inner_text("#case-contact")  # the station sees it
    assert officer.locator("form[data-action='accept']").count() == 0
    _act(officer, "dispatch", assignee=worker.pk)
    assert _status(officer) == "dispatched"
    assert "已办理" in officer.inner_text("#desk-flash")

    # 接单 and 消单 by the worker, on a phone.
    handler.goto(f"{live_server.url}/cases/")
    handler.wait_for_selector(f".desk-case[data-id='{case.pk}']")
    _open_case(handler, live_server, case)
    assert handler.locator("form[data-action='dispatch']").count() == 0
    _act(handler, "accept")
    assert _status(handler) == "accepted"
    _act(handler, "handle", note="已更换灯泡")
    assert _status(handler) == "handled"

    # 社区核单 refused: back for rework, with the reason.
    _open_case(officer, live_server, case)
    assert officer.locator("form[data-action='verify']").count() == 1
    _act(officer, "rework", reason="另一盏灯仍不亮")
    assert _status(officer) == "accepted"
    assert "另一盏灯仍不亮" in officer.inner_text(".case-history")

    # The worker handles it again; the officer verifies and publishes (组织晒单).
    _open_case(handler, live_server, case)
    _act(handler, "handle", note="两盏灯都已修好")
    assert _status(handler) == "handled"
    _open_case(officer, live_server, case)
    _act(officer, "verify")
    assert _status(officer) == "verified"
    _act(officer, "publish")
    assert _status(officer) == "published"
    assert "当前无环节计时" in officer.inner_text("#time-left")
    assert officer.locator(".case-actions form").count() == 0

    history = officer.locator(".case-history li").evaluate_all(
        "els => els.map(e => e.dataset.event)"
    )
    expected = ["report", "dispatch", "accept", "handle", "rework", "handle", "verify", "publish"]
    assert history == expected
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == expected
    actors = list(CaseEvent.objects.filter(case=case).values_list("actor__username", flat=True))
    assert actors == ["village_officer", "village_officer", "grid_worker", "grid_worker"] + [
        "village_officer",
        "grid_worker",
        "village_officer",
        "village_officer",
    ]
    connections.close_all()
    assert not officer_problems, officer_problems
    assert not handler_problems, handler_problems
    station.close()
    field.close()


def test_a_stale_action_is_told_someone_else_acted_first(territory, live_server, browser):  # noqa: F811
    case = _case(territory)
    context, first, problems = open_page(browser, 1440, 900, locale="zh-CN")
    sign_in(first, live_server, "village_officer")
    second = context.new_page()
    _open_case(first, live_server, case)
    _open_case(second, live_server, case)
    _act(first, "dispatch", assignee=territory.users["grid_worker"].pk)
    # The second page still shows the case as reported, at its old version.
    assert _status(second) == "reported"
    _act(second, "reject", reason="不属于受理范围")
    assert "已有他人先办理了此案件" in second.inner_text("#desk-flash")
    assert _status(second) == "dispatched"  # shown again as it is now
    case.refresh_from_db()
    assert case.status == "dispatched"
    connections.close_all()
    assert not [p for p in problems if "409" not in p], problems
    context.close()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_desk_pages_on_a_phone_and_a_desktop(territory, live_server, browser, width, height):  # noqa: F811
    case = _case(territory, description='<img src=x onerror="window.hacked=1"> 井盖缺失')
    for _ in range(2):
        _case(territory)
    late = _case(territory)
    Case.objects.filter(pk=late.pk).update(due_at="2026-01-01T00:00:00Z")
    phone = width < 800
    context, page, problems = open_page(
        browser, width, height, locale="zh-CN", is_mobile=phone, has_touch=phone
    )
    sign_in(page, live_server, "village_officer")
    page.goto(f"{live_server.url}/cases/")
    page.wait_for_selector("#map[data-loaded]")
    assert page.locator(".desk-case").count() == 4
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 4
    assert page.locator(".desk-case.card-red").count() == 1
    assert "井盖缺失" in page.inner_text(f".desk-case[data-id='{case.pk}']")
    assert not page.evaluate("window.hacked")
    shoot(page, "desk-list", "village_officer", width, height)
    _check_fits(page, "list", phone)
    assert_accessible(page, "case desk")
    # The filters are the API's: a red card, then a value it refuses.
    page.select_option("select[name=card]", "red")
    with page.expect_navigation():
        page.click("#desk-filters button[type=submit]")
    page.wait_for_selector("#map[data-loaded]")
    assert re.search(r"card=red", page.url)
    ids = page.locator(".desk-case").evaluate_all("els => els.map(e => Number(e.dataset.id))")
    assert ids == [late.pk]
    page.goto(f"{live_server.url}/cases/?card=blue")
    page.wait_for_selector("#map[data-loaded]")
    assert "card" in page.inner_text("#desk-error")

    _open_case(page, live_server, case)
    page.locator("details.act:has(form[data-action='dispatch']) summary").click()
    assert "<img" in page.inner_text(".case-facts")  # shown as text
    assert not page.evaluate("window.hacked")
    shoot(page, "desk-case", "village_officer", width, height)
    _check_fits(page, "case", phone)
    assert_accessible(page, "case page, dispatch form open")
    connections.close_all()
    # The refused filter is the page's own request, answered 400 on purpose.
    assert [p for p in problems if "card=blue" not in p] == [], problems
    context.close()
