"""Territory jobs run by the task worker (`manage.py procrastinate worker`): boundary changes
dated ahead (territory.models.ScheduledChange), applied at their instant. Each change has a job
deferred to its instant; the minute sweep applies whatever is due and still pending, so a job
lost, late, or missed while the server was down still applies its change, once."""

from procrastinate.contrib.django import app

from core.tasks import with_fresh_connection
from territory import services


# A job whose worker died is retried by core.tasks.sweep_stalled_jobs: harmless, applying is
# idempotent (a change applied, failed or cancelled is left alone).
@app.task(queue="territory")
def scheduled_change_apply(*, change_id: int) -> str | None:
    change = with_fresh_connection(lambda: services.scheduled_change_apply(change_id=change_id))
    return change.status if change is not None else None


@app.periodic(cron="* * * * *")
@app.task(queue="territory", queueing_lock="territory.apply_due_changes")
def apply_due_changes(timestamp: int) -> list[int]:
    """Every minute: apply the pending changes whose instant has passed. Returns their ids."""
    changes = with_fresh_connection(services.scheduled_changes_apply_due)
    return [change.pk for change in changes]
