"""Scheduled boundary changes on the task queue, run by the real worker on the real database:
each change's job is deferred to its instant with its row, and the minute sweep applies a due
change whose job was lost."""

import datetime

import pytest
import shapely
from django.db import connection
from django.utils import timezone

from core.tests.queue import queue, queued_jobs, run_worker  # noqa: F401
from territory import tasks
from territory.models import Household, ScheduledChange, Unit
from territory.services import boundaries_import
from territory.tests.test_services import feature

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("queue")]

A1B = "411381001001002"
JOB = "territory.tasks.scheduled_change_apply"


def schedule(valid_from, now):
    return boundaries_import(
        features=[feature(0, A1B, shapely.box(112.05, 32.6, 112.1, 32.7), name="新")],
        level="grid",
        parent_code="411381001001",
        replace=True,
        valid_from=valid_from,
        now=now,
    ).scheduled


def test_the_sweep_runs_every_minute():
    from procrastinate.contrib.django import app

    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons["territory.tasks.apply_due_changes"] == "* * * * *"


def test_a_change_is_queued_for_its_instant(territory):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    change = schedule(tomorrow, timezone.now())
    (job,) = queued_jobs(JOB)
    assert job["args"] == {"change_id": change.pk} and job["status"] == "todo"
    with connection.cursor() as cursor:
        cursor.execute("SELECT scheduled_at FROM procrastinate_jobs WHERE id = %s", [job["id"]])
        assert cursor.fetchone()[0] == change.effective_at
    run_worker()  # not due: the worker leaves it and the units alone
    assert queued_jobs(JOB)[0]["status"] == "todo"
    assert Unit.objects.filter(code=A1B).count() == 1


def test_the_worker_applies_a_change_whose_instant_has_come(territory):
    # Scheduled an hour ago (as the clock then said) for a moment that has now passed.
    instant = timezone.now()
    change = schedule(instant, instant - datetime.timedelta(hours=1))
    assert Unit.objects.filter(code=A1B).count() == 1
    run_worker()
    change.refresh_from_db()
    assert change.status == ScheduledChange.Status.APPLIED
    current = Unit.objects.current().get(code=A1B)
    assert current.valid_from == instant and current.name == "新"
    household = Household.objects.get(pk=territory.households["A1b"].pk)
    assert household.grid == current
    assert queued_jobs(JOB)[0]["status"] == "succeeded"


def test_the_sweep_applies_a_due_change_whose_job_was_lost(territory):
    instant = timezone.now()
    change = schedule(instant, instant - datetime.timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s", [JOB])
    tasks.apply_due_changes.defer(timestamp=0)  # what the periodic deferrer does each minute
    run_worker()
    change.refresh_from_db()
    assert change.status == ScheduledChange.Status.APPLIED
    assert Unit.objects.filter(code=A1B).count() == 2
