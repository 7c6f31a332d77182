"""Command jobs run by the task worker: on the first days of each quarter, the star ratings of the
quarter just ended are frozen (command.services.ratings_freeze). It runs daily in the quarter's
first week so a worker that was down on the 1st still freezes it; freezing again adds nothing."""

import datetime

from procrastinate.contrib.django import app

from cases.working_time import SHANGHAI
from command import ratings, services
from core.tasks import with_fresh_connection


@app.periodic(cron="30 1 1-7 1,4,7,10 *")
@app.task(queue="command", queueing_lock="command.ratings_freeze")
def ratings_freeze(timestamp: int) -> int:
    """Freeze the quarter that ended before the day of `timestamp`."""
    year, quarter = quarter_before(timestamp)
    return with_fresh_connection(lambda: services.ratings_freeze(year=year, quarter=quarter))


def quarter_before(timestamp: int) -> tuple[int, int]:
    """The quarter ended before the local day of `timestamp` (UTC seconds)."""
    day = datetime.datetime.fromtimestamp(timestamp, SHANGHAI).date()
    return ratings.last_ended_quarter(day)
