"""The indicators page (/cases/indicators/) for the station and the centre: a unit (one's own
by default) and a period (this week, last week, this quarter, or chosen days), the table of the
unit and its children, and the xlsx and CSV downloads of the same. Rendered on the server from
cases.selectors.case_indicators; no script."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from .. import indicators, selectors
from ..indicators import COLUMNS, IndicatorError
from ..working_time import SHANGHAI

PRESETS = {
    "this_week": indicators.this_week,
    "last_week": indicators.last_week,
    "this_quarter": indicators.this_quarter,
}


PERIOD_CHOICES = (
    ("this_week", pgettext_lazy("indicators", "This week")),
    ("last_week", pgettext_lazy("indicators", "Last week")),
    ("this_quarter", pgettext_lazy("indicators", "This quarter")),
    ("custom", pgettext_lazy("indicators", "These days")),
)


@login_required
def indicators_page(request):
    user = request.user
    if not selectors.may_see_indicators(user=user):
        raise PermissionDenied("the indicators are for the station and the centre")
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    choice = request.GET.get("period") or "this_week"
    problems, rows, unit, span = [], [], None, None
    try:
        unit = selectors.indicator_unit_for(user=user, unit_code=request.GET.get("unit") or None)
        if choice in PRESETS:
            span = PRESETS[choice](today)
        else:
            choice = "custom"
            span = indicators.period(request.GET.get("start"), request.GET.get("end"))
        rows = selectors.case_indicators(
            user=user, unit_code=unit.code, start=span.start, end=span.end, by_child=True
        )
    except IndicatorError as exc:
        problems = exc.problems
    query = (
        urlencode(
            {
                "unit": unit.code,
                "start": span.start.isoformat(),
                "end": span.end.isoformat(),
                "by_child": "true",
            }
        )
        if rows
        else ""
    )
    downloads = (
        {
            "xlsx": f"{reverse('api-case-indicators-xlsx')}?{query}",
            "csv": f"{reverse('api-case-indicators-csv')}?{query}",
        }
        if rows
        else {}
    )
    table = [
        [(c.kind, indicators.cell_text(getattr(r, c.name), c.kind)) for c in COLUMNS] for r in rows
    ]
    return render(
        request,
        "cases/indicators.html",
        {
            "units": selectors.indicator_units_for(user=user),
            "unit": unit,
            "span": span,
            "choice": choice,
            # The days the table shows (a preset's, or those typed in, even when refused).
            "start": span.start.isoformat() if span else request.GET.get("start", ""),
            "end": span.end.isoformat() if span else request.GET.get("end", ""),
            "columns": COLUMNS,
            "period_choices": PERIOD_CHOICES,
            "table": table,
            "problems": problems,
            "downloads": downloads,
        },
        status=400 if problems else 200,
    )
