"""Notifications on the task queue, run by the real worker on the real database: a committed
message is delivered once by its job, a rolled-back one never, and one whose job was never
deferred (the process died between the commit and the queue) or was lost is delivered by the
minute sweep, once."""

import pytest
from django.db import connection, transaction

from core.tests.queue import queue, queued_jobs, run_worker  # noqa: F401
from notifications import services, tasks
from notifications.models import Message, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("queue")]

JOB = "notifications.tasks.message_deliver"


def enqueue(key="case:9:event:1:user:3:sms"):
    with transaction.atomic():
        return services.message_enqueue(
            channel="sms", key=key, address="13812345678", body="请于今日处理", topic="case:9"
        )


def test_the_sweep_runs_every_minute():
    from procrastinate.contrib.django import app

    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons["notifications.tasks.deliver_due_messages"] == "* * * * *"


def test_the_worker_delivers_a_committed_message_once(gateway):
    message = enqueue()
    run_worker()
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1
    assert gateway.distinct == 1 and len(gateway.requests) == 1
    assert queued_jobs(JOB)[0]["status"] == "succeeded"
    tasks.deliver_due_messages.defer(timestamp=0)  # the next minute's sweep: nothing left
    run_worker()
    assert len(gateway.requests) == 1


def test_a_rolled_back_step_gives_the_worker_nothing_to_send(gateway):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.message_enqueue(channel="sms", key="k", address="13812345678", body="x")
        1 / 0  # noqa: B018 - the step fails after its message was written
    tasks.deliver_due_messages.defer(timestamp=0)
    run_worker()
    assert not Message.objects.exists() and gateway.requests == []


def test_the_sweep_delivers_a_message_whose_job_was_never_deferred(gateway):
    message = enqueue()
    # As if the process had died between the commit and the job reaching the queue.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s", [JOB])
    tasks.deliver_due_messages.defer(timestamp=0)  # what the periodic deferrer does each minute
    run_worker()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert gateway.distinct == 1 and len(gateway.requests) == 1


def test_a_failed_attempt_is_queued_again_for_its_next_attempt(gateway):
    gateway.fail_next(1, status=500)
    message = enqueue()
    run_worker()
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 1
    retry = queued_jobs(JOB)[-1]
    assert retry["status"] == "todo" and retry["args"] == {"message_id": message.pk}
    with connection.cursor() as cursor:
        cursor.execute("SELECT scheduled_at FROM procrastinate_jobs WHERE id = %s", [retry["id"]])
        assert cursor.fetchone()[0] == message.next_attempt_at
