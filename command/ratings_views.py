"""The rankings page (/command/rankings/) and the star ratings page (/command/ratings/) for the
station and the centre, rendered on the server from command.rankings (no script): a unit, a
level and a period or quarter; each rating shown with the figures it came from, the part scores
and the formula's version; the year's total and its quarters; the weekly report's downloads."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import indicators
from cases import selectors as case_selectors
from cases.indicators import RATE, SCORE, IndicatorError
from cases.working_time import SHANGHAI

from . import rankings, ratings
from .models import SubjectKind
from .report import LEVEL_TITLES

ORDER_LABELS = {
    "score": _("Score"),
    "on_time_closing_rate": _("On-time closing rate"),
    "satisfaction_avg": _("Satisfaction"),
    "patrol_coverage": _("Patrol coverage"),
    "rework_rate": _("Rework rate (lowest first)"),
    "overdue": _("Red cards (fewest first)"),
    "reported": _("Reported"),
}

FIGURE_LABELS = {
    "cases": _("Cases (reported, or handled by the worker)"),
    "closed": _("Closed (a worker: handled)"),
    "closed_on_time": _("Closed on time"),
    "handled": _("Handled"),
    "rework": _("Rework"),
    "rated": _("Ratings"),
    "rating_sum": _("Stars given in all"),
    "households": _("Households"),
    "households_visited": _("Households visited"),
    "red": _("Red cards"),
    "yellow": _("Yellow cards"),
}


def _today():
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def _allowed(user):
    if not rankings.may_see_rankings(user=user):
        raise PermissionDenied("rankings and ratings are for the station and the centre")


def _text(value, kind):
    return indicators.cell_text(value, kind) or "–"


@login_required
def rankings_page(request):
    user = request.user
    _allowed(user)
    q = request.GET
    problems, rows, unit, span, level, by = [], [], None, None, q.get("level"), q.get("by")
    try:
        unit, span, level, by, rows = rankings.ranking(
            user=user,
            unit_code=q.get("unit") or None,
            level=level,
            start=q.get("start"),
            end=q.get("end"),
            by=by,
            today=_today(),
        )
    except IndicatorError as exc:
        problems = exc.problems
    table = [
        {
            "rank": r.rank,
            "code": r.code,
            "name": r.name,
            "score": _text(r.score, SCORE),
            "stars": stars_text(r.stars),
            "reported": r.reported,
            "on_time": _text(r.on_time_closing_rate, RATE),
            "rework": _text(r.rework_rate, RATE),
            "overdue": r.overdue,
            "satisfaction": _text(r.satisfaction_avg, SCORE),
            "coverage": _text(r.patrol_coverage, RATE),
            "incidents": r.incidents,
            "visits": r.visits,
        }
        for r in rows
    ]
    downloads = {}
    if unit and span:
        query = urlencode(
            {"unit": unit.code, "start": span.start.isoformat(), "end": span.end.isoformat()}
        )
        downloads = {
            "xlsx": f"{reverse('api-command-report-xlsx')}?{query}",
            "map": f"{reverse('api-command-report-html')}?{query}"
            + ("&level=village" if level in ("township", "village") else ""),
        }
    last_week = indicators.last_week(_today())
    return render(
        request,
        "command/rankings.html",
        {
            "units": case_selectors.indicator_units_for(user=user),
            "unit": unit,
            "span": span,
            "start": span.start.isoformat() if span else q.get("start", ""),
            "end": span.end.isoformat() if span else q.get("end", ""),
            "level": level,
            "by": by,
            "levels": [(lv, LEVEL_TITLES[lv]) for lv in rankings.RANKED_LEVELS],
            "orders": list(ORDER_LABELS.items()),
            "table": table,
            "workers": level == "worker",
            "problems": problems,
            "downloads": downloads,
            "last_week": last_week,
        },
        status=400 if problems else 200,
    )


KIND_LABELS = {
    SubjectKind.GRID: _("Grids"),
    SubjectKind.WORKER: _("Workers"),
    SubjectKind.VILLAGE: _("Village/community party organisations"),
}


@login_required
def ratings_page(request):
    """One quarter's frozen ratings with their figures, or (view=annual) the year's totals."""
    user = request.user
    _allowed(user)
    q = request.GET
    year, quarter = ratings.last_ended_quarter(_today())
    view = "annual" if q.get("view") == "annual" else "quarter"
    problems, unit, lines, table = [], None, [], []
    kind = q.get("kind") or SubjectKind.GRID
    try:
        if view == "annual":
            unit, year, kind, lines = rankings.annual_ratings(
                user=user, unit_code=q.get("unit") or None, year=q.get("year") or year, kind=kind
            )
        else:
            unit, year, quarter, kind, rows = rankings.quarter_ratings(
                user=user,
                unit_code=q.get("unit") or None,
                year=q.get("year") or year,
                quarter=q.get("quarter") or quarter,
                kind=kind,
            )
            table = [_rating_line(r) for r in rows]
    except IndicatorError as exc:
        problems = exc.problems
    annual = [
        {
            "subject": a.subject,
            "name": a.subject_name,
            "total": a.total_stars,
            "average": _text(a.average_score, SCORE),
            "quarters": [
                next((stars_text(r.stars) for r in a.history if r.quarter == n), "")
                for n in (1, 2, 3, 4)
            ],
        }
        for a in lines
    ]
    return render(
        request,
        "command/ratings.html",
        {
            "units": case_selectors.indicator_units_for(user=user),
            "unit": unit,
            "view": view,
            "year": year,
            "quarter": quarter,
            "kind": kind,
            "kinds": list(KIND_LABELS.items()),
            "table": table,
            "annual": annual,
            "problems": problems,
            "formula": rankings.current_formula(),
            "part_labels": rankings.PART_LABELS,
            "years": range(_today().year, _today().year - 6, -1),
        },
        status=400 if problems else 200,
    )


def _rating_line(r) -> dict:
    return {
        "subject": r.subject,
        "name": r.subject_name,
        "stars": stars_text(r.stars),
        "score": _text(r.score, SCORE),
        "parts": [
            (rankings.PART_LABELS[p], _text(r.parts.get(p), SCORE))
            for p in ratings.PARTS
            if p in r.parts
        ],
        "figures": [(FIGURE_LABELS.get(k, k), v) for k, v in r.figures.items()],
        "weights": [
            (rankings.PART_LABELS.get(p, p), w) for p, w in r.formula.get("weights", {}).items()
        ],
        "version": r.formula_version,
        "frozen_at": r.frozen_at,
    }


def stars_text(stars) -> str:
    return "★" * stars + "☆" * (5 - stars) if stars else "–"
