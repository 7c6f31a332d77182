"""The outbox in the admin: read only, addresses masked even for superusers, filtered by status
and channel, and dead messages re-queued only by staff who hold the permission."""

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse

from core.tests.queue import queued_jobs
from notifications import services
from notifications.models import Message, Status
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:notifications_message_changelist")
PHONE, EMAIL = "13812345678", "zhang.san@example.gov.cn"


def staff(*codenames, superuser=False, user=None):
    user = user or UserFactory(is_staff=True, is_superuser=superuser)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reader():
    """The staff member the outbox's messages are sent to: staff read their own messages."""
    return UserFactory(is_staff=True)


@pytest.fixture
def outbox(reader):
    with transaction.atomic():
        sms = services.message_enqueue(
            channel="sms", key="sms", address=PHONE, body="短信", recipient=reader
        )
        email = services.message_enqueue(
            channel="email", key="email", address=EMAIL, body="邮件", recipient=reader
        )
    Message.objects.filter(pk=sms.pk).update(status=Status.DEAD, attempts=8, last_error="500")
    return {"sms": sms, "email": email}


def test_the_list_masks_every_address_even_for_a_superuser(outbox):
    text = staff(superuser=True).get(LIST).content.decode()
    assert "138****5678" in text and "z********@example.gov.cn" in text
    assert PHONE not in text and EMAIL not in text
    detail = staff(superuser=True).get(
        reverse("admin:notifications_message_change", args=[outbox["sms"].pk])
    )
    assert detail.status_code == 200
    assert "138****5678" in detail.content.decode() and PHONE not in detail.content.decode()


def test_the_list_filters_by_status_and_channel(outbox, reader):
    client = staff("view_message", user=reader)
    dead = client.get(LIST, {"status__exact": "dead"})
    assert dead.status_code == 200 and list(dead.context["cl"].result_list) == [outbox["sms"]]
    email = client.get(LIST, {"channel__exact": "email"})
    assert list(email.context["cl"].result_list) == [outbox["email"]]


def test_the_outbox_cannot_be_edited_added_or_deleted(outbox):
    client = staff("view_message", "change_message", "add_message", "delete_message")
    assert client.get(reverse("admin:notifications_message_add")).status_code == 403
    change = reverse("admin:notifications_message_change", args=[outbox["sms"].pk])
    client.post(change, {"body": "改了"})
    outbox["sms"].refresh_from_db()
    assert outbox["sms"].body == "短信"
    delete = reverse("admin:notifications_message_delete", args=[outbox["sms"].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def requeue(client, *messages):
    return client.post(
        LIST,
        {"action": "requeue", "_selected_action": [m.pk for m in messages], "index": 0},
        follow=True,
    )


def test_staff_with_the_permission_requeue_dead_messages(outbox, reader):
    jobs_before = len(queued_jobs())
    client = staff("view_message", "requeue_message", user=reader)
    answer = requeue(client, outbox["sms"], outbox["email"])
    assert answer.status_code == 200
    assert "1 dead message re-queued." in answer.content.decode()
    outbox["sms"].refresh_from_db()
    assert outbox["sms"].status == Status.PENDING and outbox["sms"].attempts == 0
    assert len(queued_jobs()) == jobs_before + 1  # its delivery job, not the sent one's


def test_staff_without_the_permission_cannot_requeue(outbox, reader):
    client = staff("view_message", user=reader)
    assert "requeue" not in client.get(LIST).content.decode()
    requeue(client, outbox["sms"])
    outbox["sms"].refresh_from_db()
    assert outbox["sms"].status == Status.DEAD


def test_the_outbox_speaks_chinese(outbox):
    client = staff(superuser=True)
    page = client.get(LIST, {"status__exact": "dead"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "已失效" in text and "重新发送所选的失效消息" in text


def test_staff_see_the_messages_of_the_cases_they_may_see_and_no_others(territory):
    from cases.tests.test_services import report
    from territory.services import role_assign

    case = report(territory)  # in village 411381001001: its SMS to the resident is queued
    officer = territory.users["village_officer"]
    elsewhere = UserFactory(is_staff=True)
    role_assign(user=elsewhere, role="commander", unit_code="411381101")
    stranger = services.message_enqueue(channel="log", key="other", body="别人的", recipient=None)
    for user in (officer, elsewhere):
        user.is_staff = True
        user.save()

    def listed(user):
        answer = staff("view_message", user=user).get(LIST)
        assert answer.status_code == 200
        return {m.pk for m in answer.context["cl"].result_list}

    case_messages = set(
        Message.objects.filter(topic=f"case:{case.pk}").values_list("pk", flat=True)
    )
    assert case_messages
    assert listed(officer) == case_messages
    assert listed(elsewhere) == set()
    assert stranger.pk in listed(territory.users["admin"])
    # A message's own page answers 404-like (the admin's "does not exist" redirect) out of scope.
    detail = staff("view_message", user=elsewhere).get(
        reverse("admin:notifications_message_change", args=[min(case_messages)])
    )
    assert detail.status_code == 302
