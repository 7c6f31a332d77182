"""The task queue's own housekeeping: what happens to a job whose worker died under it, and
forgetting old finished jobs.

Every app's `tasks.py` is imported by procrastinate's Django app (autodiscovery); tasks are
deferred with `some_task.defer(...)` inside the service's transaction and run by
`manage.py procrastinate worker` (see docs/operations.md)."""

import logging
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from procrastinate import jobs
from procrastinate.contrib.django import app

log = logging.getLogger(__name__)

# A job that lost its worker is run again this many times (it may have been a reboot), unless
# its task says what to do instead (`when_worker_lost`); after that it is marked failed.
STALLED_RETRIES = 2

# task name -> what to do with the job's arguments when its worker died under it
_WORKER_LOST: dict[str, Callable[..., None]] = {}


def stalled_after_seconds() -> float:
    """How long a worker may stay silent before it counts as dead: the worker's own setting,
    so the sweep, the health check and the worker agree."""
    defaults = getattr(settings, "PROCRASTINATE_WORKER_DEFAULTS", None) or {}
    return float(defaults.get("stalled_worker_timeout", 30.0))


def when_worker_lost(task):
    """Register `handler(**task_kwargs)`, run (synchronously, in the worker) for a job of `task`
    whose worker died while running it. The job is then marked failed instead of being
    retried: for tasks that must not simply run twice, or whose own record must say why it
    stopped. The handler must be idempotent (the sweep may see the job again)."""

    def register(handler):
        for name in [task.name, *task.aliases]:
            _WORKER_LOST[name] = handler
        return handler

    return register


@app.periodic(cron="* * * * *")
@app.task(queueing_lock="core.sweep_stalled_jobs", pass_context=True)
async def sweep_stalled_jobs(context, timestamp: int) -> list[int]:
    """Every minute: find jobs left in `doing` by a worker whose heartbeat stopped (or whose
    row is gone) and retry them, or mark them failed after telling their task. Returns the
    ids of the jobs it handled."""
    manager = context.app.job_manager
    handled = []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_seconds()):
        handler = _WORKER_LOST.get(job.task_name)
        if handler is None and job.attempts < STALLED_RETRIES:
            log.warning("job %s (%s) lost its worker: retrying it", job.id, job.task_name)
            await manager.retry_job(job)
        else:
            log.warning("job %s (%s) lost its worker: marking it failed", job.id, job.task_name)
            if handler is not None:
                # First the task's own record, then the queue's: if the second step fails, the
                # next sweep sees the job again and the handler runs once more, harmlessly.
                await sync_to_async(_run_handler)(handler, job.task_kwargs)
            await manager.finish_job(job=job, status=jobs.Status.FAILED, delete_job=False)
        handled.append(job.id)
    return handled


def with_fresh_connection(run):
    """`run()` between two close_old_connections(): the worker runs sync tasks in a thread of
    its own, outside any request cycle, so it must drop connections that broke or outlived
    CONN_MAX_AGE itself, as a request would. Every app's sync task body goes through it."""
    close_old_connections()
    try:
        return run()
    finally:
        close_old_connections()


def _run_handler(handler, kwargs) -> None:
    with_fresh_connection(lambda: handler(**kwargs))


@app.periodic(cron="17 3 * * *")
@app.task(queueing_lock="core.forget_old_jobs", pass_context=True)
async def forget_old_jobs(context, timestamp: int) -> None:
    """Nightly: delete jobs that succeeded more than 30 days ago (the minute sweep alone adds
    1,440 a day). Failed jobs stay for an operator to look at; each app keeps its own record
    of what a job did (e.g. MicroGridJob)."""
    await context.app.job_manager.delete_old_jobs(nb_hours=30 * 24)
