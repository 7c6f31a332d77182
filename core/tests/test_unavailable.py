"""A database that is down, or a statement that runs out of time, answers 503 with a reason:
JSON for API clients, a page for people, never Django's HTML 500."""

import json
import socket
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from core.middleware import RequestDeadlineMiddleware
from core.tests.errors import assert_error_body


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def database_down(transactional_db):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())
    connection.settings_dict["HOST"] = "127.0.0.1"
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def test_api_answers_503_json_when_the_database_is_down(territory, database_down):
    client = APIClient()
    client.force_authenticate(territory.users["commander"])
    response = client.get("/api/units/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "service_unavailable"
    assert "database is unavailable" in response.json()["detail"]
    assert_error_body(response.json())
    assert response["Retry-After"]


def test_a_page_answers_503_when_the_session_cannot_be_read(territory, database_down):
    # The session is read by middleware, before any view: the handler500 path.
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/map/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    api = Client(raise_request_exception=False)
    api.cookies["sessionid"] = "x" * 32
    response = api.get("/api/households/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_is_a_503_with_its_reason(territory):
    client = APIClient()
    client.force_authenticate(territory.users["commander"])
    with connection.cursor() as cursor:
        cursor.execute("set statement_timeout = 1")
        cursor.execute("set lock_timeout = 0")
    # A table locked by another connection: the unit list waits, then the statement stops.
    import psycopg

    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    try:
        other.execute("begin; lock table territory_unit in access exclusive mode")
        response = client.get("/api/units/")
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("reset statement_timeout")
    assert response.status_code == 503
    assert "too long" in response.json()["detail"]


def test_unknown_errors_stay_500_but_as_json_for_the_api(rf):
    from core.errors import server_error

    request = rf.get("/api/units/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert_error_body(json.loads(response.content))
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503


def test_the_request_deadline_stops_python_bound_work(rf, settings):
    settings.WANGGE_REQUEST_TIMEOUT_S = 0.2

    def slow_view(request):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # busy, like a partition search
            pass
        raise AssertionError("the deadline did not fire")

    response = RequestDeadlineMiddleware(slow_view)(rf.get("/api/grids/"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert_error_body(json.loads(response.content))


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/households/-1/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_error_body(response.json())
    assert "html" in client.get("/no-such-page/")["Content-Type"]


def test_a_raw_psycopg_outage_is_a_503_too():
    import psycopg

    from core.middleware import unavailable_reason

    assert "unavailable" in unavailable_reason(
        psycopg.OperationalError("server closed the connection unexpectedly")
    )
    assert unavailable_reason(psycopg.errors.UniqueViolation("a bug, not an outage")) is None


@pytest.mark.django_db
def test_a_request_django_refuses_before_any_view_is_a_json_400_for_the_api(client):
    response = client.get("/api/units/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert_error_body(response.json())
    assert "html" in client.get("/map/", HTTP_HOST="evil.example")["Content-Type"]
