"""Micro-grid planning over the REST API: GeoJSON in and out, errors, permissions, schema."""

import pytest
from django.urls import reverse

from core.tests.errors import refusal
from microgrids import services
from microgrids.tests.test_services import EAST, add_households
from territory.models import Household, MicroGridDivision, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def dense(territory):
    add_households((112.051, 32.601, 112.099, 32.699), 159)
    return territory


def url(name, code=EAST):
    return reverse(name, args=[code])


def test_preview_adjust_commit_revert(dense, api, django_assert_max_num_queries):
    client = api(dense.users["commander"])
    with django_assert_max_num_queries(12):
        response = client.post(
            url("api-microgrids-preview"), {"low": 30, "high": 50}, format="json"
        )
    assert response.status_code == 200, response.content
    proposal = response.json()
    assert proposal["type"] == "FeatureCollection" and len(proposal["features"]) == 4
    assert proposal["features"][0]["geometry"]["type"] == "Polygon"
    response = client.post(
        url("api-microgrids-adjust"),
        {"proposal": proposal, "operation": {"op": "lock", "part": 1}},
        format="json",
    )
    assert response.status_code == 200 and response.json()["features"][0]["properties"]["locked"]
    response = client.post(
        url("api-microgrids-commit"), {"proposal": response.json()}, format="json"
    )
    assert response.status_code == 201, response.content
    division = response.json()
    assert division["created"] == [f"{EAST}0{i}" for i in range(1, 5)] and division["retired"] == []
    listed = client.get(reverse("api-divisions"), {"grid": EAST}).json()
    assert [d["id"] for d in listed["results"]] == [division["id"]]
    response = client.post(reverse("api-division-revert", args=[division["id"]]))
    assert response.status_code == 200 and response.json()["reverted_at"]
    assert not Unit.objects.current().filter(parent_code=EAST).exists()


def test_stale_commit_is_a_conflict_and_writes_nothing(dense, api):
    client = api(dense.users["commander"])
    proposal = client.post(url("api-microgrids-preview"), {}, format="json").json()
    Household.objects.filter(grid__code=EAST).first().delete()
    response = client.post(url("api-microgrids-commit"), {"proposal": proposal}, format="json")
    assert list(refusal(response, 409, "stale")) == ["proposal.basis"]
    assert not MicroGridDivision.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"low": 50, "high": 30}, "minimum (50) is above the maximum (30)"),
        ({"low": 70, "high": 75}, "Closest feasible"),
        (
            {"barriers": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
            "expected lines",
        ),
        ({"barriers": {"type": "LineString", "coordinates": [[500, 0], [1, 1]]}}, "out of range"),
        ({"barriers": {"type": "Nonsense"}}, "not a GeoJSON geometry"),
    ],
)
def test_bad_preview_input_is_a_clear_400(dense, api, body, message):
    response = api(dense.users["commander"]).post(
        url("api-microgrids-preview"), body, format="json"
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_malformed_proposal_is_a_400(dense, api):
    client = api(dense.users["commander"])
    for proposal in (
        {"type": "Feature"},
        {"type": "FeatureCollection", "low": 30, "high": 50, "features": []},
    ):
        response = client.post(url("api-microgrids-commit"), {"proposal": proposal}, format="json")
        assert response.status_code == 400
    assert not MicroGridDivision.objects.exists()


def test_planning_is_for_planners_of_the_territory(dense, api):
    assert (
        api(dense.users["grid_worker"])
        .post(url("api-microgrids-preview"), {}, format="json")
        .status_code
        == 404
    )
    assert api(None).post(url("api-microgrids-preview"), {}, format="json").status_code in (
        401,
        403,
    )
    other = (
        api(dense.users["commander"]).post(url("api-microgrids-preview"), {}, format="json").json()
    )
    response = api(dense.users["grid_chief"]).post(
        url("api-microgrids-commit"), {"proposal": other}, format="json"
    )
    assert response.status_code == 404 and not MicroGridDivision.objects.exists()


def test_batch_job_over_the_api(dense, api):
    client = api(dense.users["commander"])
    response = client.post(reverse("api-microgrid-jobs"), {"unit": "411381001001"}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    # The worker's part (microgrids/tests/test_jobs.py runs the real one), here in the test's transaction.
    services.microgrid_job_run(job_id=response.json()["id"])
    job = client.get(reverse("api-microgrid-job", args=[response.json()["id"]])).json()
    assert job["status"] == "done" and job["done"] == 2
    assert {r["grid"]: r["status"] for r in job["report"]} == {
        "411381001001001": "not divided",
        EAST: "previewed",
    }
    assert (
        api(dense.users["grid_worker"])
        .get(reverse("api-microgrid-job", args=[job["id"]]))
        .status_code
        == 404
    )


def test_schema_documents_the_planning_endpoints(client):
    schema = client.get(reverse("schema")).content.decode()
    for path in (
        "/microgrids/preview/",
        "/microgrids/adjust/",
        "/microgrids/commit/",
        "/microgrid-jobs/",
    ):
        assert path in schema


def test_merge_small_grids_over_the_api(territory, api):
    client = api(territory.users["village_officer"])
    target = reverse("api-merge-small-grids", args=["411381001001"])
    plan = client.post(target, {"min": 2}, format="json")
    assert plan.status_code == 200
    assert plan.json() == [{"into": "411381001001001", "absorbed": [EAST], "households": 3}]
    assert client.post(target, {"min": 0}, format="json").status_code == 400
    done = client.post(target, {"min": 2, "commit": True}, format="json")
    assert done.status_code == 200
    assert not Unit.objects.current().filter(code=EAST).exists()


def test_an_oversized_proposal_is_refused(dense, api, settings):
    client = api(dense.users["commander"])
    proposal = client.post(url("api-microgrids-preview"), {}, format="json").json()
    settings.WANGGE_MAX_UPLOAD_BYTES = 1000
    response = client.post(url("api-microgrids-commit"), {"proposal": proposal}, format="json")
    assert response.status_code == 400 and "upload too large" in response.content.decode()
    assert not MicroGridDivision.objects.exists()
