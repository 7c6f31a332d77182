"""The API answers as its OpenAPI schema says: schemathesis generates requests for every
operation from /api/schema/ and checks each answer's status, content type and body against the
schema (error answers against its one Error body), and that none is a server error. As a
superuser and as a grid worker, over the real PostGIS territory of conftest.py, with a few
derandomized examples per operation."""

import base64

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.tests.errors import assert_error_body

pytestmark = pytest.mark.django_db

ERROR_STATUSES_SEEN = []


@schemathesis.check
def error_answers_are_the_one_error_body(ctx, response, case):
    """The schema's Error, checked also where a view's own declaration could hide it."""
    if response.status_code >= 400:
        ERROR_STATUSES_SEEN.append(response.status_code)
        assert_error_body(response.json())


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_answers_are_the_one_error_body,
]
MAX_EXAMPLES = 6
PASSWORD = "pw"  # territory.tests.factories.UserFactory


def _basic(username):
    return "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()


def _known_objects(territory, path) -> dict:
    """Path parameters naming objects that exist, so the checks reach past the 404."""
    if path.startswith("/api/households/"):
        return {"id": territory.households["A1a-south"].pk}
    if path.startswith(("/api/units/", "/api/grids/")):
        return {"code": "411381001001001"}
    if path.startswith("/api/cases/"):
        from cases.models import Case
        from cases.services import case_report

        case = Case.objects.first() or case_report(
            user=territory.users["admin"], item="0201", lon=112.02, lat=32.62
        )
        return {"id": case.pk, "pk": case.pk}
    return {}


def _exercise(operation, *, headers, path_parameters=None):
    parameters = {
        name: value
        for name, value in (path_parameters or {}).items()
        if name in {p.name for p in operation.path_parameters}
    }
    strategy = operation.as_strategy(headers=headers, path_parameters=parameters or None)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(checks=CHECKS, headers=headers)

    run()


@pytest.fixture
def wsgi_app(territory):
    """The project's WSGI app, in this thread: it sees the test's transaction, as long as it
    does not close the connection after each request (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ["admin", "grid_worker"])
@override_settings(WANGGE_API_BASIC_AUTH=True)
def test_every_operation_answers_as_the_schema_says(territory, wsgi_app, role):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    ERROR_STATUSES_SEEN.clear()
    # Basic auth: a session would need a CSRF token on every write, and refuse them all (403).
    headers = {"Authorization": _basic(role)}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        known = _known_objects(territory, operation.path)
        for path_parameters in (None, known) if known and operation.path_parameters else (None,):
            try:
                _exercise(operation, headers=headers, path_parameters=path_parameters)
            # schemathesis' FailureGroup is a BaseExceptionGroup: collected, reported together.
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
                failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    # Not vacuous: generated requests were refused with 400 and 404 (at least) and checked.
    assert {400, 404} <= set(ERROR_STATUSES_SEEN), sorted(set(ERROR_STATUSES_SEEN))


def test_every_error_answer_is_documented_as_the_one_error_body(territory, api):
    schema = api(territory.users["admin"]).get("/api/schema/", {"format": "json"}).json()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answers = [
        (path, method, status, response.get("content"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert answers and all(content == error for *_, content in answers), [
        a for a in answers if a[3] != error
    ]
    statuses = {
        status for path, method, status, _ in answers if (path, method) == ("/api/units/", "get")
    }
    assert {"400", "401", "403", "404", "406", "429", "503"} <= statuses
    for old in ("ErrorDetail", "NothingWritten", "ValidationErrors"):
        assert old not in schema["components"]["schemas"]
