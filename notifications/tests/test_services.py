"""The outbox on the real database: a message is written with the step that causes it,
rendered in its recipient's language, delivered once through the backend, retried with backoff
when the gateway fails, dead when it refuses, and never sent twice (the fake gateway counts)."""

import datetime
import json
import logging
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.tests.queue import queue, queued_jobs  # noqa: F401
from notifications import services
from notifications.models import Message, Status
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
JOB = "notifications.tasks.message_deliver"


def sms(key="case:1:event:1:user:1:sms", **kwargs):
    kwargs.setdefault("address", PHONE)
    kwargs.setdefault("body", "你的诉求已受理")
    return services.message_enqueue(channel="sms", key=key, topic="case:1", **kwargs)


def deliver(message, now=None):
    return services.message_deliver(message_id=message.pk, now=now)


def test_a_message_is_written_with_its_delivery_job():
    message = sms()
    assert message.status == Status.PENDING and message.attempts == 0
    (job,) = queued_jobs(JOB)
    assert job["args"] == {"message_id": message.pk} and job["status"] == "todo"


def test_the_same_key_twice_is_one_message_and_one_job():
    first = sms(body="一")
    again = sms(body="二")
    assert again.pk == first.pk and again.body == "一"
    assert Message.objects.count() == 1
    assert len(queued_jobs(JOB)) == 1


@pytest.mark.parametrize(
    "language, expected",
    [
        ("zh-hans", "具有 编号 的 案件 已存在。"),
        ("en", "案件 with this 编号 already exists."),
    ],
)
def test_the_message_is_rendered_in_the_recipients_language(language, expected):
    # Django's own translated strings, so the test needs no catalogue of its own. Placeholders
    # are filled from `context` after translation (a lazy string formatted with % by the caller
    # would be rendered at once, in the caller's language).
    message = services.message_enqueue(
        channel="log",
        key=f"k-{language}",
        language=language,
        subject=_("This field is required."),
        body=_("%(model_name)s with this %(field_label)s already exists."),
        context={"model_name": "案件", "field_label": "编号"},
    )
    message.refresh_from_db()
    assert message.language == language and message.body == expected
    assert (
        message.subject
        == {"zh-hans": "该字段是必填项。", "en": "This field is required."}[language]
    )


def test_lazy_values_in_the_context_are_rendered_in_the_language_too():
    message = services.message_enqueue(
        channel="log",
        key="k",
        language="zh-hans",
        body="%(status)s (%(case)s)",
        context={"status": _("This field is required."), "case": 123},
    )
    assert message.body == "该字段是必填项。 (123)"


@pytest.mark.parametrize("language", ["fr", "", None])
def test_a_language_the_site_does_not_speak_falls_back_to_the_sites(settings, language):
    settings.LANGUAGE_CODE = "zh-hans"
    message = services.message_enqueue(
        channel="log", key="k", language=language, body=_("This field is required.")
    )
    assert message.language == "zh-hans" and message.body == "该字段是必填项。"


def test_the_recipients_own_language_is_used_when_the_caller_gives_none(settings):
    settings.LANGUAGE_CODE = "en"
    resident = UserFactory()
    resident.language = "zh-hans"  # what a user model with a language preference carries
    message = services.message_enqueue(
        channel="log", key="k", recipient=resident, body=_("This field is required.")
    )
    assert message.language == "zh-hans" and message.body == "该字段是必填项。"
    other = services.message_enqueue(
        channel="log", key="k2", recipient=UserFactory(), body=_("This field is required.")
    )
    assert other.language == "en" and other.body == "This field is required."


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"channel": "fax", "address": PHONE}, "channel"),
        ({"channel": "sms"}, "address"),
        ({"channel": "sms", "address": PHONE, "key": ""}, "key"),
        ({"channel": "sms", "address": PHONE, "key": "k" * 201}, "key"),
        ({"channel": "sms", "address": "1" * 255}, "address"),
        ({"channel": "log", "topic": "t" * 101}, "topic"),
        ({"channel": "log", "body": " "}, "body"),
        ({"channel": "log", "body": "%(missing)s", "context": {"case": 1}}, "context"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_written(kwargs, field):
    kwargs = {"key": "k", "body": "text", **kwargs}
    with pytest.raises(ValidationError) as refused:
        services.message_enqueue(**kwargs)
    assert field in refused.value.message_dict
    assert not Message.objects.exists() and not queued_jobs()


def test_an_email_goes_to_the_recipients_address_by_default(settings):
    settings.WANGGE_NOTIFICATION_BACKENDS = {
        **settings.WANGGE_NOTIFICATION_BACKENDS,
        "email": "notifications.backends.EmailBackend",
    }
    resident = UserFactory(email="zhang@example.gov.cn")
    message = services.message_enqueue(
        channel="email", key="k", recipient=resident, subject="主题", body="正文"
    )
    assert message.address == "zhang@example.gov.cn"
    assert deliver(message).status == Status.SENT
    (sent,) = mail.outbox
    assert sent.to == ["zhang@example.gov.cn"] and sent.subject == "主题" and sent.body == "正文"
    # A second copy (a crash between the SMTP server's yes and our record) shows as the same.
    assert sent.extra_headers["X-Wangge-Key"] == "k"
    assert sent.extra_headers["Message-ID"].startswith("<")


def test_the_log_backend_logs_the_address_masked(caplog):
    message = services.message_enqueue(channel="log", key="k", address=PHONE, body="正文")
    with caplog.at_level(logging.INFO, logger="notifications.backends"):
        assert deliver(message).status == Status.SENT
    assert "138****5678" in caplog.text and "正文" in caplog.text and PHONE not in caplog.text


def test_committed_message_is_delivered_once(gateway):
    message = sms()
    delivered = deliver(message)
    assert delivered.status == Status.SENT and delivered.sent_at is not None
    assert delivered.attempts == 1 and delivered.last_error == ""
    assert gateway.distinct == 1 and len(gateway.requests) == 1 and gateway.bad_signatures == 0
    assert gateway.messages[message.key] == {
        "to": PHONE,
        "text": "你的诉求已受理",
        "key": message.key,
    }
    assert gateway.requests[0]["headers"]["Idempotency-Key"] == message.key
    later = timezone.now() + datetime.timedelta(days=1)
    assert deliver(message, now=later) is None  # sent: a second job or the sweep leaves it alone
    assert services.messages_deliver_due(now=later) == []
    assert len(gateway.requests) == 1


def test_two_failures_then_the_third_attempt_delivers_with_backoff_recorded(gateway, settings):
    settings.WANGGE_NOTIFICATION_RETRY_BASE_S = 30
    gateway.fail_next(2, status=500)
    message = sms()
    t0 = timezone.now()

    first = deliver(message, now=t0)
    assert first.status == Status.FAILED and first.attempts == 1 and "500" in first.last_error
    assert t0 + datetime.timedelta(seconds=15) <= first.next_attempt_at
    assert first.next_attempt_at <= t0 + datetime.timedelta(seconds=30)
    # The retry has its own job, deferred to the next attempt.
    assert len(queued_jobs(JOB)) == 2
    assert deliver(message, now=t0 + datetime.timedelta(seconds=14)) is None  # not yet due
    assert len(gateway.requests) == 1

    t1 = first.next_attempt_at
    second = deliver(message, now=t1)
    assert second.status == Status.FAILED and second.attempts == 2
    assert t1 + datetime.timedelta(seconds=30) <= second.next_attempt_at
    assert second.next_attempt_at <= t1 + datetime.timedelta(seconds=60)  # the wait doubled

    third = deliver(message, now=second.next_attempt_at)
    assert third.status == Status.SENT and third.attempts == 3 and third.last_error == ""
    assert [r["key"] for r in gateway.requests] == [message.key] * 3
    assert gateway.distinct == 1 and gateway.duplicates == 0


def test_an_answer_lost_after_the_gateway_stored_it_is_not_a_second_text(gateway):
    gateway.drop_next(1)
    message = sms()
    lost = deliver(message)
    assert lost.status == Status.FAILED and "no answer" in lost.last_error
    assert gateway.distinct == 1  # the gateway has it; we could not know

    retried = deliver(message, now=lost.next_attempt_at)
    assert retried.status == Status.SENT and retried.attempts == 2
    assert [r["key"] for r in gateway.requests] == [message.key, message.key]
    assert gateway.distinct == 1 and gateway.duplicates == 1 and gateway.doubled_messages == 0


def test_a_gateway_too_slow_to_answer_is_tried_again_under_the_same_key(gateway, settings):
    settings.WANGGE_SMS_WEBHOOK_TIMEOUT_S = 0.2
    gateway.hold.clear()  # the gateway takes the request and answers too late
    message = sms()
    slow = deliver(message)
    assert slow.status == Status.FAILED and "no answer" in slow.last_error
    gateway.hold.set()  # it then stores the message, its answer going nowhere
    retried = deliver(message, now=slow.next_attempt_at)
    assert retried.status == Status.SENT and retried.attempts == 2
    assert gateway.distinct == 1 and gateway.doubled_messages == 0


def test_a_permanent_refusal_is_dead_at_once_and_never_retried(gateway):
    gateway.fail_next(1, status=400)
    message = sms()
    dead = deliver(message)
    assert dead.status == Status.DEAD and dead.attempts == 1 and "400" in dead.last_error
    assert len(queued_jobs(JOB)) == 1  # no retry job
    later = timezone.now() + datetime.timedelta(days=1)
    assert deliver(message, now=later) is None
    assert services.messages_deliver_due(now=later) == []
    assert len(gateway.requests) == 1 and gateway.distinct == 0


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_busy_or_broken_gateway_answers_are_retried(gateway, status):
    gateway.fail_next(1, status=status)
    message = sms()
    assert deliver(message).status == Status.FAILED
    assert deliver(message, now=timezone.now() + datetime.timedelta(hours=2)).status == Status.SENT


def test_a_wrong_secret_is_refused_by_the_gateway(gateway, settings):
    settings.WANGGE_SMS_WEBHOOK_SECRET = "not-the-gateways"
    message = deliver(sms())
    assert message.status == Status.DEAD and "401" in message.last_error
    assert gateway.bad_signatures == 1 and gateway.distinct == 0


def test_the_last_attempt_failing_makes_the_message_dead(gateway, settings):
    settings.WANGGE_NOTIFICATION_MAX_ATTEMPTS = 3
    gateway.fail_next(5, status=500)
    message = sms()
    now = timezone.now()
    for attempt in (1, 2, 3):
        message = deliver(message, now=now)
        assert message.attempts == attempt
        now = message.next_attempt_at
    assert message.status == Status.DEAD and "500" in message.last_error
    assert deliver(message, now=now + datetime.timedelta(days=1)) is None
    assert len(gateway.requests) == 3


def test_an_unconfigured_gateway_keeps_the_message_for_later(gateway, settings):
    settings.WANGGE_SMS_WEBHOOK_URL = ""
    message = deliver(sms())
    assert message.status == Status.FAILED and "WANGGE_SMS_WEBHOOK_URL" in message.last_error


def test_a_message_whose_worker_died_mid_send_is_sent_again_after_its_lease(gateway):
    message = sms()
    t0 = timezone.now()
    claimed = services._claim(message.pk, t0)  # the worker took it, then died
    assert claimed.status == Status.SENDING
    assert services.messages_deliver_due(now=t0 + datetime.timedelta(minutes=1)) == []
    assert services.messages_deliver_due(now=t0 + services.LEASE) == [message.pk]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2
    assert gateway.distinct == 1


def test_the_sweep_delivers_only_what_is_due(gateway):
    due, later = sms(key="due"), sms(key="later")
    Message.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert services.messages_deliver_due() == [due.pk]
    assert set(gateway.messages) == {"due"}


def test_requeue_gives_a_dead_message_another_round(gateway):
    gateway.fail_next(1, status=400)
    message = deliver(sms())
    assert message.status == Status.DEAD
    sent = sms(key="sent")
    deliver(sent)
    assert services.messages_requeue(messages=Message.objects.all()) == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 0
    assert deliver(message).status == Status.SENT
    assert gateway.distinct == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # the queue's tables are not flushed with the data
def test_enqueuing_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.message_enqueue(channel="log", key="k", body="text")
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # the queue's tables are not flushed with the data
def test_a_rolled_back_step_sends_nothing(gateway):
    class StepFailed(Exception):
        pass

    with pytest.raises(StepFailed), transaction.atomic():
        sms()
        raise StepFailed
    assert not Message.objects.exists() and not queued_jobs(JOB)
    assert services.messages_deliver_due() == []
    assert gateway.requests == []


def _in_thread(run):
    """`run()` on a connection of its own (a second worker), its result or exception."""
    outcome = {}

    def target():
        try:
            outcome["value"] = run()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # the queue's tables are not flushed with the data
def test_two_workers_at_once_send_it_once(gateway):
    with transaction.atomic():
        message = sms()
    gateway.hold.clear()  # the first worker's request waits at the gateway
    first, first_outcome = _in_thread(lambda: deliver(message))
    gateway.arrived.wait()
    # The second worker, on its own connection, finds the message claimed: nothing to do.
    assert deliver(message) is None
    gateway.hold.set()
    first.join()
    assert first_outcome["value"].status == Status.SENT
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1
    assert len(gateway.requests) == 1 and gateway.distinct == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # the queue's tables are not flushed with the data
def test_a_worker_skips_a_message_another_is_claiming_without_waiting(gateway):
    with transaction.atomic():
        message = sms()
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        with transaction.atomic():
            Message.objects.select_for_update().get(pk=message.pk)
            locked.set()
            release.wait()

    holder, outcome = _in_thread(hold_the_row)
    locked.wait()
    try:
        with transaction.atomic():
            # Without SKIP LOCKED the claim would wait for the other worker: fail instead.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            assert deliver(message) is None
    finally:
        release.set()
        holder.join()
    assert "error" not in outcome
    assert gateway.requests == []
    assert deliver(message).status == Status.SENT


def test_the_gateway_body_is_json_with_the_key():
    # The signature the gateway checks covers the timestamp and the exact body.
    from notifications.backends import sign

    body = json.dumps({"to": PHONE, "text": "短信", "key": "k"}, ensure_ascii=False).encode()
    assert sign("s", "1", body) != sign("s", "2", body) != sign("t", "1", body)
    assert sign("s", "1", body).startswith("sha256=") and len(sign("s", "1", body)) == 71


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # the queue's tables are not flushed with the data
def test_two_steps_enqueuing_the_same_key_at_once_write_one_message():
    written, release = threading.Event(), threading.Event()

    def first_step():
        with transaction.atomic():
            message = services.message_enqueue(channel="log", key="k", body="first")
            written.set()
            release.wait()
        return message

    first, first_outcome = _in_thread(first_step)
    written.wait()
    # The second step's insert waits on the first's uncommitted row, then finds it.
    second, second_outcome = _in_thread(
        lambda: _enqueue_in_transaction(channel="log", key="k", body="second")
    )
    _wait_until_blocked()
    release.set()
    first.join()
    second.join()
    assert "error" not in second_outcome, second_outcome.get("error")
    assert second_outcome["value"].pk == first_outcome["value"].pk
    assert Message.objects.get().body == "first"
    assert len(queued_jobs(JOB)) == 1


def _enqueue_in_transaction(**kwargs):
    with transaction.atomic():
        return services.message_enqueue(**kwargs)


def _wait_until_blocked():
    """Until another connection waits for a lock (the second insert on the first's key)."""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return


class RefusingMailServer:
    """Stands for a mail server that refuses the address (Django's EMAIL_BACKEND interface)."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"no such user")})


class DownMailServer(RefusingMailServer):
    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


@pytest.mark.parametrize(
    "server, status", [("RefusingMailServer", Status.DEAD), ("DownMailServer", Status.FAILED)]
)
def test_a_refused_address_is_dead_and_a_mail_server_down_is_retried(settings, server, status):
    settings.WANGGE_NOTIFICATION_BACKENDS = {"email": "notifications.backends.EmailBackend"}
    settings.EMAIL_BACKEND = f"notifications.tests.test_services.{server}"
    message = services.message_enqueue(channel="email", key="k", address="x@example.cn", body="b")
    assert deliver(message).status == status
