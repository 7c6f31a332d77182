"""/healthz for monitoring, and the API root."""

import pytest
from django.db import connection
from django.urls import reverse

from core import views

pytestmark = pytest.mark.django_db

KEYS = {"database", "migrations", "worker", "status"}


@pytest.fixture(autouse=True)
def fresh_migration_check(monkeypatch):
    monkeypatch.setattr(views, "_migrations_applied", False)


def add_worker(heartbeat_age: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - %s::interval)",
            [heartbeat_age],
        )


def test_healthy_with_a_live_worker_without_login(client, django_assert_max_num_queries):
    add_worker("2 seconds")
    add_worker("2 hours")  # a dead one beside it does not matter
    with django_assert_max_num_queries(4):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "migrations": "ok", "worker": "ok", "status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    with django_assert_max_num_queries(2):  # once all are applied, migrations are not re-read
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(("workers", "state"), [([], "none"), (["1 hour"], "stale")])
def test_no_live_worker_is_degraded(client, workers, state):
    for age in workers:
        add_worker(age)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "migrations": "ok",
        "worker": state,
        "status": "degraded",
    }


def test_a_pending_migration_is_degraded(client):
    add_worker("0 seconds")
    with connection.cursor() as cursor:
        # the last one applied: a leaf, as after deploying code with a new migration
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
        )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending" and response.json()["status"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_in_json(client):
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"  # nothing listens there: a real failed connection
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json() == {
        "database": "error",
        "migrations": "unknown",
        "worker": "unknown",
        "status": "degraded",
    }


def test_api_root_lists_the_endpoints_for_a_login(territory, api):
    assert api(None).get("/api/").status_code == 403
    response = api(territory.users["grid_worker"]).get("/api/")
    assert response.status_code == 200
    endpoints = response.json()
    assert endpoints["units"] == "http://testserver/api/units/"
    assert endpoints["microgrid-jobs"] == "http://testserver/api/microgrid-jobs/"
    assert endpoints["incidents"] == "http://testserver/api/incidents/"
    assert endpoints["schema"] == "http://testserver/api/schema/"
    assert all("<" not in url and "{" not in url for url in endpoints.values())
    assert "root" not in endpoints and "healthz" not in endpoints


def test_api_root_is_in_the_schema(client):
    schema = client.get(reverse("schema")).content.decode()
    assert "\n  /api/:\n" in schema
