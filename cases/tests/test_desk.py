"""The case desk (cases/views/desk.py) and the card rule it filters by: the list page for staff
only (a resident is refused, a stranger asked to log in), a case page inside one's reach only
(404 outside), with its masked contact, time left, cards, history and the actions one may take;
the API's `card` field and `card` filter agree because both read models.card_conditions."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CARD_COLOURS, Case
from cases.tests.test_api import A1A_SOUTH, B1A, raise_case
from core.tests.errors import refusal

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def _case(territory, where=A1A_SOUTH, who="admin", **extra):
    x, y = where
    return services.case_report(
        user=territory.users[who],
        item="0201",
        lon=x,
        lat=y,
        description="路灯不亮",
        contact_name="张三丰",
        contact_phone="13812345678",
        **extra,
    )


def _shown_as(territory, now):
    """Cases in every corner of the rule, at `now`: name -> case."""
    cases = {name: _case(territory) for name in ("fresh", "yellow", "red", "due_now", "closed")}
    timing = {
        "fresh": (now + HOUR, now + 2 * HOUR),
        "yellow": (now - HOUR, now + HOUR),
        "red": (now - 2 * HOUR, now - HOUR),
        "due_now": (now - HOUR, now),  # the deadline's own instant: the sweep's red
        "closed": (now - 2 * HOUR, now - HOUR),
    }
    for name, (yellow_at, due_at) in timing.items():
        Case.objects.filter(pk=cases[name].pk).update(yellow_at=yellow_at, due_at=due_at)
    # A closed case whose last step's instants linger (a row written before the flow cleared
    # them, or by hand) runs no step: no card.
    Case.objects.filter(pk=cases["closed"].pk).update(status="cancelled")
    no_yellow = _case(territory)
    Case.objects.filter(pk=no_yellow.pk).update(yellow_at=None, due_at=now + HOUR)
    cases["no_yellow"] = no_yellow
    return cases


EXPECTED = {
    "fresh": "none",
    "yellow": "yellow",
    "red": "red",
    "due_now": "red",
    "closed": "none",
    "no_yellow": "none",
}


def test_the_card_rule_as_a_field_and_as_a_filter_agree_at_every_edge(territory):
    now = timezone.now()
    cases = _shown_as(territory, now)
    annotated = dict(Case.objects.with_card(now).values_list("pk", "card"))
    assert {name: annotated[c.pk] for name, c in cases.items()} == EXPECTED
    for colour in CARD_COLOURS:
        filtered = set(Case.objects.carded(colour, now).values_list("pk", flat=True))
        assert filtered == {pk for pk, card in annotated.items() if card == colour}, colour
    assert set(Case.objects.overdue(now).values_list("pk", flat=True)) == {
        cases["red"].pk,
        cases["due_now"].pk,
    }
    with pytest.raises(ValueError):
        Case.objects.carded("blue", now)


def test_the_api_shows_each_case_the_card_its_filter_finds_it_by(
    territory, api, django_assert_max_num_queries
):
    # Far from the edges: the API reads its own clock.
    cases = _shown_as(territory, timezone.now() + timedelta(minutes=5))
    Case.objects.filter(pk=cases["due_now"].pk).update(due_at=timezone.now() - HOUR)
    client = api(territory.users["village_officer"])
    url = reverse("api-cases")
    listed = {c["id"]: c for c in client.get(url, {"page_size": 100}).json()["results"]}
    assert {name: listed[c.pk]["card"] for name, c in cases.items()} == EXPECTED
    for colour in CARD_COLOURS:
        client.get(url, {"card": colour})  # warm the session and the catalogue
        with django_assert_max_num_queries(6):
            response = client.get(url, {"card": colour, "page_size": 100})
        found = {c["id"] for c in response.json()["results"]}
        assert found == {pk for pk, c in listed.items() if c["card"] == colour}, colour
        assert all(c["card"] == colour for c in response.json()["results"])
    overdue = {c["id"] for c in client.get(url, {"overdue": "true"}).json()["results"]}
    assert overdue == {pk for pk, c in listed.items() if c["overdue"]}
    assert overdue == {cases["red"].pk, cases["due_now"].pk}
    assert "card" in refusal(client.get(url, {"card": "blue"}), 400)
    detail = client.get(reverse("api-case", args=[cases["closed"].pk])).json()
    assert (detail["card"], detail["overdue"]) == ("none", False)


# --- the pages --------------------------------------------------------------------------------


def test_the_desk_is_for_staff(territory, client):
    assert client.get(reverse("case-desk")).status_code == 302  # to the login
    client.force_login(territory.users["resident"])
    response = client.get(reverse("case-desk"))
    assert response.status_code == 403 and 'class="topbar"' in response.content.decode()
    for role in ("village_officer", "grid_worker", "volunteer", "department_staff", "admin"):
        client.force_login(territory.users[role])
        assert client.get(reverse("case-desk")).status_code == 200, role


def test_the_desk_offers_its_filters_and_keeps_the_chosen_ones(territory, client):
    client.force_login(territory.users["village_officer"])
    page = client.get(
        reverse("case-desk"),
        {"status": "handled", "item": "0201", "card": "red", "overdue": "true", "grid": "<b>"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert '<option value="handled" selected>' in page
    assert '<option value="0201" selected>' in page
    assert '<option value="red" selected>' in page
    assert '<option value="true" selected>' in page  # overdue only
    assert 'value="&lt;b&gt;"' in page  # what was typed comes back as text
    assert '<option value="411381001001001">' in page  # the officer's grids
    assert "411381101201001" not in page  # a grid of the other township
    assert "案件" in page and 'src="/static/cases/desk.js"' in page


def test_a_case_page_inside_reach_and_404_outside(territory, client):
    inside = _case(territory)
    outside = _case(territory, where=B1A)
    client.force_login(territory.users["township_commander"])
    assert client.get(reverse("case-page", args=[outside.pk])).status_code == 404
    assert client.get("/cases/999999/").status_code == 404
    page = client.get(reverse("case-page", args=[inside.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert inside.number in text and "41138100100100101" in text
    # A commander does not see personal data: the contact masked as the API masks it.
    assert "13812345678" not in text and "张三丰" not in text
    client.force_login(territory.users["village_officer"])
    text = client.get(reverse("case-page", args=[inside.pk])).content.decode()
    assert "13812345678" in text and "张三丰" in text
    # Outside the desk's users, the case's own reporter is a resident: refused, not shown.
    own = _case(territory, where=(112.07, 32.65), who="resident")
    client.force_login(territory.users["resident"])
    assert client.get(reverse("case-page", args=[own.pk])).status_code == 403


def test_a_case_page_shows_time_left_cards_history_and_the_users_actions(territory, client):
    case = _case(territory)
    client.force_login(territory.users["village_officer"])
    url = reverse("case-page", args=[case.pk])
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "working hours left" in text and "estimated" not in text
    assert 'data-action="dispatch"' in text and 'data-suggest="dispatch"' in text
    assert 'data-action="merge"' in text and 'data-suggest="duplicates"' in text
    assert 'data-action="accept"' not in text  # the handler's, not the station's
    assert "No card" in text
    assert '<li data-event="report">' in text and "Raised" in text
    # The step runs late: both cards recorded, the page says by how much.
    services.cards_record(now=case.due_at + 3 * HOUR)
    Case.objects.filter(pk=case.pk).update(
        due_at=timezone.now() - 3 * HOUR, yellow_at=timezone.now() - 4 * HOUR, estimated=True
    )
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "overdue by" in text and "estimated" in text
    assert text.count('class="card-badge card-red"') == 2  # the heading's and the recorded one
    assert 'class="card-badge card-yellow"' in text
    # The handler sees the case once dispatched to them, with their own buttons.
    worker = territory.users["grid_worker"]
    case.refresh_from_db()
    services.case_act(
        user=territory.users["village_officer"],
        case=case,
        action="dispatch",
        expected_version=case.version,
        assignee=worker.pk,
    )
    client.force_login(worker)
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-action="accept"' in text and 'data-action="decline"' in text
    assert 'data-action="dispatch"' not in text
    assert '<li data-event="dispatch">' in text and worker.username in text


def test_what_people_typed_is_text_on_the_case_page(territory, client, api):
    response = raise_case(
        api(territory.users["village_officer"]),
        where=A1A_SOUTH,
        description='<script>alert("x")</script>',
        contact_name="<img src=x onerror=alert(1)>",
    )
    client.force_login(territory.users["village_officer"])
    text = client.get(reverse("case-page", args=[response.json()["id"]])).content.decode()
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<img src=x" not in text


def test_the_pages_keep_the_strict_policy_and_a_query_budget(
    territory, client, django_assert_max_num_queries
):
    case = _case(territory)
    services.cards_record(now=case.due_at)
    client.force_login(territory.users["village_officer"])
    url = reverse("case-page", args=[case.pk])
    client.get(url)  # warm the catalogue and the session
    # The session and its user, the jurisdiction, the case with its joins and its grid and
    # micro-grid (fetched apart: selectors.cases_for_user), its history, the user's
    # departments, the calendar's overrides, the item's terms for the time left, the cards: a
    # fixed number, whatever the history's length.
    with django_assert_max_num_queries(12):
        response = client.get(url)
    for page in (response, client.get(reverse("case-desk"))):
        policy = page["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        scripts = re.findall(r"<script([^>]*)>", page.content.decode())
        assert scripts and all("src=" in s or 'type="application/json"' in s for s in scripts)


def test_the_centre_escalates_to_a_department_of_the_case_county(territory, client):
    from cases.models import Department

    Department.objects.create(code="dz-cgj", name="邓州市城管局", county_code="411381")
    Department.objects.create(code="xx-cgj", name="别县城管局", county_code="411302")
    case = _case(territory)
    client.force_login(territory.users["township_commander"])
    text = client.get(reverse("case-page", args=[case.pk])).content.decode()
    assert 'data-action="escalate"' in text
    assert '<option value="dz-cgj">邓州市城管局</option>' in text and "xx-cgj" not in text
    client.force_login(territory.users["village_officer"])  # the station blows no whistle
    text = client.get(reverse("case-page", args=[case.pk])).content.decode()
    assert 'data-action="escalate"' not in text and "dz-cgj" not in text
