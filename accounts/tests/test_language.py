"""A logged-in user's language is kept with the user: the switcher stores it, the next login
(on any device) restores it, and their notifications are written in it."""

import pytest
from django.db import transaction
from django.test import Client
from django.utils.translation import gettext_lazy

from notifications.services import message_enqueue
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_switcher_stores_the_language_of_a_logged_in_user():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    answer = client.post("/i18n/setlang/", {"language": "en", "next": "/map/"})
    assert answer.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/map/"})
    user.refresh_from_db()
    assert user.language == "en"  # a language the site does not speak changes nothing


def test_an_anonymous_switch_stores_nothing_and_still_sets_the_cookie():
    answer = Client().post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert answer.status_code == 302 and answer.cookies["django_language"].value == "en"


def test_the_next_login_on_another_device_speaks_the_stored_language():
    user = UserFactory(username="li", language="en")
    user.set_password("pw")
    user.save()
    answer = Client().post("/login/", {"username": "li", "password": "pw"})
    assert answer.status_code == 302
    assert answer.cookies["django_language"].value == "en"
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page.post("/login/", {"username": "li", "password": "pw"})
    assert 'lang="en"' in page.get("/map/").content.decode()


def test_notifications_are_written_in_the_recipients_language():
    english, chinese = UserFactory(language="en"), UserFactory(language="zh-hans")
    body = gettext_lazy("Log out")
    with transaction.atomic():
        to_english = message_enqueue(channel="log", key="a", body=body, recipient=english)
        to_chinese = message_enqueue(channel="log", key="b", body=body, recipient=chinese)
    assert (to_english.language, to_english.body) == ("en", "Log out")
    assert (to_chinese.language, to_chinese.body) == ("zh-hans", "退出")
