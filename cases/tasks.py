"""Case jobs run by the task worker (`manage.py procrastinate worker`): every minute, the
incidents of items marked to become cases by themselves are made cases (idempotent: an incident
has at most one case, so a sweep run twice, or by two workers, makes none twice)."""

from django.db import close_old_connections
from procrastinate.contrib.django import app

from cases import services


@app.periodic(cron="* * * * *")
@app.task(queue="cases", queueing_lock="cases.cases_from_auto_incidents")
def cases_from_auto_incidents(timestamp: int) -> list[int]:
    # The worker runs sync tasks in a thread of its own, outside any request cycle: drop broken
    # or aged connections as a request would.
    close_old_connections()
    try:
        return [case.pk for case in services.cases_from_auto_incidents()]
    finally:
        close_old_connections()
