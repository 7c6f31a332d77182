"""The indicators page in headless Chromium on a phone and a desktop: the centre opens it, sees
the table of its county and townships, the controls are tap-sized on the phone, nothing but the
table's own scroller is wider than the screen, no CSP or script error, and the xlsx button
downloads a workbook that opens."""

import io

import pytest
from django.db import connections
from openpyxl import load_workbook

from cases import services
from tests.accessibility import assert_accessible
from tests.test_browser import browser  # noqa: F401 (the fixture)
from tests.test_browser_pages import TAP_TARGETS, open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => !e.closest('.table-scroll'))
  .filter((e) => { const r = e.getBoundingClientRect();
                   return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5); })
  .map((e) => e.tagName + '#' + e.id + '.' + e.className)"""


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_the_centre_reads_and_downloads_its_indicators(
    territory,
    live_server,
    browser,  # noqa: F811
    width,
    height,
):
    services.case_report(user=territory.users["resident"], item="0102", lon=112.07, lat=32.65)
    phone = width < 700
    context, page, problems = open_page(
        browser,
        width,
        height,
        locale="zh-CN",
        accept_downloads=True,
        is_mobile=phone,
        has_touch=phone,
    )
    sign_in(page, live_server, "commander")
    page.goto(f"{live_server.url}/cases/indicators/")
    page.wait_for_selector("#indicator-table")
    assert page.title() == "案件指标"
    cells = page.locator("#indicator-table tbody tr.total td")
    assert cells.nth(0).inner_text() == "411381" and cells.nth(2).inner_text() == "1"
    assert page.locator("#indicator-table tbody tr").count() == 3  # the county, two townships
    shoot(page, "indicators", "commander", width, height)
    assert_accessible(page, "indicators")
    assert not page.evaluate(WIDE)
    if phone:
        small = [t for t in page.evaluate(TAP_TARGETS) if t["width"] < 44 or t["height"] < 44]
        assert not small, small
    with page.expect_download() as download:
        page.click("#download-xlsx")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(path, "rb") as f:
        sheet = load_workbook(io.BytesIO(f.read())).active
    assert sheet.cell(row=2, column=3).value == "上报" and sheet.cell(row=3, column=3).value == 1
    # Another period from the form: last week has no case.
    page.check("input[name=period][value=last_week]")
    page.click(".indicator-form button[type=submit]")
    page.wait_for_selector("#indicator-table")
    assert page.locator("#indicator-table tbody tr.total td").nth(2).inner_text() == "0"
    connections.close_all()
    assert not problems, problems
    context.close()
