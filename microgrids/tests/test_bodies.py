"""Every micro-grid request body is validated: a bad one is a 400 in the project's error shape
and changes nothing, never a 500; and a commit's bounds come from the server, not from the
proposal the client sends back."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.tests.errors import assert_error_body, refusal
from microgrids.tests.test_services import EAST, add_households
from territory.models import MicroGridDivision, MicroGridJob, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def dense(territory):
    add_households((112.051, 32.601, 112.099, 32.699), 159)  # 160 households in EAST
    return territory


def url(name, code=EAST):
    return reverse(name, args=[code])


def snapshot():
    return (
        Unit.objects.count(),
        Unit.objects.filter(valid_to__isnull=True).count(),
        MicroGridDivision.objects.count(),
        MicroGridJob.objects.count(),
    )


def refused(response, before) -> str:
    """A 400 in the API's one error body (a serializer's field errors and a service's refusal
    alike), nothing changed; returns where the first error is."""
    problems = refusal(response, 400)
    assert snapshot() == before
    assert problems
    return next(iter(problems))


@pytest.fixture
def planner(dense, api):
    client = api(dense.users["commander"])
    response = client.post(url("api-microgrids-preview"), {"low": 30, "high": 50}, format="json")
    assert response.status_code == 200, response.content
    return client, response.json()


def test_preview_with_barriers_as_a_string_is_refused(dense, api):
    client = api(dense.users["commander"])
    before = snapshot()
    response = client.post(url("api-microgrids-preview"), {"barriers": "road"}, format="json")
    assert refused(response, before).startswith("barriers")


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "rerun", "low": "abc"},
        {"op": "rerun", "low": [1]},
        {"op": "rerun", "low": 1.5},
        {"op": "rerun", "seed": "abc"},
        {"op": "rerun", "seed": -1},
        [{"op": "rerun"}],
        "rerun",
        {"op": "move_households", "households": [{"id": 1}], "to": 1},
    ],
    ids=[
        "low-abc",
        "low-list",
        "low-float",
        "seed-abc",
        "seed-negative",
        "operation-list",
        "operation-string",
        "household-object",
    ],
)
def test_bad_adjustments_are_refused(planner, operation):
    client, proposal = planner
    before = snapshot()
    response = client.post(
        url("api-microgrids-adjust"), {"proposal": proposal, "operation": operation}, format="json"
    )
    assert refused(response, before).startswith("operation")


def test_a_proposal_edited_to_wider_bounds_is_not_committed(planner):
    client, proposal = planner
    merged = client.post(
        url("api-microgrids-adjust"),
        {"proposal": proposal, "operation": {"op": "merge", "part": 1, "other": 2}},
        format="json",
    ).json()
    big = max(f["properties"]["households"] for f in merged["features"])
    assert big > 50 and not merged["all_in_bounds"]
    merged["high"] = 100
    before = snapshot()
    response = client.post(url("api-microgrids-commit"), {"proposal": merged}, format="json")
    assert refused(response, before) == "proposal.signature"


def test_a_proposal_edited_to_low_zero_is_not_committed(planner):
    client, proposal = planner
    proposal["low"] = 0
    before = snapshot()
    response = client.post(url("api-microgrids-commit"), {"proposal": proposal}, format="json")
    refused(response, before)


def test_a_proposal_edited_then_adjusted_is_not_re_signed(planner):
    client, proposal = planner
    proposal["high"] = 100
    before = snapshot()
    response = client.post(
        url("api-microgrids-adjust"),
        {"proposal": proposal, "operation": {"op": "lock", "part": 1}},
        format="json",
    )
    assert refused(response, before) == "proposal.signature"


def test_an_unedited_proposal_still_commits(planner):
    client, proposal = planner
    response = client.post(url("api-microgrids-commit"), {"proposal": proposal}, format="json")
    assert response.status_code == 201, response.content


# Arbitrary JSON, plus objects made of the keys these endpoints read, so that some examples
# get past the first checks.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "low",
    "high",
    "seed",
    "barriers",
    "start",
    "proposal",
    "operation",
    "op",
    "part",
    "other",
    "to",
    "area",
    "households",
    "unit",
    "commit",
    "min",
    "type",
    "features",
    "grid",
    "basis",
    "signature",
]
known = st.sampled_from(KEYS)
structured = st.recursive(
    scalars | st.sampled_from(["merge", "rerun", "move_households", "FeatureCollection"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(known, inner, max_size=6),
    max_leaves=16,
)
bodies = json_values | st.dictionaries(known, structured, max_size=6)

WRITE_ENDPOINTS = [
    ("api-microgrids-preview", [EAST]),
    ("api-microgrids-adjust", [EAST]),
    ("api-microgrids-commit", [EAST]),
    ("api-merge-small-grids", ["411381001001"]),
    ("api-microgrid-jobs", []),
]


@pytest.mark.parametrize(("name", "args"), WRITE_ENDPOINTS, ids=[n for n, _ in WRITE_ENDPOINTS])
def test_no_body_makes_a_write_endpoint_fail(territory, api, name, args):
    client = api(territory.users["commander"])
    target = reverse(name, args=args)

    @settings(
        max_examples=60,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies)
    def check(body):
        response = client.post(target, body, format="json")
        assert response.status_code < 500, (body, response.content)
        if response.status_code >= 400:
            assert_error_body(response.json())

    check()
