"""Every error answer of the API, whatever the app and the status, is the one body of
core.api_errors: {"detail", "code", "errors": [{"where", "message", "code"?, "location"?}]}."""

import base64
import io
import uuid

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.tests.errors import refusal

pytestmark = pytest.mark.django_db

WEST, EAST, OUTSIDE = "411381001001001", "411381001001002", "411381101201001"
SQUARE = [[[112.1, 32.6], [112.11, 32.6], [112.11, 32.61], [112.1, 32.61], [112.1, 32.6]]]


def _import(client, level="grid", geometry=SQUARE, **extra):
    feature = {
        "type": "Feature",
        "properties": {"code": "411381101201002", "name": "新网格"},
        "geometry": {"type": "Polygon", "coordinates": geometry},
    }
    body = {
        "level": level,
        "parent_code": "411381101201",
        "features": {"type": "FeatureCollection", "features": [feature]},
    }
    return client.post(reverse("api-units-import"), body | extra, format="json")


def _incident(client, **extra):
    data = {"id": str(uuid.uuid4()), "item": "0401", "lon": 112.02, "lat": 32.62} | extra
    return client.post(reverse("api-incidents"), data, format="multipart")


def _household(territory):
    return reverse("api-household", args=[territory.households["A1a-south"].pk])


def _basic(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient(HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR="10.0.0.9")


def _locked_out(territory, api, settings):
    with override_settings(WANGGE_API_BASIC_AUTH=True):
        for _ in range(5):
            _basic("grid_worker", "wrong").get(reverse("api-units"))
        return _basic("grid_worker", "pw").get(reverse("api-units"))


def _failed_basic(territory, api, settings):
    with override_settings(WANGGE_API_BASIC_AUTH=True):
        return _basic("grid_worker", "wrong").get(reverse("api-units"))


def _stale_body_version(territory, api, settings):
    client = api(territory.users["village_officer"])
    client.patch(_household(territory), {"members": 5, "version": 1}, format="json")
    return client.patch(_household(territory), {"members": 7, "version": 1}, format="json")


def _incident_id_reused(territory, api, settings):
    key = str(uuid.uuid4())
    _incident(api(territory.users["grid_worker"]), id=key)
    return _incident(api(territory.users["grid_chief"]), id=key)


def _form_too_large(territory, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    return _incident(api(territory.users["grid_worker"]), description="描述" * 1000)


def _photo_too_large(territory, api, settings):
    big = io.BytesIO(b"\x89PNG" + b"\0" * (10 * 2**20 + 1))
    big.name = "big.png"
    return _incident(api(territory.users["grid_worker"]), photos=[big])


# (id, request, status, code, where: a field the problems must name, or None for no problems)
CASES = [
    # 400: a body that fails its serializer, in each app
    (
        "territory-serializer",
        lambda t, api, s: _import(api(t.users["commander"]), level="hamlet"),
        400,
        "invalid",
        "level",
    ),
    (
        "microgrids-serializer",
        lambda t, api, s: api(t.users["commander"]).post(
            reverse("api-microgrids-preview", args=[EAST]), {"low": "abc"}, format="json"
        ),
        400,
        "invalid",
        "low",
    ),
    (
        "microgrids-nested-serializer",
        lambda t, api, s: api(t.users["commander"]).post(
            reverse("api-microgrids-adjust", args=[EAST]),
            {"proposal": {"type": "FeatureCollection"}, "operation": {"op": "rerun", "low": 0}},
            format="json",
        ),
        400,
        "invalid",
        "operation.low",
    ),
    (
        "patrols-serializer",
        lambda t, api, s: api(t.users["grid_worker"]).post(
            reverse("api-patrol-tracks"), {"fixes": []}, format="json"
        ),
        400,
        "invalid",
        "client_id",
    ),
    (
        "territory-query-parameter",
        lambda t, api, s: api(t.users["commander"]).get(reverse("api-units"), {"crs": "x"}),
        400,
        "invalid",
        "crs",
    ),
    (
        "parse-error",
        lambda t, api, s: api(t.users["commander"]).generic(
            "POST", reverse("api-units-import"), b"{not json", content_type="application/json"
        ),
        400,
        "parse_error",
        None,
    ),
    # 400: a service's refusal, in each app
    (
        "territory-malformed-feature",
        lambda t, api, s: _import(api(t.users["commander"]), geometry="x"),
        400,
        "invalid",
        "feature 0 (411381101201002).geometry",  # the file's first feature, named by its code
    ),
    (
        "territory-service",
        lambda t, api, s: api(t.users["village_officer"]).post(
            reverse("api-households"),
            {"lon": 112.15, "lat": 32.65, "address": "a", "head_name": "b"},
            format="json",
        ),
        400,
        "invalid",
        "location",
    ),
    (
        "microgrids-service",
        lambda t, api, s: api(t.users["commander"]).post(
            reverse("api-microgrids-preview", args=[EAST]), {"start": "current"}, format="json"
        ),
        400,
        "invalid",
        "start",
    ),
    (
        "patrols-service",
        lambda t, api, s: _incident(api(t.users["grid_worker"]), lon=112.15, lat=32.65),
        400,
        "invalid",
        "location",
    ),
    # 401, 403
    ("failed-basic-auth", _failed_basic, 401, "authentication_failed", None),
    (
        "not-logged-in",
        lambda t, api, s: api(None).get(reverse("api-units")),
        403,
        "not_authenticated",
        None,
    ),
    (
        "territory-role",
        lambda t, api, s: _import(api(t.users["village_officer"])),
        403,
        "permission_denied",
        None,
    ),
    (
        "patrols-role",
        lambda t, api, s: _incident(api(t.users["resident"])),
        403,
        "permission_denied",
        "role",
    ),
    # 404: outside one's territory, in each app, and no such route
    (
        "territory-outside",
        lambda t, api, s: api(t.users["township_commander"]).get(
            reverse("api-unit", args=[OUTSIDE])
        ),
        404,
        "not_found",
        None,
    ),
    (
        "microgrids-outside",
        lambda t, api, s: api(t.users["township_commander"]).post(
            reverse("api-microgrids-preview", args=[OUTSIDE]), {}, format="json"
        ),
        404,
        "not_found",
        None,
    ),
    (
        "patrols-outside",
        lambda t, api, s: api(t.users["grid_worker"]).get(
            reverse("api-patrol-due"), {"grid": OUTSIDE}
        ),
        404,
        "not_found",
        None,
    ),
    (
        "no-route",
        lambda t, api, s: api(t.users["commander"]).get("/api/no-such-thing/"),
        404,
        "not_found",
        None,
    ),
    # 405, 406, 415
    (
        "method",
        lambda t, api, s: api(t.users["commander"]).delete(reverse("api-units")),
        405,
        "method_not_allowed",
        None,
    ),
    (
        "accept",
        lambda t, api, s: api(t.users["commander"]).get(
            reverse("api-units"), HTTP_ACCEPT="application/xml"
        ),
        406,
        "not_acceptable",
        None,
    ),
    (
        "media-type",
        lambda t, api, s: api(t.users["commander"]).generic(
            "POST", reverse("api-units-import"), b"level=grid", content_type="text/plain"
        ),
        415,
        "unsupported_media_type",
        None,
    ),
    # 409, 412, 428
    ("territory-stale", _stale_body_version, 409, "stale", "version"),
    ("patrols-conflict", _incident_id_reused, 409, "conflict", "id"),
    (
        "precondition-required",
        lambda t, api, s: api(t.users["village_officer"]).patch(
            _household(t), {"members": 7}, format="json"
        ),
        428,
        "precondition_required",
        "If-Match",
    ),
    (
        "precondition-failed",
        lambda t, api, s: api(t.users["village_officer"]).patch(
            _household(t), {"members": 7}, format="json", HTTP_IF_MATCH="3"
        ),
        412,
        "precondition_failed",
        "If-Match",
    ),
    # 413: too large while the form is parsed, and a photo over its limit
    ("form-too-large", _form_too_large, 413, "too_large", ""),
    ("photo-too-large", _photo_too_large, 413, "too_large", "photos"),
    # 429
    ("login-locked-out", _locked_out, 429, "login_locked_out", None),
]


@pytest.mark.parametrize(
    ("request_", "status", "code", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_error_answer_has_the_one_body(
    territory, api, settings, request_, status, code, where
):
    response = request_(territory, api, settings)
    problems = refusal(response, status, code)
    if where is None:
        assert problems == {}, problems
    else:
        assert where in problems, problems
    if status == 429:
        assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("tag", ['"²"', '"٣"', '"3x"', "3"])
def test_an_if_match_python_cannot_read_as_a_number_is_refused_not_a_500(territory, api, tag):
    answer = api(territory.users["village_officer"]).patch(
        _household(territory), {"members": 7}, format="json", HTTP_IF_MATCH=tag
    )
    assert answer.status_code in (412, 428), answer.content
