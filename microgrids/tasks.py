"""Micro-grid jobs run by the task worker (`manage.py procrastinate worker`): batch
re-divisions of micro-grids. A job's state lives in its MicroGridJob row, which a page polls;
the queue's job carries only that row's id."""

from procrastinate.contrib.django import app

from core.tasks import when_worker_lost, with_fresh_connection
from microgrids import services


# Named by its module; the aliases keep jobs queued under the task's former modules runnable.
@app.task(
    queue="microgrids",
    aliases=["gis.tasks.microgrid_job_run", "territory.tasks.microgrid_job_run"],
)
def microgrid_job_run(*, job_id: int) -> None:
    with_fresh_connection(lambda: services.microgrid_job_run(job_id=job_id))


@when_worker_lost(microgrid_job_run)
def microgrid_job_worker_lost(*, job_id: int) -> None:
    # Not retried: a re-run would re-divide the grids this one already committed, and a grid
    # that killed the worker would kill it again.
    services.microgrid_job_fail(
        job_id=job_id,
        reason="the worker stopped while running this job; the grids in its report were "
        "handled, start a new job for the rest",
    )
