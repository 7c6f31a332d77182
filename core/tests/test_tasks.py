"""The task queue's housekeeping, run by the real worker on the real database: a job whose
worker died is retried, or failed once its retries are spent; a live worker's job is left be."""

import pytest
from django.conf import settings

from core import tasks
from core.tests.queue import queue, queued_jobs, run_worker, simulate_dead_worker  # noqa: F401

# `queue` (imported above): the worker's tables emptied around each test

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("queue")]


def test_the_sweep_runs_every_minute_and_shares_the_workers_stall_timeout():
    from procrastinate.contrib.django import app

    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons["core.tasks.sweep_stalled_jobs"] == "* * * * *"
    worker = settings.PROCRASTINATE_WORKER_DEFAULTS
    assert tasks.stalled_after_seconds() == worker["stalled_worker_timeout"]
    assert worker["update_heartbeat_interval"] < worker["stalled_worker_timeout"]


def test_a_job_whose_worker_died_is_run_again():
    tasks.forget_old_jobs.defer(timestamp=0)
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    simulate_dead_worker(job["id"])
    tasks.sweep_stalled_jobs.defer(timestamp=0)
    run_worker()  # the sweep puts the job back in the queue, and this same worker runs it
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    assert job["status"] == "succeeded" and job["attempts"] == 2
    # (the worker's periodic deferrer may have queued a sweep of its own meanwhile)
    sweeps = queued_jobs("core.tasks.sweep_stalled_jobs")
    assert sweeps and all(sweep["status"] == "succeeded" for sweep in sweeps)


def test_a_job_that_keeps_losing_its_worker_ends_failed():
    tasks.forget_old_jobs.defer(timestamp=0)
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    simulate_dead_worker(job["id"], attempts=tasks.STALLED_RETRIES)
    tasks.sweep_stalled_jobs.defer(timestamp=0)
    run_worker()
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    assert job["status"] == "failed" and job["attempts"] == tasks.STALLED_RETRIES + 1


def test_a_job_of_a_live_worker_is_left_alone():
    tasks.forget_old_jobs.defer(timestamp=0)
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    simulate_dead_worker(job["id"], silent_for="1 second")  # it beat a second ago: alive
    tasks.sweep_stalled_jobs.defer(timestamp=0)
    run_worker()
    (job,) = queued_jobs("core.tasks.forget_old_jobs")
    assert job["status"] == "doing" and job["attempts"] == 0
