"""Reads of the rankings (排名) of townships, villages, grids and workers over a period, and of
the frozen star ratings, scoped to the user's territory like the case indicators: the station and
the centre (commanders, village officers: cases.selectors.may_see_indicators) read their own
subtree; a unit outside it is a 404.

A unit's figures are the recorded case indicators (cases.indicators, one statement of
cases.selectors.indicator_counts per call) and its patrol coverage: the share of its households
visited at least once in the period. A worker's (grid chief, grid or micro-grid worker) are the
cases they handled (on time: their handling step earned no red card before the handle), the
rework and ratings that followed their handle, the cards earned while they held a case, the
incidents they logged, their visits, and the share of the households of their grids they
visited. A fixed number of queries per call, whatever the number of units, workers or cases.
"""

from dataclasses import dataclass, fields

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from cases import indicators
from cases import selectors as case_selectors
from cases.indicators import IndicatorError
from core.api_errors import Problem
from territory import roles
from territory.codes import CODE_LENGTH, Level, child_level
from territory.models import RoleAssignment, Unit

from . import ratings
from .models import StarRating, SubjectKind

RANKED_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID, "worker")


@dataclass(frozen=True)
class Standing:
    """One subject's line in a ranking: its figures, the rates they give, its score."""

    code: str
    name: str
    level: str
    rank: int
    reported: int
    handled: int
    closed: int
    closed_on_time: int
    on_time_closing_rate: float | None
    rework: int
    rework_rate: float | None
    overdue: int
    yellow: int
    satisfaction_avg: float | None
    satisfaction_count: int
    households: int
    households_visited: int
    patrol_coverage: float | None
    incidents: int | None  # workers only
    visits: int | None  # workers only
    score: float | None  # command.ratings over these figures
    stars: int | None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# What a ranking may be ordered by, best first: True when a higher value is better.
ORDERS = {
    "score": True,
    "on_time_closing_rate": True,
    "satisfaction_avg": True,
    "patrol_coverage": True,
    "rework_rate": False,
    "overdue": False,
    "reported": True,
}


def may_see_rankings(*, user) -> bool:
    return case_selectors.may_see_indicators(user=user)


def ranking_unit_for(*, user, unit_code=None) -> Unit:
    """The unit whose subtree is ranked: 403 for a role that reads no indicators, 404 outside
    the user's reach, 400 for a malformed code (cases.selectors.indicator_unit_for)."""
    if not may_see_rankings(user=user):
        raise exceptions.PermissionDenied("rankings are for the station and the centre")
    return case_selectors.indicator_unit_for(user=user, unit_code=unit_code)


# --- the figures ---------------------------------------------------------------------------------


def _pattern(level: str) -> str:
    return f"(?:^|/)([0-9]{{{CODE_LENGTH[level]}}})(?:/|$)"


_COVERAGE_SQL = """
SELECT coalesce(substring(h.territory_path FROM %(pattern)s), '') AS k, count(*),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM patrols_visit v
            WHERE v.household_id = h.id AND v.visited_at >= %(lo)s AND v.visited_at < %(hi)s))
  FROM territory_household h
 WHERE h.territory_path = %(path)s OR h.territory_path LIKE %(below)s
 GROUP BY 1
"""


def _unit_params(unit: Unit, period: indicators.Period) -> dict:
    lo, hi = period.instants()
    return {"lo": lo, "hi": hi, "path": unit.path, "below": _like(unit.path) + "/%"}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def unit_figures(*, unit: Unit, period: indicators.Period, level: str):
    """(subject units, figures by code) of every current unit of `level` in `unit`'s subtree:
    three queries."""
    counts = case_selectors.indicator_counts(
        unit=unit, period=period, code_length=CODE_LENGTH[level]
    )
    with connection.cursor() as cursor:
        cursor.execute(_COVERAGE_SQL, {**_unit_params(unit, period), "pattern": _pattern(level)})
        coverage = {k: (n, visited) for k, n, visited in cursor.fetchall()}
    units = list(
        Unit.objects.current()
        .filter(level=level)
        .filter(Q(path=unit.path) | Q(path__startswith=unit.path + "/"))
        .only("code", "name", "level", "path")
        .order_by("code")
    )
    figures = {}
    for u in units:
        c = counts.get(u.code, indicators.Counts())
        n, visited = coverage.get(u.code, (0, 0))
        figures[u.code] = ratings.Figures(
            cases=c.reported,
            closed=c.closed,
            closed_on_time=c.closed_on_time,
            handled=c.handled,
            rework=c.rework,
            rated=c.rated,
            rating_sum=c.rating_sum,
            households=n,
            households_visited=visited,
            red=c.overdue,
            yellow=c.yellow,
        )
    return units, figures


_WORKER_SQL = """
SELECT e.actor_id, 'h', count(*),
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1
             FROM cases_caseevent p
             JOIN cases_card r ON r.case_id = p.case_id AND r.step_started_at = p.at
            WHERE p.case_id = e.case_id AND p.seq = e.seq - 1
              AND r.colour = 'red' AND r.step = 'handle' AND r.at < e.at)), 0
  FROM cases_caseevent e
 WHERE e.action = 'handle' AND e.at >= %(lo)s AND e.at < %(hi)s
   AND e.actor_id = ANY(%(workers)s)
 GROUP BY 1
UNION ALL
SELECT h.actor_id, 'r',
       count(*) FILTER (WHERE e.action = 'rework'),
       count(*) FILTER (WHERE e.action = 'rate'),
       coalesce(sum((e.fields ->> 'rating')::int) FILTER (WHERE e.action = 'rate'), 0)
  FROM cases_caseevent e
 CROSS JOIN LATERAL (
       SELECT p.actor_id FROM cases_caseevent p
        WHERE p.case_id = e.case_id AND p.action = 'handle' AND p.seq < e.seq
        ORDER BY p.seq DESC LIMIT 1) h
 WHERE e.action IN ('rework', 'rate') AND e.at >= %(lo)s AND e.at < %(hi)s
   AND h.actor_id = ANY(%(workers)s)
 GROUP BY 1
UNION ALL
SELECT assignee_id, 'c', count(*) FILTER (WHERE colour = 'red'),
       count(*) FILTER (WHERE colour = 'yellow'), 0
  FROM cases_card
 WHERE at >= %(lo)s AND at < %(hi)s AND assignee_id = ANY(%(workers)s)
 GROUP BY 1
UNION ALL
SELECT reporter_id, 'i', count(*), 0, 0
  FROM patrols_incident
 WHERE observed_at >= %(lo)s AND observed_at < %(hi)s AND reporter_id = ANY(%(workers)s)
 GROUP BY 1
UNION ALL
SELECT worker_id, 'v', count(*), 0, 0
  FROM patrols_visit
 WHERE visited_at >= %(lo)s AND visited_at < %(hi)s AND worker_id = ANY(%(workers)s)
 GROUP BY 1
UNION ALL
SELECT a.w, 'p', count(DISTINCT h.id),
       count(DISTINCT h.id) FILTER (WHERE EXISTS (
           SELECT 1 FROM patrols_visit v
            WHERE v.household_id = h.id AND v.worker_id = a.w
              AND v.visited_at >= %(lo)s AND v.visited_at < %(hi)s)), 0
  FROM unnest(%(assigned_workers)s::int[], %(assigned_paths)s::text[]) AS a(w, path)
  JOIN territory_household h
    ON h.territory_path = a.path OR h.territory_path LIKE replace(a.path, '_', '\\_') || '/%%'
 GROUP BY 1
"""


@dataclass(frozen=True)
class Worker:
    pk: int
    name: str
    path: str  # their first grid's (where their rating is read)
    grid_code: str


def workers_in(*, unit: Unit) -> tuple[list[Worker], dict[int, list[str]]]:
    """The patrolling workers (territory.roles.PATROLS) assigned to a grid or micro-grid in the
    unit's subtree, with the paths of their units: two queries."""
    assigned = {
        u.code: u.path
        for u in Unit.objects.current()
        .filter(level__in=(Level.GRID, Level.MICROGRID))
        .filter(Q(path=unit.path) | Q(path__startswith=unit.path + "/"))
        .only("code", "path")
    }
    rows = (
        RoleAssignment.objects.filter(role__in=roles.PATROLS, unit_code__in=list(assigned))
        .select_related("user")
        .order_by("user_id", "unit_code")
    )
    out: dict[int, Worker] = {}
    paths: dict[int, list[str]] = {}
    for a in rows:
        paths.setdefault(a.user_id, []).append(assigned[a.unit_code])
        if a.user_id not in out:
            out[a.user_id] = Worker(
                pk=a.user_id,
                name=case_selectors.display_name(a.user),
                path=assigned[a.unit_code],
                grid_code=a.unit_code,
            )
    return list(out.values()), paths


def worker_figures(*, unit: Unit, period: indicators.Period):
    """(workers, figures by user id, (incidents, visits) by user id) for the workers of the
    unit's subtree: three queries."""
    workers, paths = workers_in(unit=unit)
    ids = [w.pk for w in workers]
    # A worker of a grid and of one of its micro-grids counts each household once.
    pairs = [
        (w, p) for w, ps in paths.items() for p in ps if not any(p.startswith(q + "/") for q in ps)
    ]
    lo, hi = period.instants()
    sums: dict[int, dict[str, tuple]] = {}
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                _WORKER_SQL,
                {
                    "lo": lo,
                    "hi": hi,
                    "workers": ids,
                    "assigned_workers": [w for w, _ in pairs],
                    "assigned_paths": [p for _, p in pairs],
                },
            )
            for w, part, a, b, c in cursor.fetchall():
                sums.setdefault(w, {})[part] = (int(a), int(b), int(c))
    figures, extras = {}, {}
    for w in workers:
        s = sums.get(w.pk, {})
        handled, on_time, _ = s.get("h", (0, 0, 0))
        rework, rated, rating_sum = s.get("r", (0, 0, 0))
        red, yellow, _ = s.get("c", (0, 0, 0))
        households, visited, _ = s.get("p", (0, 0, 0))
        figures[w.pk] = ratings.Figures(
            cases=handled,
            closed=handled,
            closed_on_time=on_time,
            handled=handled,
            rework=rework,
            rated=rated,
            rating_sum=rating_sum,
            households=households,
            households_visited=visited,
            red=red,
            yellow=yellow,
        )
        extras[w.pk] = (s.get("i", (0,))[0], s.get("v", (0,))[0])
    return workers, figures, extras


# --- rankings ------------------------------------------------------------------------------------


def _standing(*, code, name, level, f: ratings.Figures, formula, extras=(None, None)) -> dict:
    r = ratings.rate(f, formula)
    return {
        "code": code,
        "name": name,
        "level": level,
        "reported": f.cases if level != "worker" else 0,
        "handled": f.handled,
        "closed": f.closed,
        "closed_on_time": f.closed_on_time,
        "on_time_closing_rate": indicators.rate(f.closed_on_time, f.closed),
        "rework": f.rework,
        "rework_rate": indicators.rate(f.rework, f.handled),
        "overdue": f.red,
        "yellow": f.yellow,
        "satisfaction_avg": indicators.average(f.rating_sum, f.rated),
        "satisfaction_count": f.rated,
        "households": f.households,
        "households_visited": f.households_visited,
        "patrol_coverage": indicators.rate(f.households_visited, f.households),
        "incidents": extras[0],
        "visits": extras[1],
        "score": r.score,
        "stars": r.stars,
    }


def rank(lines: list[dict], by: str) -> list[Standing]:
    """Best first by `by` (ORDERS says which way is better), those with nothing to measure
    last; equal values share a rank (1, 1, 3) and are listed by code."""
    higher_better = ORDERS[by]

    def key(line):
        v = line[by]
        return (v is None, 0 if v is None else (-v if higher_better else v), line["code"])

    out, previous, place = [], object(), 0
    for i, line in enumerate(sorted(lines, key=key), start=1):
        if line[by] != previous:
            place, previous = i, line[by]
        out.append(Standing(rank=place, **line))
    return out


def default_level(unit: Unit) -> str:
    """The units one level down from `unit` (a county ranks its townships): what its commander
    compares first; a county's 6,125 grids are a page no one reads, and took 30 s to draw."""
    below = child_level(unit.level)
    return below if below in RANKED_LEVELS else Level.GRID


def parse_ranking(level, by, *, default: str = Level.GRID) -> tuple[str, str]:
    level = level or default
    by = by or "score"
    problems = []
    if level not in RANKED_LEVELS:
        problems.append(Problem("level", f"one of {', '.join(RANKED_LEVELS)}, not {level!r}"))
    if by not in ORDERS:
        problems.append(Problem("by", f"one of {', '.join(ORDERS)}, not {by!r}"))
    if problems:
        raise IndicatorError(problems)
    return level, by


def ranking(*, user, unit_code=None, level=None, start=None, end=None, by=None, today=None):
    """(unit, period, level, by, standings): the units of `level` (or the workers) of the unit's
    subtree ranked over the period (this quarter so far by default). 403/404/400 as
    ranking_unit_for and cases.indicators.period say."""
    unit = ranking_unit_for(user=user, unit_code=unit_code)
    level, by = parse_ranking(level, by, default=default_level(unit))
    if not start and not end:
        p = indicators.this_quarter(today or timezone.localdate())
    else:
        p = indicators.period(start, end)
    return unit, p, level, by, standings(unit=unit, period=p, level=level, by=by)


def standings(*, unit: Unit, period, level: str, by: str = "score") -> list[Standing]:
    formula = ratings.formula_from(_formula_settings())
    if level == "worker":
        workers, figures, extras = worker_figures(unit=unit, period=period)
        lines = [
            _standing(
                code=w.grid_code,
                name=w.name,
                level="worker",
                f=figures[w.pk],
                formula=formula,
                extras=extras[w.pk],
            )
            for w in workers
        ]
    else:
        units, figures = unit_figures(unit=unit, period=period, level=level)
        lines = [
            _standing(code=u.code, name=u.name, level=u.level, f=figures[u.code], formula=formula)
            for u in units
        ]
    return rank(lines, by)


def _formula_settings():
    from django.conf import settings

    return getattr(settings, "WANGGE_STAR_FORMULA", None)


def current_formula() -> ratings.Formula:
    return ratings.formula_from(_formula_settings())


# --- the frozen ratings --------------------------------------------------------------------------

RATED_KINDS = tuple(SubjectKind.values)


def parse_quarter(year, quarter) -> tuple[int, int]:
    problems = []
    values = {}
    for name, value, lo, hi in (("year", year, 2000, 2100), ("quarter", quarter, 1, 4)):
        text = str(value).strip() if value is not None else ""
        if not (text.isascii() and text.isdigit()) or not lo <= int(text) <= hi:
            problems.append(Problem(name, f"a number from {lo} to {hi}, not {value!r}"))
        else:
            values[name] = int(text)
    if problems:
        raise IndicatorError(problems)
    return values["year"], values["quarter"]


def parse_kind(kind) -> str:
    kind = kind or SubjectKind.GRID
    if kind not in RATED_KINDS:
        raise IndicatorError([Problem("kind", f"one of {', '.join(RATED_KINDS)}, not {kind!r}")])
    return kind


def ratings_in(*, unit: Unit):
    return StarRating.objects.filter(
        Q(territory_path=unit.path) | Q(territory_path__startswith=unit.path + "/")
    )


def quarter_ratings(*, user, unit_code=None, year, quarter, kind=None):
    """(unit, kind, ratings) of one quarter in the user's reach, best first."""
    unit = ranking_unit_for(user=user, unit_code=unit_code)
    year, quarter = parse_quarter(year, quarter)
    kind = parse_kind(kind)
    rows = list(
        ratings_in(unit=unit)
        .filter(year=year, quarter=quarter, kind=kind)
        .order_by("-score", "subject")
    )
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.subject))
    return unit, year, quarter, kind, rows


@dataclass(frozen=True)
class AnnualLine:
    kind: str
    subject: str
    subject_name: str
    history: list  # StarRating of each quarter frozen, in order
    total_stars: int
    average_score: float | None


def annual_ratings(*, user, unit_code=None, year, kind=None):
    """(unit, kind, lines): each subject's quarters of the year, with the annual total (the
    stars added up) and the mean score, the highest total first."""
    unit = ranking_unit_for(user=user, unit_code=unit_code)
    year, _ = parse_quarter(year, 1)
    kind = parse_kind(kind)
    by_subject: dict[str, list[StarRating]] = {}
    for r in ratings_in(unit=unit).filter(year=year, kind=kind).order_by("subject", "quarter"):
        by_subject.setdefault(r.subject, []).append(r)
    lines = []
    for subject, history in by_subject.items():
        total = ratings.annual((r.quarter, r.stars, r.score) for r in history)
        lines.append(
            AnnualLine(
                kind=kind,
                subject=subject,
                subject_name=history[-1].subject_name,
                history=history,
                total_stars=total.total_stars,
                average_score=total.average_score,
            )
        )
    lines.sort(key=lambda a: (-a.total_stars, -(a.average_score or 0), a.subject))
    return unit, year, kind, lines


PART_LABELS = {
    "on_time_closing": _("On-time closing"),
    "rework": _("Rework"),
    "satisfaction": _("Satisfaction"),
    "patrol_coverage": _("Patrol coverage"),
    "cards": _("Cards"),
}


def unit_geometries(*, codes, tolerance: float = 0.0001) -> dict[str, str]:
    """The current boundaries of the units, simplified (about 10 m) for the report's map, as
    GeoJSON text by code: one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, %s), 6)"
            "  FROM territory_unit WHERE valid_to IS NULL AND code = ANY(%s)",
            [tolerance, list(codes)],
        )
        return {code: geometry for code, geometry in cursor.fetchall() if geometry}
