"""Login throttling (django-axes) on the login form and on the API's HTTP Basic auth, and Basic
auth off the API unless WANGGE_API_BASIC_AUTH turns it on."""

import base64
import logging

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.tests.errors import assert_error_body
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw"  # territory.tests.factories.UserFactory
HERE = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@pytest.fixture
def worker(db):
    return UserFactory(username="grid_worker")


def log_in(client, username, password, address=HERE, language="en"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def basic(username, password) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def api_get(username, password, address=HERE):
    return APIClient().get(
        reverse("api-units"), HTTP_AUTHORIZATION=basic(username, password), REMOTE_ADDR=address
    )


# --- the login form -------------------------------------------------------------------------


def test_the_right_password_still_works_after_a_few_typos(client, worker):
    for _ in range(4):
        assert log_in(client, "grid_worker", "wrong").status_code == 200
    assert log_in(client, "grid_worker", PASSWORD).status_code == 302
    assert logged_in(client)


def test_five_wrong_passwords_lock_the_account_with_a_translated_page(client, worker):
    for _ in range(5):
        log_in(client, "grid_worker", "wrong")
    response = log_in(client, "grid_worker", PASSWORD, language="zh-hans")
    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert "登录已锁定" in page and "15 分钟后再试" in page
    assert 'class="topbar"' in page  # in the site's frame, not axes' bare text
    assert response["Retry-After"] == str(15 * 60)


def test_the_account_stays_locked_from_another_address(client, worker):
    for _ in range(5):
        log_in(client, "grid_worker", "wrong")
    assert log_in(client, "grid_worker", PASSWORD, address=ELSEWHERE).status_code == 429


def test_other_accounts_of_the_same_office_address_still_log_in(client, worker):
    UserFactory(username="officer")
    for _ in range(5):
        log_in(client, "grid_worker", "wrong")
    assert log_in(client, "officer", PASSWORD).status_code == 302


@override_settings(WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT=8)
def test_an_address_guessing_over_many_accounts_is_locked(client, db):
    for n in range(8):
        UserFactory(username=f"victim{n}")
        log_in(client, f"victim{n}", "wrong")
    UserFactory(username="officer")
    assert log_in(client, "officer", PASSWORD).status_code == 429
    assert log_in(client, "officer", PASSWORD, address=ELSEWHERE).status_code == 302


def test_failures_and_the_lockout_are_logged(client, worker, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(5):
            log_in(client, "grid_worker", "wrong")
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert any("login failure" in m for m in messages)
    assert any("Locking out" in m and "grid_worker" in m and HERE in m for m in messages)


# --- HTTP Basic auth on the API -------------------------------------------------------------


@override_settings(WANGGE_API_BASIC_AUTH=True)
def test_basic_auth_when_turned_on_lets_a_machine_client_in(worker):
    assert api_get("grid_worker", PASSWORD).status_code == 200


@override_settings(WANGGE_API_BASIC_AUTH=True)
def test_failed_basic_auth_answers_401_with_a_challenge(worker):
    response = api_get("grid_worker", "wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@override_settings(WANGGE_API_BASIC_AUTH=True)
def test_basic_auth_is_throttled_with_429_json(worker):
    for _ in range(4):
        assert api_get("grid_worker", "wrong").status_code == 401
    assert api_get("grid_worker", "wrong").status_code == 429  # the fifth failure locks
    response = api_get("grid_worker", PASSWORD)
    assert response.status_code == 429
    assert "try again in 15 minutes" in response.json()["detail"]
    assert_error_body(response.json())
    assert response["Retry-After"] == str(15 * 60)
    assert api_get("grid_worker", PASSWORD, address=ELSEWHERE).status_code == 429


@override_settings(WANGGE_API_BASIC_AUTH=True)
def test_the_form_and_basic_auth_share_one_count(client, worker):
    for _ in range(5):
        log_in(client, "grid_worker", "wrong")
    assert api_get("grid_worker", PASSWORD).status_code == 429


@pytest.mark.parametrize("basic_auth", [False, True])
def test_without_credentials_the_api_answers_403_in_both_states(worker, basic_auth):
    with override_settings(WANGGE_API_BASIC_AUTH=basic_auth):
        response = APIClient().get(reverse("api-units"))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


def test_basic_auth_is_off_by_default(worker, settings):
    assert settings.WANGGE_API_BASIC_AUTH is False
    response = api_get("grid_worker", PASSWORD)
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
