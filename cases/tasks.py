"""Case jobs run by the task worker (`manage.py procrastinate worker`), every minute: the yellow
and red cards the running steps earned (cards_record); and the
incidents of items marked to become cases by themselves are made cases (idempotent: an incident
has at most one case, so a sweep run twice, or by two workers, makes none twice)."""

from procrastinate.contrib.django import app

from cases import services
from core.tasks import with_fresh_connection


@app.periodic(cron="* * * * *")
@app.task(queue="cases", queueing_lock="cases.cases_from_auto_incidents")
def cases_from_auto_incidents(timestamp: int) -> list[int]:
    return with_fresh_connection(lambda: [c.pk for c in services.cases_from_auto_incidents()])


@app.periodic(cron="* * * * *")
@app.task(queue="cases", queueing_lock="cases.cards_record")
def cards_record(timestamp: int) -> list[int]:
    """Every minute: the yellow and red cards earned since the last run (see services)."""
    return with_fresh_connection(services.cards_record)
