"""The case flow's tables. So far: the working-day overrides the deadlines rest on
(cases.working_time; cases.selectors.working_calendar reads them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models import Versioned


class WorkingDayOverride(Versioned):
    """One day whose status the calendar package gets wrong or does not know yet: the State
    Council's schedule for a year the package was released before (typed in from the notice,
    usually published in November or December), or a county's own closure (a typhoon, a flood).
    A row wins over the package."""

    date = models.DateField(
        _("date"),
        unique=True,
        help_text=_(
            "For a year the calendar package does not know, deadlines stay marked as estimated "
            "until the year's schedule is typed in; it counts as typed in once the row for "
            "New Year's Day (January 1, a holiday every year) is there."
        ),
    )
    is_workday = models.BooleanField(
        _("working day"),
        help_text=_("Ticked: a working day (e.g. a weekend made up, 调休); unticked: a day off."),
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("e.g. 国务院办公厅 2027 年节假日安排")
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self):
        return f"{self.date.isoformat()} {'workday' if self.is_workday else 'day off'}"
