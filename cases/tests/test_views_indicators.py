"""The indicators page: the station's and the centre's own unit by default with its children,
the presets and chosen days, the downloads carrying the same parameters, refusals shown on the
page (400), 404 outside one's reach, 403 for the other roles, and the nav link for those it
serves."""

import html

import pytest
from django.urls import reverse

from cases.tests.test_selectors_indicators import BOTH, story  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

CUSTOM = {"period": "custom", "start": BOTH[0].isoformat(), "end": BOTH[1].isoformat()}


def page(client, territory, who, **params):
    client.force_login(territory.users[who])
    return client.get(reverse("case-indicators"), params)


def test_the_centre_sees_its_unit_and_children_with_downloads(story, client):  # noqa: F811
    response = page(client, story, "commander", **CUSTOM)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="indicator-table"' in text
    rows = response.context["table"]
    assert [r[0][1] for r in rows] == ["411381", "411381001", "411381101"]
    assert dict(zip([c.name for c in response.context["columns"]], rows[0], strict=True))[
        "on_time_closing_rate"
    ] == ("rate", "50.0%")
    xlsx = response.context["downloads"]["xlsx"]
    assert xlsx.startswith(reverse("api-case-indicators-xlsx"))
    assert "unit=411381&start=2026-11-30&end=2026-12-13&by_child=true" in xlsx
    assert html.escape(xlsx) in text
    download = client.get(xlsx)
    assert download.status_code == 200 and download.content[:2] == b"PK"


def test_the_village_officer_gets_their_village_and_this_week(story, client):  # noqa: F811
    response = page(client, story, "village_officer")
    assert response.status_code == 200
    assert response.context["unit"].code == "411381001001"
    assert response.context["choice"] == "this_week"
    span = response.context["span"]
    assert span.start.weekday() == 0 and span.days == 7
    codes = [u.code for u in response.context["units"]]
    assert codes[0] == "411381001001" and "411381001001001" in codes and "411381" not in codes


@pytest.mark.parametrize("preset", ["this_week", "last_week", "this_quarter"])
def test_the_presets(story, client, preset):  # noqa: F811
    response = page(client, story, "township_commander", period=preset)
    assert response.status_code == 200 and response.context["choice"] == preset


def test_bad_days_are_shown_on_the_page(story, client):  # noqa: F811
    response = page(client, story, "commander", period="custom", start="2026-12-10", end="1")
    assert response.status_code == 400
    assert response.context["problems"] and 'role="alert"' in response.content.decode()
    assert not response.context["table"]


def test_outside_ones_reach_is_404_and_other_roles_403(story, client):  # noqa: F811
    assert page(client, story, "township_commander", unit="411381101").status_code == 404
    for who in ("grid_worker", "volunteer", "department_staff", "resident"):
        assert page(client, story, who).status_code == 403, who
    client.logout()
    assert client.get(reverse("case-indicators")).status_code == 302


def test_the_page_speaks_chinese(story, client):  # noqa: F811
    client.force_login(story.users["commander"])
    response = client.get(reverse("case-indicators"), CUSTOM, HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = response.content.decode()
    assert "案件指标" in text and "按时办结率" in text and "下载 Excel" in text


def test_the_nav_links_the_page_for_station_and_centre_only(story, client):  # noqa: F811
    link = f'href="{reverse("case-indicators")}"'
    for who, shown in (("commander", True), ("village_officer", True), ("grid_worker", False)):
        client.force_login(story.users[who])
        assert (link in client.get(reverse("map")).content.decode()) == shown, who


def test_a_superuser_starts_from_the_top_of_the_tree(story, client):  # noqa: F811
    response = page(client, story, "admin", **CUSTOM)
    assert response.status_code == 200 and response.context["unit"].code == "411381"
    assert [r[0][1] for r in response.context["table"]] == ["411381", "411381001", "411381101"]
