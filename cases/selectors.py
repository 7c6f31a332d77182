"""Reads for the case flow."""

from .models import WorkingDayOverride
from .working_time import DEFAULT_OFFICE_HOURS, WorkingCalendar, package_knows


def working_calendar(*, office_hours=DEFAULT_OFFICE_HOURS) -> WorkingCalendar:
    """The calendar the deadlines are computed on: the package, with the admin's overrides
    (WorkingDayOverride) winning. A year the package does not know counts as known once its
    New Year's Day row is in the table (the schedule is typed in from the State Council's
    notice, which always starts with it); until then its deadlines are flagged as estimated."""
    overrides = dict(WorkingDayOverride.objects.values_list("date", "is_workday"))
    known_years = {
        day.year
        for day in overrides
        if day.month == 1 and day.day == 1 and not package_knows(day.year)
    }
    return WorkingCalendar(office_hours=office_hours, overrides=overrides, known_years=known_years)
