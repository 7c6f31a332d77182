"""Reads of the command screen (一张屏), for a commander's own territory: density bins of
households, incidents and cases, a choropleth per level, hot spots (Getis-Ord Gi*), the open
cards, the workers' last positions and today's tracks, and the headline indicators against the
previous period.

Everything is aggregated in the database: no endpoint ships raw points. The rules it shows are
the other apps' (the card rule: cases.models.card_conditions; who sees what: jurisdiction_for
and the apps' *_for_user; the indicators: cases.selectors.case_indicators); this module only
counts. The pure pieces (periods, cell sizes, classes, Gi*) take no database and are tested
without one."""

import datetime
import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

import numpy as np
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from cases import indicators
from cases.models import Case, card_conditions
from cases.selectors import case_indicators
from cases.working_time import SHANGHAI
from core.api_errors import ApiError, Problem
from patrols.models import IncidentCategory, TrackFix
from patrols.selectors import tracks_for_user
from territory.codes import Level
from territory.models import Unit
from territory.selectors import _display_name, household_counts_by_unit, jurisdiction_for


class CommandError(ApiError):
    """A filter the screen cannot answer: HTTP 400 with the offending parameter."""


# --- who commands, and where ---------------------------------------------------------------------


def may_command(*, user) -> bool:
    """The screen is the commanders' (city, county, township): territory.roles.EDITS_TERRITORY
    gives exactly their subtrees."""
    if not user or not user.is_authenticated:
        return False
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.territory_edit_paths)


def command_unit_for(*, user, code: str | None = None) -> Unit:
    """The unit the screen shows: `code`, or the widest unit the user commands. 403 for a role
    that commands nothing, 400 for a malformed code, 404 for a unit outside their territory
    (or none at all: nobody learns which codes exist elsewhere)."""
    if not may_command(user=user):
        raise PermissionDenied("the command screen is for commanders")
    j = jurisdiction_for(user=user)
    if code in (None, ""):
        if j.territory_edit_paths:
            code = sorted(j.territory_edit_paths, key=len)[0].rsplit("/", 1)[-1]
        else:
            top = Unit.objects.current().filter(parent_code="").order_by("code").first()
            if top is None:
                raise Http404("no territory yet")
            code = top.code
    if not isinstance(code, str) or not code.isdigit() or len(code) > 17:
        raise CommandError([Problem("unit", f"a territory code (digits), not {code!r}")])
    unit = Unit.objects.current().filter(code=code).defer("boundary").first()
    if unit is None or not (j.everything or j.covers(unit.path, j.territory_edit_paths)):
        raise Http404("no such unit in your territory")
    return unit


def unit_summary(*, user, unit: Unit) -> dict:
    """The unit's name, level, extent and the trail from the top of the user's territory down
    to it (the drill-down's breadcrumb), and the levels below it a choropleth can show."""
    j = jurisdiction_for(user=user)
    codes = unit.path.split("/")
    ancestors = {
        u.code: u
        for u in Unit.objects.current().filter(code__in=codes).defer("boundary").order_by("code")
    }
    trail = [
        {"code": c, "name": ancestors[c].name, "name_en": ancestors[c].name_en}
        for c in codes
        if c in ancestors and (j.everything or j.covers(ancestors[c].path, j.territory_edit_paths))
    ]
    extent = Unit.objects.filter(pk=unit.pk).values_list("boundary", flat=True).first().extent
    return {
        "code": unit.code,
        "name": unit.name,
        "name_en": unit.name_en,
        "level": unit.level,
        "bbox": [round(v, 6) for v in extent],
        "trail": trail,
        "levels_below": levels_below(unit.level),
    }


CHOROPLETH_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID, Level.MICROGRID)


def levels_below(level: str) -> list[str]:
    order = Level.ORDER
    return [lv for lv in CHOROPLETH_LEVELS if order.index(lv) > order.index(level)]


# --- the filters ---------------------------------------------------------------------------------

PERIODS = ("day", "week", "month", "quarter", "custom")


def period_span(kind: str, *, day: datetime.date | None = None, start=None, end=None):
    """(this period, the one before it) as cases.indicators.Period: the day, ISO week, calendar
    month or quarter holding `day`, or the custom days `start`-`end` (checked by
    indicators.period: in order, at most a year and a little) with the as many days before."""
    if kind == "custom":
        span = indicators.period(start, end)
        before_end = span.start - datetime.timedelta(days=1)
        return span, indicators.Period(
            before_end - datetime.timedelta(days=span.days - 1), before_end
        )
    if kind not in PERIODS:
        raise CommandError([Problem("period", f"one of {', '.join(PERIODS)}, not {kind!r}")])
    if day is None:
        raise CommandError([Problem("date", "required: a date (YYYY-MM-DD)")])
    if kind == "day":
        prev = day - datetime.timedelta(days=1)
        return indicators.Period(day, day), indicators.Period(prev, prev)
    if kind == "week":
        monday = day - datetime.timedelta(days=day.weekday())
        span = indicators.Period(monday, monday + datetime.timedelta(days=6))
        return span, indicators.Period(
            monday - datetime.timedelta(days=7), monday - datetime.timedelta(days=1)
        )
    months = 1 if kind == "month" else 3
    first = datetime.date(day.year, ((day.month - 1) // months) * months + 1, 1)
    span = indicators.Period(first, _add_months(first, months) - datetime.timedelta(days=1))
    before = _add_months(first, -months)
    return span, indicators.Period(before, first - datetime.timedelta(days=1))


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def today() -> datetime.date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


@dataclass(frozen=True)
class Filters:
    """What the panel filters by. `span` is the period; the catalogue filter is a category
    (its items) or one item; statuses and sources are those of cases (incidents have statuses
    of their own, households neither)."""

    span: indicators.Period
    previous: indicators.Period
    category: str = ""
    item: str = ""
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    period: str = "week"

    def key(self) -> dict:
        return {
            "span": str(self.span),
            "category": self.category,
            "item": self.item,
            "statuses": list(self.statuses),
            "sources": list(self.sources),
        }

    def item_ids(self) -> list[int] | None:
        """The catalogue items the filter keeps (None: no catalogue filter). An unknown code
        is a 400, not an empty map that looks like a quiet county."""
        if not (self.category or self.item):
            return None
        items = IncidentCategory.objects.filter(parent__isnull=False)
        if self.item:
            items = items.filter(code=self.item)
            where = "item"
        else:
            items = items.filter(parent__code=self.category)
            where = "category"
        ids = list(items.values_list("pk", flat=True))
        if not ids:
            code = self.item or self.category
            raise CommandError([Problem(where, f"no catalogue {where} {code!r}")])
        return ids


# --- density bins --------------------------------------------------------------------------------

# EPSG:3857 metres per pixel at zoom 0 (a 256 px tile over the earth's circumference).
MERCATOR_M_PER_PX = 2 * math.pi * 6378137 / 256
CELL_PX = 12  # a cell is about this many pixels on the screen at the zoom it was asked for
MIN_ZOOM, MAX_ZOOM = 3, 19


def cell_metres(zoom: int) -> float:
    """The side of a density cell at `zoom`, in EPSG:3857 metres: about CELL_PX pixels,
    rounded to 1, 2, 2.5 or 5 times a power of ten so that cells of nearby zooms nest."""
    raw = MERCATOR_M_PER_PX * CELL_PX / 2**zoom
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * power * 1.25:
            return step * power
    return 10 * power


# Web-Mercator metres from WGS84 degrees, as arithmetic (ST_Transform's projection machinery
# costs more than the whole sum at a million points). Latitude clamped as EPSG:3857 does.
_MERC_X = "(6378137.0 * radians(ST_X({p})))"
_MERC_Y = (
    "(6378137.0 * ln(tan(pi() / 4 + radians(least(85.0511, greatest(-85.0511, ST_Y({p})))) / 2)))"
)

LAYERS = ("households", "incidents", "cases")


def _layer_source(layer: str, filters: Filters, *, use_period: bool = True):
    """(table, point column, WHERE clauses, params) of a layer's rows in the unit's subtree."""
    where, params = [], {}
    ids = filters.item_ids()
    lo, hi = filters.span.instants()
    if layer == "households":
        return "territory_household", "location", where, params
    if layer == "incidents":
        if use_period:
            where.append("observed_at >= %(lo)s AND observed_at < %(hi)s")
            params.update(lo=lo, hi=hi)
        if ids is not None:
            where.append("item_id = ANY(%(items)s)")
            params["items"] = ids
        incident_statuses = [s for s in filters.statuses if s in INCIDENT_STATUSES]
        if incident_statuses:
            where.append("status = ANY(%(statuses)s)")
            params["statuses"] = incident_statuses
        return "patrols_incident", "location", where, params
    if use_period:
        where.append("created_at >= %(lo)s AND created_at < %(hi)s")
        params.update(lo=lo, hi=hi)
    if ids is not None:
        where.append("item_id = ANY(%(items)s)")
        params["items"] = ids
    case_statuses = [s for s in filters.statuses if s not in INCIDENT_ONLY_STATUSES]
    if case_statuses:
        where.append("status = ANY(%(statuses)s)")
        params["statuses"] = case_statuses
    if filters.sources:
        where.append("source = ANY(%(sources)s)")
        params["sources"] = list(filters.sources)
    return "cases_case", "point", where, params


INCIDENT_STATUSES = ("reported", "in_progress", "closed")
INCIDENT_ONLY_STATUSES = ("in_progress", "closed")


def _subtree_sql(column: str = "territory_path") -> str:
    return f"({column} = %(path)s OR {column} LIKE %(below)s)"


def _subtree_params(unit: Unit) -> dict:
    escaped = unit.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"path": unit.path, "below": escaped + "/%"}


def density_statement(*, unit: Unit, layer: str, zoom: int, filters: Filters, bbox=None):
    """The one statement of density_bins and its parameters (for the bench's raw baseline)."""
    table, column, where, params = _layer_source(layer, filters)
    cell = cell_metres(zoom)
    where = [_subtree_sql(), *where]
    params.update(_subtree_params(unit), cell=cell)
    if bbox is not None:
        where.append(f"{column} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)")
        params.update(x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3])
    sql = f"""
        SELECT floor({_MERC_X.format(p=column)} / %(cell)s)::int AS ix,
               floor({_MERC_Y.format(p=column)} / %(cell)s)::int AS iy,
               count(*)::int
          FROM {table}
         WHERE {" AND ".join(where)}
         GROUP BY 1, 2
         ORDER BY 1, 2
    """
    return sql, params


def density_bins(*, unit: Unit, layer: str, zoom: int, filters: Filters, bbox=None) -> dict:
    """The points of a layer in the unit (and `bbox`, WGS84, when given) counted per square
    cell of cell_metres(zoom) in EPSG:3857: cells as [ix, iy, n], the cell's corner being
    (ix * cell_m, iy * cell_m) in EPSG:3857 metres. Households ignore the period, status and
    source (they have none); incidents keep the period, catalogue and incident statuses."""
    if layer not in LAYERS:
        raise CommandError([Problem("layer", f"one of {', '.join(LAYERS)}, not {layer!r}")])
    sql, params = density_statement(unit=unit, layer=layer, zoom=zoom, filters=filters, bbox=bbox)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cells = [list(row) for row in cursor.fetchall()]
    counts = [c[2] for c in cells]
    return {
        "layer": layer,
        "zoom": zoom,
        "cell_m": cell_metres(zoom),
        "cells": cells,
        "total": sum(counts),
        "max": max(counts, default=0),
    }


# --- the choropleth ------------------------------------------------------------------------------

MEASURES = ("cases_per_100", "overdue_rate", "coverage")
CLASSIFIERS = ("natural", "quantiles")
CLASSES = 5
NATURAL_SUMMARY = 120  # quantiles natural breaks are sought among, for many units


def _units_at(*, unit: Unit, level: str, zoom: int | None) -> list[dict]:
    """The current units at `level` below `unit`, each with its boundary as GeoJSON simplified
    for the zoom (about a pixel) and rounded to ~1 m."""
    if level not in levels_below(unit.level):
        allowed = ", ".join(levels_below(unit.level)) or "none"
        raise CommandError(
            [Problem("level", f"a level below the unit's {unit.level} ({allowed}), not {level!r}")]
        )
    tolerance = 0.0 if zoom is None else MERCATOR_M_PER_PX / 2**zoom / 111_320.0
    params = {**_subtree_params(unit), "level": level, "tol": tolerance}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT code, name, name_en, path,
                   ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, %(tol)s), 5)
              FROM territory_unit
             WHERE valid_to IS NULL AND level = %(level)s AND {_subtree_sql("path")}
             ORDER BY code
            """,
            params,
        )
        return [
            {"code": c, "name": n, "name_en": ne, "path": p, "geometry": json.loads(g)}
            for c, n, ne, p, g in cursor.fetchall()
        ]


def unit_figures(*, unit: Unit, level: str, filters: Filters, zoom: int | None = None):
    """Per unit at `level` below `unit`: households, the period's cases (filtered), those of
    them that earned a red card (the card rule's record, cases.services.cards_record) and the
    households visited in the period; and the three rates. Three statements."""
    units = _units_at(unit=unit, level=level, zoom=zoom)
    if not units:
        return []
    length = len(units[0]["path"])
    households = _households_by_path(unit=unit, level=level, length=length)
    _, _, where, params = _layer_source("cases", filters)
    params.update(_subtree_params(unit), length=length)
    lo, hi = filters.span.instants()
    params.update(lo=lo, hi=hi)
    case_where = " AND ".join([_subtree_sql("territory_path"), *where])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT left(territory_path, %(length)s), count(*)::int,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM cases_card r WHERE r.case_id = c.id AND r.colour = 'red'))::int
              FROM cases_case c
             WHERE {case_where}
             GROUP BY 1
            """,
            params,
        )
        cases = {k: (n, od) for k, n, od in cursor.fetchall()}
        cursor.execute(
            f"""
            SELECT left(h.territory_path, %(length)s), count(DISTINCT v.household_id)::int
              FROM patrols_visit v
              JOIN territory_household h ON h.id = v.household_id
             WHERE v.visited_at >= %(lo)s AND v.visited_at < %(hi)s
               AND {_subtree_sql("h.territory_path")}
             GROUP BY 1
            """,
            params,
        )
        visited = dict(cursor.fetchall())
    rows = []
    for u in units:
        n_households = households.get(u["path"], 0)
        n_cases, n_overdue = cases.get(u["path"], (0, 0))
        n_visited = visited.get(u["path"], 0)
        rows.append(
            {
                **u,
                "households": n_households,
                "cases": n_cases,
                "overdue": n_overdue,
                "visited": n_visited,
                "cases_per_100": rates(n_cases, n_households, 100),
                "overdue_rate": rates(n_overdue, n_cases),
                "coverage": rates(n_visited, n_households),
            }
        )
    return rows


# A household's grid and micro-grid are kept current by the placement trigger: grouping by
# them skips a string operation per household (580,000 at city scale); above, by path prefix.
_PLACED_BY = {Level.GRID: "grid_id", Level.MICROGRID: "micro_grid_id"}


def _households_by_path(*, unit: Unit, level: str, length: int) -> dict[str, int]:
    params = {**_subtree_params(unit), "length": length, "level": level}
    column = _PLACED_BY.get(level)
    if column:
        sql = f"""
            SELECT u.path, h.n
              FROM (SELECT {column} AS id, count(*)::int AS n FROM territory_household
                     WHERE {_subtree_sql()} GROUP BY 1) h
              JOIN territory_unit u ON u.id = h.id AND u.level = %(level)s
        """
    else:
        sql = f"""
            SELECT left(territory_path, %(length)s), count(*)::int FROM territory_household
             WHERE {_subtree_sql()} GROUP BY 1
        """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def rates(part: int, whole: int, per: float = 1) -> float | None:
    """part per `per` of whole; None when there is no whole (a grid with no households has no
    rate, not a rate of 0)."""
    return round(per * part / whole, 4) if whole else None


def classify(values, *, scheme: str = "natural", k: int = CLASSES) -> dict:
    """mapclassify's classes of the known values: Fisher-Jenks natural breaks (the optimal,
    deterministic form of Jenks) or quantiles; fewer classes when there are fewer distinct
    values. {"bins": upper bounds, "counts": per class, "classes": per value (None when
    unknown)}."""
    if scheme not in CLASSIFIERS:
        raise CommandError([Problem("classes", f"one of {', '.join(CLASSIFIERS)}, not {scheme!r}")])
    known = np.array([v for v in values if v is not None], dtype=float)
    distinct = np.unique(known)
    if len(distinct) == 0:
        return {"bins": [], "counts": [], "classes": [None for _ in values], "min": None}
    if len(distinct) == 1:
        bins, yb = [float(distinct[0])], np.zeros(len(known), dtype=int)
    else:
        bins, yb = _classes(known, len(distinct), scheme, k)
    classes, i = [], 0
    for v in values:
        if v is None:
            classes.append(None)
        else:
            classes.append(int(yb[i]))
            i += 1
    counts = [int((yb == c).sum()) for c in range(len(bins))]
    return {"bins": bins, "counts": counts, "classes": classes, "min": float(known.min())}


def _classes(known, distinct: int, scheme: str, k: int):
    import warnings

    import mapclassify

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed": the summary keeps it quick
        k = min(k, distinct)
        if scheme == "natural" and len(known) > NATURAL_SUMMARY:
            # Fisher-Jenks is O(k n^2) (5 minutes for 6,125 grids in pure Python): the breaks
            # are sought among evenly spaced quantiles of the values, then every value is
            # classed by them.
            # The quantiles are values themselves (no interpolation), and each break moves up
            # to the last value below the next quantile: a gap between them stays a gap.
            summary = np.unique(
                np.quantile(known, np.linspace(0, 1, NATURAL_SUMMARY), method="inverted_cdf")
            )
            breaks = mapclassify.FisherJenks(summary, k=min(k, len(summary))).bins
            bounds = []
            for b in breaks[:-1]:
                above = summary[summary > b]
                bounds.append(float(known[known < above[0]].max()) if len(above) else float(b))
            result = mapclassify.UserDefined(known, [*bounds, float(known.max())])
        elif scheme == "natural":
            result = mapclassify.FisherJenks(known, k=k)
        else:
            result = mapclassify.Quantiles(known, k=k)
    return [float(b) for b in result.bins], result.yb


def choropleth(*, unit: Unit, level: str, measure: str, filters: Filters, scheme: str, zoom=None):
    """The units at `level` as GeoJSON with their figures, and the measure's classes and legend."""
    if measure not in MEASURES:
        raise CommandError([Problem("measure", f"one of {', '.join(MEASURES)}, not {measure!r}")])
    rows = unit_figures(unit=unit, level=level, filters=filters, zoom=zoom)
    classes = classify([r[measure] for r in rows], scheme=scheme)
    features = []
    for row, cls in zip(rows, classes["classes"], strict=True):
        props = {k: v for k, v in row.items() if k not in ("geometry", "path")}
        props["class"] = cls
        features.append({"type": "Feature", "geometry": row["geometry"], "properties": props})
    return {
        "type": "FeatureCollection",
        "features": features,
        "level": level,
        "measure": measure,
        "legend": {
            "scheme": scheme,
            "min": classes["min"],
            "bins": classes["bins"],
            "counts": classes["counts"],
        },
    }


# --- hot spots: Getis-Ord Gi* --------------------------------------------------------------------

# Two-sided normal critical values of z, widest confidence first.
CONFIDENCE = ((99, 2.5758), (95, 1.96), (90, 1.6449))


def confidence_of(z: float | None) -> int:
    if z is None or not math.isfinite(z):
        return 0
    for level, critical in CONFIDENCE:
        if abs(z) >= critical:
            return level
    return 0


def gi_star(values, neighbours: dict[int, list[int]]) -> list[float]:
    """Getis-Ord Gi* z-scores (esda.G_Local, star=True: each unit counts in its own
    neighbourhood) of `values` over binary contiguity weights given as {i: [j, ...]} on
    positions 0..n-1 (a libpysal Graph; an island has itself alone). Analytical z under
    normality: deterministic, unlike the permutation test, so a map does not flicker."""
    import warnings

    from esda.getisord import G_Local
    from libpysal.graph import Graph

    y = np.asarray(values, dtype=float)
    n = len(y)
    if n < 3 or np.allclose(y, y[0]) or y.sum() == 0:
        return [float("nan")] * n
    focal, neighbour, weight = [], [], []
    for i in range(n):
        js = sorted(set(neighbours.get(i, ())) - {i})
        # libpysal's Graph names an island by a zero-weight loop on itself.
        focal += [i] * len(js) if js else [i]
        neighbour += js if js else [i]
        weight += [1.0] * len(js) if js else [0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are expected: a grid across a river
        # The Graph, not the older W: G_Local adds the diagonal of Gi* to it in a quarter of
        # the time (0.2 s against 0.9 s for 6,084 grids).
        w = Graph.from_arrays(np.array(focal), np.array(neighbour), np.array(weight))
        g = G_Local(y, w, transform="B", star=True, permutations=0)
    return [float(z) for z in g.Zs]


def hot_spots(*, unit: Unit, level: str, measure: str, filters: Filters, zoom=None) -> dict:
    """Gi* of `measure` over the units at `level` (grids by default) that have a value, with
    Queen contiguity (boundaries that touch at an edge or a corner, ST_Intersects in the
    database with its index): each unit's z, its confidence (90/95/99, 0 when not
    significant) and whether it is a hot or a cold spot."""
    rows = unit_figures(unit=unit, level=level, filters=filters, zoom=zoom)
    if measure not in MEASURES:
        raise CommandError([Problem("measure", f"one of {', '.join(MEASURES)}, not {measure!r}")])
    known = [r for r in rows if r[measure] is not None]
    position = {r["code"]: i for i, r in enumerate(known)}
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(known))}
    if known:
        for a, b in adjacency(unit=unit, level=level):
            if a in position and b in position:
                neighbours[position[a]].append(position[b])
                neighbours[position[b]].append(position[a])
    zs = gi_star([r[measure] for r in known], neighbours)
    z_of = {r["code"]: z for r, z in zip(known, zs, strict=True)}
    features = []
    for r in rows:
        z = z_of.get(r["code"])
        z = None if z is None or not math.isfinite(z) else round(z, 4)
        level_of = confidence_of(z)
        features.append(
            {
                "type": "Feature",
                "geometry": r["geometry"],
                "properties": {
                    "code": r["code"],
                    "name": r["name"],
                    "name_en": r["name_en"],
                    "value": r[measure],
                    "z": z,
                    "confidence": level_of,
                    "spot": ("hot" if z > 0 else "cold") if level_of else "",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "level": level, "measure": measure}


def adjacency(*, unit: Unit, level: str) -> list[tuple[str, str]]:
    """The pairs of current units at `level` below `unit` whose boundaries touch (Queen: an
    edge or a corner), found by the database's index. Cached while no unit changes: the
    boundaries move far less often than the figures (a second for 6,125 grids)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM territory_unit")
        newest = cursor.fetchone()[0]
    name = (
        f"command:adjacency:{hashlib.sha256(f'{unit.path}|{level}|{newest}'.encode()).hexdigest()}"
    )
    pairs = cache.get(name)
    if pairs is not None:
        return pairs
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.code, b.code
              FROM territory_unit a
              JOIN territory_unit b
                ON b.valid_to IS NULL AND b.level = a.level AND b.code > a.code
               AND ST_Intersects(a.boundary, b.boundary)
             WHERE a.valid_to IS NULL AND a.level = %(level)s AND {_subtree_sql("a.path")}
               AND {_subtree_sql("b.path")}
            """,
            {**_subtree_params(unit), "level": level},
        )
        pairs = cursor.fetchall()
    cache.set(name, pairs, 24 * 3600)
    return pairs


# --- cards, workers, headline figures ------------------------------------------------------------

CARD_LIMIT = 500


def open_cards(*, unit: Unit, now=None) -> dict:
    """The unit's cases showing a yellow or red card now (the card rule,
    cases.models.card_conditions), red first then by due time, at most CARD_LIMIT: number,
    item, grid, colour, due time and place. No contact, no description: nothing personal."""
    now = now or timezone.now()
    showing = reduce(or_, [condition for _, condition in card_conditions(now)])
    cases = (
        Case.objects.in_subtree([unit.path])
        .filter(showing)
        .with_card(now)
        .select_related("item")
        .only("id", "number", "point", "due_at", "status", "item__name", "item__name_en", "grid_id")
        .annotate(grid_code=F("grid__code"))
        .order_by("card", "due_at", "id")  # "red" sorts before "yellow"[: CARD_LIMIT + 1]
    )
    rows = list(cases)
    return {
        "cards": [
            {
                "id": c.pk,
                "number": c.number,
                "card": c.card,
                "item": c.item.name,
                "item_en": c.item.name_en,
                "grid": c.grid_code,
                "status": c.status,
                "due_at": c.due_at.isoformat() if c.due_at else None,
                "lon": round(c.point.x, 6),
                "lat": round(c.point.y, 6),
            }
            for c in rows[:CARD_LIMIT]
        ],
        "truncated": len(rows) > CARD_LIMIT,
    }


LAST_POSITION_DAYS = 30


def workers(*, user, unit: Unit, now=None) -> dict:
    """Each worker's last fix in the unit over the last LAST_POSITION_DAYS days and today's
    tracks there (simplified lines), among the tracks the user may see
    (patrols.selectors.tracks_for_user), with today's visits: households visited today of the
    unit's households."""
    now = now or timezone.now()
    day = timezone.localtime(now, SHANGHAI).date()
    midnight = datetime.datetime.combine(day, datetime.time(), SHANGHAI)
    seen = tracks_for_user(user=user)
    fixes = TrackFix.objects.filter(
        grid__path__startswith=unit.path,
        recorded_at__gte=now - datetime.timedelta(days=LAST_POSITION_DAYS),
        track__in=seen.values("pk"),
    )
    last = (
        fixes.order_by("track__worker_id", "-recorded_at")
        .distinct("track__worker_id")
        .select_related("track__worker", "grid")
        .only("location", "recorded_at", "grid__code", "track__worker")
    )
    positions = [
        {
            "name": _display_name(f.track.worker),
            "lon": round(f.location.x, 6),
            "lat": round(f.location.y, 6),
            "at": f.recorded_at.isoformat(),
            "grid": f.grid.code if f.grid else "",
        }
        for f in last
    ]
    params = {**_subtree_params(unit), "since": midnight, "tracks": []}
    today_tracks = list(
        fixes.filter(recorded_at__gte=midnight).values_list("track_id", flat=True).distinct()
    )
    params["tracks"] = today_tracks
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.id, ST_AsGeoJSON(ST_SimplifyPreserveTopology(t.path, 0.00002), 5),
                   t.length_m
              FROM patrols_track t
             WHERE t.id = ANY(%(tracks)s) AND t.path IS NOT NULL
             ORDER BY t.id
            """,
            params,
        )
        tracks = [
            {"type": "Feature", "geometry": json.loads(g), "properties": {"length_m": round(m)}}
            for _, g, m in cursor.fetchall()
        ]
        cursor.execute(
            f"""
            SELECT count(DISTINCT v.household_id)::int
              FROM patrols_visit v JOIN territory_household h ON h.id = v.household_id
             WHERE v.visited_at >= %(since)s AND {_subtree_sql("h.territory_path")}
            """,
            params,
        )
        visited_today = cursor.fetchone()[0]
    households = household_counts_by_unit(units=[unit])[unit.code][0]
    return {
        "workers": positions,
        "tracks": {"type": "FeatureCollection", "features": tracks},
        "visited_today": visited_today,
        "households": households,
        "coverage_today": rates(visited_today, households),
    }


HEADLINE = ("reported", "on_time_closing_rate", "overdue", "rework", "satisfaction_avg")


def headline(*, user, unit: Unit, filters: Filters) -> dict:
    """The headline indicators of the unit for the period and the one before it
    (cases.selectors.case_indicators: its definitions, its one statement each)."""
    now_row = case_indicators(
        user=user, unit_code=unit.code, start=filters.span.start, end=filters.span.end
    )[0]
    before_row = case_indicators(
        user=user, unit_code=unit.code, start=filters.previous.start, end=filters.previous.end
    )[0]
    return {
        "start": filters.span.start.isoformat(),
        "end": filters.span.end.isoformat(),
        "previous_start": filters.previous.start.isoformat(),
        "previous_end": filters.previous.end.isoformat(),
        "figures": [
            {"name": name, "value": getattr(now_row, name), "previous": getattr(before_row, name)}
            for name in HEADLINE
        ],
    }


# --- caching -------------------------------------------------------------------------------------

CACHE_SECONDS = 600

_VERSION_SQL = """
SELECT (SELECT max(id) FROM cases_caseevent), (SELECT max(id) FROM cases_card),
       (SELECT max(id) FROM territory_household), (SELECT max(id) FROM patrols_trackfix),
       (SELECT max(id) FROM patrols_visit), (SELECT max(id) FROM territory_unit),
       (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
         WHERE relname = ANY(%(tables)s)),
       (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables
         WHERE relname = ANY(%(tables)s))
"""
# Tables whose rows change without a new id to see it by: households move (the placement
# trigger, an edit), incidents have UUIDs and change status. Their write counters (this
# transaction's too) stand for them.
_COUNTED_TABLES = ["territory_household", "patrols_incident", "cases_case"]


def data_version() -> str:
    """What the screen's figures rest on, in one cheap statement (index ends and counters):
    the newest case event (every case and every action writes one), card, household, fix,
    visit and unit version, and the write counters of the tables rows change in place in.
    Any change to what the screen shows changes it."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, {"tables": _COUNTED_TABLES})
        return ":".join(str(v) for v in cursor.fetchone())


@dataclass
class Cached:
    body: object
    hit: bool
    version: str = field(default="")


def cached(kind: str, key: dict, build) -> Cached:
    """The body `build()` makes for `key`, from the cache while the data version holds."""
    version = data_version()
    digest = hashlib.sha256(
        json.dumps([kind, key, version], sort_keys=True, default=str).encode()
    ).hexdigest()
    name = f"command:{kind}:{digest}"
    body = cache.get(name)
    if body is not None:
        return Cached(body, True, version)
    body = build()
    cache.set(name, body, CACHE_SECONDS)
    return Cached(body, False, version)
