"""Micro-grid batch jobs on the task queue, run by the real worker on the real database: queued
with their row in one transaction, run by `manage.py procrastinate worker`, and failed with a
reason when the worker dies under them."""

import pytest
from django.db import transaction
from django.urls import reverse

from core import tasks
from core.tests.queue import queue, queued_jobs, run_worker, simulate_dead_worker  # noqa: F401
from microgrids import services
from microgrids.tests.test_services import EAST, WEST, add_households
from territory.models import MicroGridJob

TASK = "microgrids.tasks.microgrid_job_run"


@pytest.fixture
def dense(territory):
    add_households((112.051, 32.601, 112.099, 32.699), 159)
    return territory


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")
def test_batch_job_is_run_by_the_worker(dense, api):
    client = api(dense.users["commander"])
    response = client.post(
        reverse("api-microgrid-jobs"), {"unit": "411381001001", "commit": True}, format="json"
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    poll = reverse("api-microgrid-job", args=[response.json()["id"]])
    (queued,) = queued_jobs(TASK)
    assert queued["args"] == {"job_id": response.json()["id"]} and queued["status"] == "todo"
    run_worker()
    job = client.get(poll).json()
    assert job["status"] == "done" and job["total"] == job["done"] == 2
    assert {r["grid"]: r["status"] for r in job["report"]} == {WEST: "not divided", EAST: "divided"}
    assert queued_jobs(TASK)[0]["status"] == "succeeded"


@pytest.mark.django_db
def test_a_job_is_queued_only_if_its_row_commits(dense):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.microgrid_job_create(user=dense.users["commander"], unit_code="411381001001")
        assert len(queued_jobs(TASK)) == 1  # on this connection, in this transaction
        raise RuntimeError("the request failed after queueing")
    assert not MicroGridJob.objects.exists() and not queued_jobs(TASK)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")
def test_a_job_whose_worker_died_ends_failed_with_the_reason(dense):
    job = services.microgrid_job_create(user=dense.users["commander"], unit_code="411381001001")
    # The worker took it, divided one grid, and was killed (kill -9, power cut).
    MicroGridJob.objects.filter(pk=job.pk).update(
        status=MicroGridJob.Status.RUNNING, total=2, done=1
    )
    (queued,) = queued_jobs(TASK)
    simulate_dead_worker(queued["id"])
    tasks.sweep_stalled_jobs.defer(timestamp=0)  # what the periodic deferrer does each minute
    run_worker()
    job.refresh_from_db()
    assert job.status == MicroGridJob.Status.FAILED and job.finished_at is not None
    assert job.error.startswith("the worker stopped while running this job;")
    assert job.done == 1  # not re-run: nothing divided twice
    assert queued_jobs(TASK)[0]["status"] == "failed"
