"""The indicators over the API: the JSON report, the xlsx workbook opened back with openpyxl
(headers in the user's language, number formats, frozen header, title row), the CSV parsed back
(byte-order mark, Chinese names), the file names, and the refusals in the one error body."""

import csv
import io
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.tests.test_selectors_indicators import BOTH, story  # noqa: F401 (fixture)
from core.tests.errors import refusal

pytestmark = pytest.mark.django_db

PERIOD = {"start": BOTH[0].isoformat(), "end": BOTH[1].isoformat()}


def get(api, territory, name, who="commander", **params):
    return api(territory.users[who]).get(reverse(name), PERIOD | params)


def test_the_json_report_has_the_unit_then_its_children(story, api):  # noqa: F811
    body = get(api, story, "api-case-indicators", unit="411381", by_child="true").json()
    assert (body["unit"], body["start"], body["end"], body["by_child"]) == (
        "411381",
        "2026-11-30",
        "2026-12-13",
        True,
    )
    assert [r["unit_code"] for r in body["rows"]] == ["411381", "411381001", "411381101"]
    county = body["rows"][0]
    assert (county["reported"], county["handled"], county["closed"]) == (4, 3, 2)
    assert county["on_time_closing_rate"] == 0.5
    assert body["rows"][2]["on_time_handling_rate"] is None


def test_the_default_unit_is_ones_own(story, api):  # noqa: F811
    body = get(api, story, "api-case-indicators", who="village_officer").json()
    assert body["unit"] == "411381001001" and [r["reported"] for r in body["rows"]] == [3]


@pytest.mark.parametrize(
    "params, where",
    [
        ({"start": "2026-12-32"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-12-10", "end": "2026-12-01"}, "end"),
        ({"start": "2025-01-01", "end": "2026-12-01"}, "end"),
        ({"end": ""}, "end"),
        ({"unit": "999999"}, "unit"),
        ({"unit": "41;drop"}, "unit"),
        ({"by_child": "perhaps"}, "by_child"),
    ],
)
@pytest.mark.parametrize(
    "name", ["api-case-indicators", "api-case-indicators-xlsx", "api-case-indicators-csv"]
)
def test_bad_parameters_are_400_in_the_one_error_body(story, api, params, where, name):  # noqa: F811
    problems = refusal(get(api, story, name, **params), 400)
    assert where in problems, problems


@pytest.mark.parametrize(
    "name", ["api-case-indicators", "api-case-indicators-xlsx", "api-case-indicators-csv"]
)
def test_outside_ones_reach_is_404_and_other_roles_403(story, api, name):  # noqa: F811
    refusal(get(api, story, name, who="township_commander", unit="411381101"), 404)
    refusal(get(api, story, name, who="village_officer", unit="411381"), 404)
    refusal(get(api, story, name, who="grid_worker"), 403)
    refusal(get(api, story, name, who="resident", unit="411381"), 403)


def test_the_workbook_reads_back_with_its_formats(story, api):  # noqa: F811
    response = get(api, story, "api-case-indicators-xlsx", unit="411381", by_child="1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert 'filename="indicators_411381_20261130-20261213.xlsx"' in disposition
    assert "filename*=UTF-8''" in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name == f"{story.units['411381'].name}_indicators_411381_20261130-20261213.xlsx"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "411381" in sheet["A1"].value and "2026-11-30" in sheet["A1"].value
    headers = [c.value for c in sheet[2]]
    assert headers[:3] == ["Code", "Territory", "Reported"]
    assert all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "C3"
    column = {h: i for i, h in enumerate(headers)}
    county = sheet[3]
    assert county[column["Code"]].value == "411381"
    assert county[column["Reported"]].value == 4
    assert county[column["Reported"]].number_format == "0"
    rate = county[column["On-time closing rate"]]
    assert (rate.value, rate.number_format) == (0.5, "0.0%")
    hours = county[column["Average handling time (working hours)"]]
    assert hours.value == pytest.approx(9.5 / 3) and hours.number_format == "0.0"
    assert sheet.column_dimensions["B"].width >= 20
    assert [sheet.cell(row=r, column=1).value for r in (4, 5)] == ["411381001", "411381101"]
    # Nothing handled in township B: an empty cell, not 0%.
    assert sheet.cell(row=5, column=column["On-time handling rate"] + 1).value is None


def test_headers_follow_the_users_language(story, api):  # noqa: F811
    client = api(story.users["commander"])
    response = client.get(
        reverse("api-case-indicators-xlsx"), PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]][:3] == ["代码", "区域", "上报"]
    csv_response = client.get(
        reverse("api-case-indicators-csv"), PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert csv_response.content.decode("utf-8-sig").startswith("代码,区域,上报")


def test_the_csv_parses_back_with_a_byte_order_mark(story, api):  # noqa: F811
    response = get(api, story, "api-case-indicators-csv", unit="411381", by_child="yes")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="indicators_411381_20261130-20261213.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Code"] for r in rows] == ["411381", "411381001", "411381101"]
    assert rows[0]["Reported"] == "4" and rows[0]["On-time closing rate"] == "50.0%"
    assert rows[0]["Average handling time (working hours)"] == "3.2"
    assert rows[2]["On-time handling rate"] == ""
