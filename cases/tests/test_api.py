"""Cases over the API: raising, reading and acting, with the one error body for every refusal,
the contact masked for those who may not see it, the list's filters and its query budget, the
dispatch suggestions and nearby duplicates, and the hotline's intake behind its API key."""

import uuid

import pytest
from django.urls import reverse

from cases import services
from cases.models import Case, Department
from cases.selectors import display_name
from core.pagination import CappedPaginator
from core.tests.errors import refusal
from patrols import services as patrol_services
from patrols.models import IncidentCategory

pytestmark = pytest.mark.django_db

A1A_SOUTH = (112.02, 32.62)
A1B = (112.07, 32.65)
B1A = (112.15, 32.65)


def raise_case(client, where=A1B, item="0201", **extra):
    return client.post(
        reverse("api-cases"),
        {
            "item": item,
            "lon": where[0],
            "lat": where[1],
            "description": "路灯不亮",
            "contact_name": "张三丰",
            "contact_phone": "13812345678",
            **extra,
        },
        format="json",
    )


def act(client, case_id, action, version, **fields):
    return client.post(
        reverse("api-case-act", args=[case_id]),
        {"action": action, "version": version, **fields},
        format="json",
    )


def test_a_resident_raises_a_case_and_reads_it_back(territory, api):
    client = api(territory.users["resident"])
    response = raise_case(client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["grid"], body["micro_grid"], body["version"]) == (
        "reported",
        "411381001001002",
        None,
        1,
    )
    assert body["contact_name"] == "张三丰"  # their own
    assert body["allowed_actions"] == ["withdraw"]
    assert [e["action"] for e in body["history"]] == ["report"]
    assert body["point"] == [112.07, 32.65]
    detail = client.get(reverse("api-case", args=[body["id"]]), {"crs": "gcj02"}).json()
    assert detail["point"] != body["point"]  # shown in the asked CRS


def test_the_contact_is_masked_for_those_who_may_not_see_it(territory, api):
    case_id = raise_case(api(territory.users["resident"])).json()["id"]
    for who, clear in (("village_officer", True), ("commander", False)):
        body = api(territory.users[who]).get(reverse("api-case", args=[case_id])).json()
        assert (body["contact_name"] == "张三丰") == clear, who
        assert (body["contact_phone"] == "13812345678") == clear, who
        if not clear:
            assert body["contact_name"] == "张**" and "*" in body["contact_phone"]


def test_acting_over_the_api_and_its_refusals(territory, api):
    case_id = raise_case(api(territory.users["resident"])).json()["id"]
    officer = api(territory.users["village_officer"])
    volunteer = territory.users["volunteer"]
    refusal(act(officer, case_id, "verify", 1), 409, "conflict")
    refusal(act(officer, case_id, "dispatch", 1), 400, "invalid")
    refusal(act(officer, case_id, "dispatch", 7, assignee=volunteer.pk), 409, "stale")
    refusal(act(officer, case_id, "fly", 1), 400)
    refusal(act(officer, case_id, "rate", 1, rating=9), 400)
    refusal(
        act(api(territory.users["resident"]), case_id, "dispatch", 1, assignee=volunteer.pk),
        403,
        "permission_denied",
    )
    refusal(act(api(territory.users["grid_worker"]), case_id, "reject", 1, reason="x"), 404)
    response = act(officer, case_id, "dispatch", 1, assignee=volunteer.pk, lon=112.07, lat=32.65)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["version"]) == ("dispatched", 2)
    assert body["assignee"] == display_name(volunteer)
    assert body["history"][-1]["where"] == [112.07, 32.65]
    mine = api(volunteer).get(reverse("api-case", args=[case_id])).json()
    assert mine["allowed_actions"] == ["decline", "accept"]


def test_an_incident_is_made_a_case_once(territory, api):
    incident = patrol_services.incident_create(
        user=territory.users["grid_worker"],
        incident_id=uuid.uuid4(),
        item_code="0201",
        lon=A1A_SOUTH[0],
        lat=A1A_SOUTH[1],
    ).incident
    client = api(territory.users["grid_worker"])
    first = client.post(reverse("api-cases"), {"incident": str(incident.pk)}, format="json")
    again = client.post(reverse("api-cases"), {"incident": str(incident.pk)}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["incident"] == str(incident.pk)
    refusal(
        api(territory.users["resident"]).post(
            reverse("api-cases"), {"incident": str(incident.pk)}, format="json"
        ),
        404,
    )


def test_bad_bodies_are_400_and_write_nothing(territory, api):
    client = api(territory.users["resident"])
    refusal(client.post(reverse("api-cases"), {"lon": 1}, format="json"), 400)
    refusal(raise_case(client, where=(113.5, 33.5)), 400)
    refusal(raise_case(client, item="0000"), 400)
    refusal(raise_case(client, crs="mars"), 400)
    assert not Case.objects.exists()


def test_the_list_filters_and_stays_within_its_query_budget(
    territory, api, django_assert_max_num_queries
):
    resident = api(territory.users["resident"])
    for _ in range(3):
        raise_case(resident)
    raise_case(resident, item="0302")
    worker_case = raise_case(api(territory.users["grid_worker"]), where=A1A_SOUTH).json()
    officer = api(territory.users["village_officer"])
    officer.get(reverse("api-cases"))  # warm the catalogue and the session
    with django_assert_max_num_queries(6):
        response = officer.get(reverse("api-cases"))
    body = response.json()
    assert body["count"] == 5 and len(body["results"]) == 5
    url = reverse("api-cases")
    assert officer.get(url, {"item": "0302"}).json()["count"] == 1
    assert officer.get(url, {"item": "03"}).json()["count"] == 1
    assert officer.get(url, {"grid": "41138100100100101"}).json()["count"] == 1
    assert officer.get(url, {"grid": "411381001001001"}).json()["count"] == 1
    assert officer.get(url, {"status": "reported"}).json()["count"] == 5
    assert officer.get(url, {"status": "published"}).json()["count"] == 0
    assert officer.get(url, {"overdue": "true"}).json()["count"] == 0
    Case.objects.filter(pk=worker_case["id"]).update(due_at="2026-01-01T00:00:00Z")
    overdue = officer.get(url, {"overdue": "true"}).json()
    assert [c["id"] for c in overdue["results"]] == [worker_case["id"]]
    assert overdue["results"][0]["card"] == "red"
    refusal(officer.get(url, {"status": "lost"}), 400)
    refusal(officer.get(url, {"overdue": "maybe"}), 400)
    assert resident.get(url).json()["count"] == 4  # their own


def test_suggestions_follow_how_the_item_is_handled(territory, api):
    officer = api(territory.users["village_officer"])
    grid_case = raise_case(api(territory.users["grid_worker"]), where=A1A_SOUTH).json()
    near = raise_case(officer, where=(A1A_SOUTH[0] + 0.0005, A1A_SOUTH[1])).json()  # ~47 m
    raise_case(officer, where=(A1A_SOUTH[0] + 0.01, A1A_SOUTH[1]))  # ~940 m
    url = reverse("api-case-suggestions", args=[grid_case["id"]])
    body = officer.get(url).json()
    # 0201 is a grid matter: the micro-grid's worker first, then the grid's worker and chief.
    roles = ("microgrid_worker", "grid_worker", "grid_chief")
    assert [(s["kind"], s["id"], s["role"]) for s in body["dispatch"]] == [
        ("user", territory.users[r].pk, r) for r in roles
    ]
    assert [d["id"] for d in body["duplicates"]] == [near["id"]]
    assert 40 < body["duplicates"][0]["distance_m"] < 55
    assert [d["id"] for d in officer.get(url, {"metres": 2000}).json()["duplicates"]][:1] == [
        near["id"]
    ]
    refusal(officer.get(url, {"metres": "far"}), 400)
    refusal(api(territory.users["grid_worker"]).get(url), 403)
    bureau = Department.objects.create(code="411381-hbj", name="环保局", county_code="411381")
    bureau.items.set(IncidentCategory.objects.filter(code="0203"))
    bureau.areas.create(unit_code="411381")
    department_case = raise_case(officer, item="0203").json()
    suggested = officer.get(reverse("api-case-suggestions", args=[department_case["id"]])).json()
    assert [(s["kind"], s["role"]) for s in suggested["dispatch"]] == [("department", "411381-hbj")]


# --- the hotline -------------------------------------------------------------------------------


def hotline(client, key=None, **extra):
    headers = {"HTTP_X_API_KEY": key} if key is not None else {}
    body = {
        "order_number": "12345-0001",
        "item": "0201",
        "lon": A1B[0],
        "lat": A1B[1],
        "description": "噪音",
        "contact_name": "王五",
        "contact_phone": "13700001111",
    } | extra
    return client.post(reverse("api-hotline-cases"), body, format="json", **headers)


def test_the_hotline_intake_is_keyed_and_idempotent(territory):
    from rest_framework.test import APIClient

    caller, key = services.hotline_caller_create(name="12345", county_code="411381")
    client = APIClient()
    refusal(hotline(client), 401, "not_authenticated")
    refusal(hotline(client, key="wrong-key-0123456789"), 401, "authentication_failed")
    first = hotline(client, key)
    assert first.status_code == 201, first.content
    again = hotline(client, key)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    refusal(hotline(client, key, description="别的"), 409, "conflict")
    refusal(hotline(client, key, order_number=""), 400)
    assert Case.objects.get().hotline_caller == caller


def test_a_logged_in_user_is_no_hotline(territory, client):
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_login(territory.users["commander"])
    refusal(hotline(session), 401)


def test_past_the_count_cap_the_list_says_so_and_its_pages_go_on(territory, api, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "count_cap", 3)
    resident = api(territory.users["resident"])
    made = [raise_case(resident).json()["id"] for _ in range(5)]
    url = reverse("api-cases")
    first = resident.get(url, {"page_size": 2}).json()
    assert (first["count"], first["count_exact"]) == (3, False)
    assert [c["id"] for c in first["results"]] == made[::-1][:2] and first["next"]
    # Page 3 lies past the capped count's last page yet holds the oldest case, and no next.
    last = resident.get(url, {"page_size": 2, "page": 3}).json()
    assert [c["id"] for c in last["results"]] == [made[0]] and last["next"] is None
    assert last["previous"]
    refusal(resident.get(url, {"page_size": 2, "page": 4}), 404)
    refusal(resident.get(url, {"page_size": 2, "page": "x"}), 404)
    refusal(resident.get(url, {"page_size": 2, "page": "0"}), 404)
    # Within the cap the count is exact and the pages end where it says.
    narrow = resident.get(url, {"page_size": 2, "status": "published"}).json()
    assert (narrow["count"], narrow["count_exact"]) == (0, True)
    Case.objects.filter(pk__in=made[:2]).update(status="published")
    two = resident.get(url, {"page_size": 2, "status": "published"}).json()
    assert (two["count"], two["count_exact"], two["next"]) == (2, True, None)
