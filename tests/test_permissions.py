"""Every endpoint and page against every role: nothing outside one's territory is returned or
changed, and objects outside it are 404 (never 403, which would confirm they exist)."""

import pytest
from django.urls import reverse

from conftest import HOUSEHOLD_POINTS, ROLES

pytestmark = pytest.mark.django_db

ALL_UNITS = {
    "411381",
    "411381001",
    "411381101",
    "411381001001",
    "411381101201",
    "411381001001001",
    "411381001001002",
    "411381101201001",
    "41138100100100101",
    "41138100100100102",
}


def subtree(code):
    return {c for c in ALL_UNITS if c.startswith(code)}


def codes(response):
    return {f["properties"]["code"] for f in response.json()["features"]}


@pytest.mark.parametrize("role", list(ROLES))
def test_unit_list_is_the_role_subtree(territory, api, role):
    client = api(territory.users[role])
    response = client.get(reverse("api-units"), {"page_size": 100})
    assert response.status_code == 200
    assert codes(response) == subtree(ROLES[role][0])


@pytest.mark.parametrize("role", list(ROLES))
def test_unit_detail_outside_is_404(territory, api, role):
    client = api(territory.users[role])
    inside = subtree(ROLES[role][0])
    for code in sorted(ALL_UNITS):
        for name in ("api-unit", "api-unit-topology"):
            status = client.get(reverse(name, args=[code])).status_code
            # The topology check is for those who edit the territory: seen, but 403 for others.
            edits = name == "api-unit" or role in ("commander", "township_commander")
            expected = (200 if edits else 403) if code in inside else 404
            assert status == expected, (role, name, code)


@pytest.mark.parametrize("role", list(ROLES))
def test_grids_list_is_scoped(territory, api, role):
    response = api(territory.users[role]).get(reverse("api-grids"))
    expected = {c for c in subtree(ROLES[role][0]) if len(c) >= 15}
    assert codes(response) == expected


@pytest.mark.parametrize("role", list(ROLES))
def test_households_are_scoped_and_masked(territory, api, role):
    _, visible, clear = ROLES[role]
    client = api(territory.users[role])
    response = client.get(reverse("api-households"))
    assert response.status_code == 200
    by_address = {f["properties"]["address"].split()[0]: f for f in response.json()["features"]}
    assert set(by_address) == visible
    for key, feature in by_address.items():
        household = territory.households[key]
        props = feature["properties"]
        if clear:
            assert props["head_name"] == household.head_name
            assert props["head_phone"] == household.head_phone
        else:
            assert props["head_name"] != household.head_name and "*" in props["head_name"]
            assert household.head_phone not in props["head_phone"]
            assert props["id_number"] == ""
    for key in HOUSEHOLD_POINTS:
        status = client.get(
            reverse("api-household", args=[territory.households[key].pk])
        ).status_code
        assert status == (200 if key in visible else 404), (role, key)


@pytest.mark.parametrize("role", list(ROLES))
def test_household_writes_only_inside(territory, api, role):
    client = api(territory.users[role])
    may_write = ROLES[role][2]
    for key, (x, y) in HOUSEHOLD_POINTS.items():
        inside = key in ROLES[role][1]
        household = territory.households[key]
        response = client.patch(
            reverse("api-household", args=[household.pk]),
            {"address": "改过的地址", "version": household.version},
            format="json",
        )
        assert response.status_code == (200 if inside and may_write else 404), (role, key)
        household.refresh_from_db()
        assert (household.address == "改过的地址") == (inside and may_write)
        created = client.post(
            reverse("api-households"),
            {"lon": x + 0.001, "lat": y, "address": "新户", "head_name": "李四"},
            format="json",
        )
        assert created.status_code == (201 if inside and may_write else 400), (role, key)


@pytest.mark.parametrize("role", list(ROLES))
def test_export_is_scoped(territory, api, role):
    import json

    response = api(territory.users[role]).get(reverse("api-units-export"), {"level": "grid"})
    assert response.status_code == 200
    exported = {f["properties"]["code"] for f in json.loads(response.content)["features"]}
    assert exported == {c for c in subtree(ROLES[role][0]) if len(c) == 15}


@pytest.mark.parametrize("role", list(ROLES))
def test_import_only_below_own_territory(territory, api, role):
    feature = {
        "type": "Feature",
        "properties": {"code": "411381101201002", "name": "新网格"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[112.1, 32.6], [112.11, 32.6], [112.11, 32.61], [112.1, 32.6]]],
        },
    }
    response = api(territory.users[role]).post(
        reverse("api-units-import"),
        {
            "level": "grid",
            "parent_code": "411381101201",
            "features": {"type": "FeatureCollection", "features": [feature]},
        },
        format="json",
    )
    # Only the county commander's territory holds 411381101201. The township commander may import,
    # but not there (it is "unknown" to them); other roles may not import at all.
    expected = {"commander": 201, "township_commander": 400}.get(role, 403)
    assert response.status_code == expected
    allowed = expected == 201
    from territory.models import Unit

    assert Unit.objects.filter(code="411381101201002").exists() == allowed


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_pages(territory, client, role):
    if role != "anonymous":
        client.force_login(territory.users[role])
    response = client.get(reverse("map"))
    assert response.status_code == (302 if role == "anonymous" else 200)
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302  # no demo role but the superuser is staff
    api_response = client.get(reverse("api-units"))
    assert api_response.status_code == (403 if role == "anonymous" else 200)


def test_superuser_sees_everything(territory, api):
    response = api(territory.users["admin"]).get(reverse("api-units"), {"page_size": 100})
    assert codes(response) == ALL_UNITS


# --- cases: every endpoint against every role ------------------------------------------------
# Case A in micro-grid A1a-south, case B in township B, both raised by the superuser: only the
# station, the centre and the grid's workers above a place see its cases (a volunteer, a
# department and a resident see only what is assigned to them, theirs or their own).
CASES_SEEN = {
    "commander": {"A", "B"},
    "township_commander": {"A"},
    "village_officer": {"A"},
    "grid_chief": {"A"},
    "grid_worker": {"A"},
    "microgrid_worker": {"A"},
    "volunteer": set(),
    "department_staff": set(),
    "resident": set(),
}
STATION_ROLES = {"commander", "township_commander", "village_officer"}
# Where each role may raise a case (the point of A1b household, in grid A1b).
RAISES_AT_A1B = {"commander", "township_commander", "village_officer", "resident"}


@pytest.mark.parametrize("role", list(ROLES))
def test_case_endpoints_are_scoped(territory, api, role):
    from cases import services as case_services

    admin = territory.users["admin"]
    cases = {
        name: case_services.case_report(user=admin, item="0201", lon=x, lat=y)
        for name, (x, y) in (("A", HOUSEHOLD_POINTS["A1a-south"]), ("B", HOUSEHOLD_POINTS["B1a"]))
    }
    client = api(territory.users[role])
    seen = CASES_SEEN[role]
    listed = {c["id"] for c in client.get(reverse("api-cases")).json()["results"]}
    assert listed == {cases[n].pk for n in seen}, role
    for name, case in cases.items():
        inside = name in seen
        assert client.get(reverse("api-case", args=[case.pk])).status_code == (
            200 if inside else 404
        ), (role, name)
        suggestions = client.get(reverse("api-case-suggestions", args=[case.pk])).status_code
        assert suggestions == ((200 if role in STATION_ROLES else 403) if inside else 404), (
            role,
            name,
        )
        acted = client.post(
            reverse("api-case-act", args=[case.pk]),
            {"action": "reject", "version": 1, "reason": "不予受理"},
            format="json",
        )
        assert acted.status_code == ((200 if role in STATION_ROLES else 403) if inside else 404)
        case.refresh_from_db()
        assert (case.status == "rejected") == (inside and role in STATION_ROLES), (role, name)
    x, y = HOUSEHOLD_POINTS["A1b"]
    raised = client.post(
        reverse("api-cases"), {"item": "0201", "lon": x, "lat": y}, format="json"
    ).status_code
    assert raised == (201 if role in RAISES_AT_A1B else 400), role
    # The hotline's intake knows caller systems only, never a logged-in user.
    assert client.post(reverse("api-hotline-cases"), {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("role", ["anonymous"])
def test_case_endpoints_need_a_login(territory, role):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(reverse("api-cases")).status_code == 403
    assert client.get(reverse("api-case", args=[1])).status_code == 403
    assert client.post(reverse("api-case-act", args=[1]), {}, format="json").status_code == 403
    assert client.post(reverse("api-hotline-cases"), {}, format="json").status_code == 401


# --- case indicators: the station and the centre, each over its own subtree -------------------
INDICATORS_OWN = {
    "commander": "411381",
    "township_commander": "411381001",
    "village_officer": "411381001001",
}


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_case_indicators_are_scoped(territory, api, client, role):
    period = {"start": "2026-12-01", "end": "2026-12-07"}
    user = territory.users.get(role)
    api_client = api(user)
    if user is not None:
        client.force_login(user)
    own = INDICATORS_OWN.get(role)
    for name in ("api-case-indicators", "api-case-indicators-xlsx", "api-case-indicators-csv"):
        for code in ("411381", "411381001", "411381001001", "411381101"):
            status = api_client.get(reverse(name), period | {"unit": code}).status_code
            # Other roles (and no login): 403 wherever; the station and the centre: 404 outside.
            expected = 403 if own is None else 200 if code.startswith(own) else 404
            assert status == expected, (role, name, code)
    page = client.get(reverse("case-indicators"), {"period": "this_week"}).status_code
    assert page == (302 if role == "anonymous" else 200 if own else 403), role
