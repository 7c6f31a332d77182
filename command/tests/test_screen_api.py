"""The command screen's API: the role matrix of every endpoint and page, bad filters as 400s
in the one error shape, the cache that a new case invalidates, and query budgets."""

import pytest
from django.urls import reverse

from cases import services

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "api-command-summary",
    "api-command-heat",
    "api-command-choropleth",
    "api-command-hotspots",
    "api-command-cards",
    "api-command-workers",
]
COMMANDERS = {"commander", "township_commander", "admin"}
OTHERS = {
    "village_officer",
    "grid_chief",
    "grid_worker",
    "microgrid_worker",
    "volunteer",
    "department_staff",
    "resident",
}


def _case(territory, lon=112.02, lat=32.62, **kw):
    return services.case_report(
        user=territory.users["commander"], item="0102", lon=lon, lat=lat, **kw
    )


def test_every_endpoint_and_the_page_answer_commanders_only(territory, api, client):
    for role in sorted(COMMANDERS | OTHERS):
        client_api = api(territory.users[role])
        for name in ENDPOINTS:
            status = client_api.get(reverse(name)).status_code
            assert status == (200 if role in COMMANDERS else 403), (role, name, status)
        client.force_login(territory.users[role])
        page = client.get(reverse("command"))
        assert page.status_code == (200 if role in COMMANDERS else 403), role


def test_anonymous_is_refused_and_sent_to_log_in(territory, api, client):
    for name in ENDPOINTS:
        assert api(None).get(reverse(name)).status_code == 403, name
    response = client.get(reverse("command"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_unit_outside_the_township_is_404_on_every_endpoint(territory, api):
    client = api(territory.users["township_commander"])
    for code in ["411381", "411381101", "411381101201001", "999999"]:
        for name in ENDPOINTS:
            response = client.get(reverse(name), {"unit": code})
            assert response.status_code == 404, (name, code)
            assert response.json()["code"] == "not_found"


def test_inside_the_township_a_commander_drills_down(territory, api):
    client = api(territory.users["township_commander"])
    body = client.get(reverse("api-command-summary"), {"unit": "411381001001"}).json()
    assert body["unit"]["code"] == "411381001001"
    assert [t["code"] for t in body["unit"]["trail"]] == ["411381001", "411381001001"]
    assert body["unit"]["levels_below"] == ["grid", "microgrid"]


BAD_FILTERS = [
    ({"period": "year"}, "period"),
    ({"zoom": "99"}, "zoom"),
    ({"zoom": "x"}, "zoom"),
    ({"status": "reported,bogus"}, "status"),
    ({"source": "fax"}, "source"),
    ({"item": "9999"}, "item"),
    ({"category": "99"}, "category"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "112.2,32.6,112.0,32.7"}, "bbox"),
    ({"period": "custom", "start": "2026-11-01"}, "start"),
    ({"period": "custom", "start": "2026-12-01", "end": "2026-11-01"}, "end"),
    ({"date": "2026-13-01"}, "date"),
    ({"unit": "41x"}, "unit"),
    ({"layer": "people"}, "layer"),
]


def test_bad_filters_are_400_naming_the_parameter(territory, api):
    client = api(territory.users["commander"])
    for params, where in BAD_FILTERS:
        response = client.get(reverse("api-command-heat"), params)
        assert response.status_code == 400, (params, response.content)
        body = response.json()
        assert body["code"] and body["detail"]
        assert where in {e["where"] for e in body["errors"]}, (params, body)


def test_bad_level_and_measure_are_400(territory, api):
    client = api(territory.users["commander"])
    response = client.get(
        reverse("api-command-choropleth"), {"unit": "411381001001001", "level": "village"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["where"] == "level"
    response = client.get(reverse("api-command-hotspots"), {"measure": "beauty"})
    assert response.status_code == 400


def test_a_new_case_invalidates_the_cached_heat(territory, api):
    client = api(territory.users["commander"])
    _case(territory)
    first = client.get(reverse("api-command-heat"), {"zoom": 10})
    again = client.get(reverse("api-command-heat"), {"zoom": 10})
    assert first["X-Cache"] == "miss" and again["X-Cache"] == "hit"
    assert again.json() == first.json() and first.json()["total"] == 1
    _case(territory, lon=112.15, lat=32.65)
    after = client.get(reverse("api-command-heat"), {"zoom": 10})
    assert after["X-Cache"] == "miss" and after.json()["total"] == 2


def test_a_new_household_and_incident_invalidate_too(territory, api):
    from django.contrib.gis.geos import Point

    from patrols.models import Incident, IncidentCategory
    from territory.tests.factories import HouseholdFactory

    client = api(territory.users["commander"])
    params = {"zoom": 10, "layer": "households"}
    assert client.get(reverse("api-command-heat"), params).json()["total"] == 4
    HouseholdFactory(location=Point(112.03, 32.63, srid=4326))
    assert client.get(reverse("api-command-heat"), params).json()["total"] == 5
    params["layer"] = "incidents"
    assert client.get(reverse("api-command-heat"), params).json()["total"] == 0
    from django.utils import timezone

    Incident.objects.create(
        reporter=territory.users["grid_worker"],
        item=IncidentCategory.objects.get(code="0102"),
        location=Point(112.02, 32.62, srid=4326),
        observed_at=timezone.now(),
    )
    assert client.get(reverse("api-command-heat"), params).json()["total"] == 1


def test_list_endpoints_keep_a_query_budget(territory, api, django_assert_max_num_queries):
    client = api(territory.users["commander"])
    for i in range(6):
        _case(territory, lon=112.01 + 0.03 * i, lat=32.62 + 0.01 * i)
    # Whatever the number of cases and units: session, jurisdiction, version, the reads.
    budgets = {
        "api-command-cards": 6,
        "api-command-heat": 5,
        "api-command-choropleth": 8,
        "api-command-hotspots": 9,
        "api-command-workers": 10,
        "api-command-summary": 12,
    }
    for name, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(reverse(name)).status_code == 200, name
