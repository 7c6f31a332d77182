"""Reads for patrols, always scoped to the asking user's territory (territory.selectors)."""

import datetime
import time
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from territory import roles
from territory.codes import Level
from territory.models import HOUSEHOLD_FLAGS, Household, RoleAssignment, Unit
from territory.selectors import jurisdiction_for

from . import policy, routing
from .models import (
    Incident,
    IncidentCategory,
    PatrolPoint,
    RoadSegment,
    Track,
    TrackFix,
    Visit,
    VisitPolicy,
)


def patrol_units_for_user(*, user):
    """The grids (and micro-grids) a user patrols: current units in their patrol territory."""
    j = jurisdiction_for(user=user)
    units = Unit.objects.current().filter(level__in=[Level.GRID, Level.MICROGRID])
    if j.everything:
        return units.filter(level=Level.GRID)
    return units.filter(path__in=j.patrol_paths) | units.filter(level=Level.GRID).in_subtree(
        j.patrol_paths
    )


def patrol_unit_for_user(*, user, code: str) -> Unit:
    unit = patrol_units_for_user(user=user).filter(code=code).first()
    if unit is None:
        raise Http404("no such grid among yours")
    return unit


def coverage_unit_for_user(*, user, code: str) -> Unit:
    """A grid or micro-grid whose coverage the user may read: one they patrol, or one below
    them for their superiors (those who see its incidents)."""
    j = jurisdiction_for(user=user)
    unit = Unit.objects.current().filter(code=code, level__in=[Level.GRID, Level.MICROGRID]).first()
    if unit is None or not j.covers(unit.path, j.incident_paths):
        raise Http404("no such grid in your territory")
    return unit


def worker_for_user(*, user, username: str):
    """A worker whose figures the user may read: themselves, or someone holding a role inside
    the user's territory."""
    if username == user.username:
        return user
    j = jurisdiction_for(user=user)
    worker = get_user_model().objects.filter(username=username).first()
    if worker is not None:
        codes = RoleAssignment.objects.filter(user=worker).values_list("unit_code", flat=True)
        paths = Unit.objects.current().filter(code__in=list(codes)).values_list("path", flat=True)
        if any(j.covers(p, j.incident_paths) for p in paths):
            return worker
    raise Http404("no such worker in your territory")


def households_in_patrol_unit(*, unit: Unit):
    if unit.level == Level.MICROGRID:
        return Household.objects.filter(micro_grid=unit)
    return Household.objects.filter(grid=unit)


def household_for_patrol(*, user, pk: int) -> Household:
    j = jurisdiction_for(user=user)
    households = (
        Household.objects.all() if j.everything else Household.objects.in_subtree(j.patrol_paths)
    )
    household = households.filter(pk=pk).first()
    if household is None:
        raise Http404("no such household among yours")
    return household


def visit_policy() -> dict[str, int]:
    rules = dict(VisitPolicy.objects.values_list("flag", "interval_days"))
    rules.setdefault("default", 30)
    return rules


@dataclass
class DueHousehold:
    household: Household
    last_visit: datetime.date | None
    due_on: datetime.date
    interval_days: int
    today: datetime.date  # the day the figures are for

    @property
    def location(self):
        return self.household.location

    @property
    def overdue_days(self) -> int:
        return max(0, (self.today - self.due_on).days)


def households_due(*, unit: Unit, today: datetime.date | None = None, include_not_due=False):
    """Households of `unit` with their last visit and the day their next visit falls due,
    most overdue first. One query for the households and their last visits."""
    today = today or timezone.localdate()
    rules = visit_policy()
    latest = Visit.objects.filter(household=OuterRef("pk")).order_by("-visited_at")
    households = households_in_patrol_unit(unit=unit).annotate(
        last_visited_at=Subquery(latest.values("visited_at")[:1])
    )
    out = []
    for household in households:
        flags = {f: getattr(household, f) for f in HOUSEHOLD_FLAGS}
        days = policy.interval_days(flags, rules)
        last = timezone.localdate(household.last_visited_at) if household.last_visited_at else None
        due = policy.due_on(last, days, today)
        if include_not_due or due <= today:
            out.append(DueHousehold(household, last, due, days, today))
    out.sort(key=lambda d: (d.due_on, d.household.pk))
    return out


def road_network_near(*, area) -> routing.RoadNetwork | None:
    """The road lines within 300 m of `area` (a GEOS geometry), as a network; None if none."""
    segments = RoadSegment.objects.near(area, 300).values_list("geometry", flat=True)
    lines = [np.array(g.coords) for g in segments]
    return routing.RoadNetwork(lines) if lines else None


@dataclass
class RouteStop:
    """One stop of today's route: a building with its due households (most overdue first),
    or a point of interest."""

    location: tuple[float, float]  # lon, lat (WGS84)
    label: str
    households: list = field(default_factory=list)  # DueHousehold
    point: "PatrolPoint | None" = None

    @property
    def overdue_days(self) -> int:
        return max((d.overdue_days for d in self.households), default=0)


def todays_route(*, unit: Unit, start: tuple[float, float] | None = None):
    """The due households and the active points of interest of `unit`, in walking order from
    `start` (the unit's centre when not given), along roads when a network has been imported
    for the area: one stop per building (households at one place), one per point of
    interest. Returns the route and its stops (RouteStop) in order."""
    due = households_due(unit=unit)
    places = routing.group_by_place([(d.location.x, d.location.y) for d in due])
    stops = [
        RouteStop(
            location=(due[group[0]].location.x, due[group[0]].location.y),
            label=routing.stop_label([due[i].household.address for i in group]),
            households=[due[i] for i in group],
        )
        for group in places
    ]
    stops += [
        RouteStop(location=(p.location.x, p.location.y), label=p.name, point=p)
        for p in PatrolPoint.objects.filter(active=True).within(unit.boundary).order_by("pk")
    ]
    if start is None:
        centre = unit.boundary.point_on_surface
        start = (centre.x, centre.y)
    network = road_network_near(area=unit.boundary)
    route = routing.plan_route(start, np.array([s.location for s in stops]).reshape(-1, 2), network)
    return route, [stops[i] for i in route.order]


@dataclass
class Coverage:
    unit: str
    start: datetime.date
    end: datetime.date
    households: int
    due: int
    visited_due: int
    distance_m: float
    minutes_in_unit: float
    overdue: list

    @property
    def share_visited(self) -> float | None:
        return round(self.visited_due / self.due, 4) if self.due else None


def coverage(*, unit: Unit, start: datetime.date, end: datetime.date, worker=None) -> Coverage:
    """Share of the households due in [start, end] that were visited in it (by `worker`, or by
    anyone), distance walked and time spent in the unit by the tracks, and who is overdue."""
    start_at = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max))
    status = households_due(unit=unit, today=end, include_not_due=True)
    visits = Visit.objects.filter(
        household__in=[d.household.pk for d in status], visited_at__range=(start_at, end_at)
    )
    tracks = Track.objects.filter(started_at__lte=end_at, ended_at__gte=start_at)
    fixes = TrackFix.objects.filter(
        recorded_at__range=(start_at, end_at), grid__path__startswith=unit.path
    )
    if worker is not None:
        visits = visits.filter(worker=worker)
        tracks = tracks.filter(worker=worker)
        fixes = fixes.filter(track__worker=worker)
    visited = set(visits.values_list("household_id", flat=True))
    # Due in the period: falls due on or before its end.
    due = [d for d in status if d.due_on <= end or d.household.pk in visited]
    tracks_here = tracks.filter(fixes__grid__path__startswith=unit.path).distinct()
    distance = tracks.filter(pk__in=tracks_here).aggregate(total=Sum("length_m"))["total"] or 0
    minutes = _minutes_in(fixes)
    return Coverage(
        unit=unit.code,
        start=start,
        end=end,
        households=len(status),
        due=len(due),
        visited_due=sum(1 for d in due if d.household.pk in visited),
        distance_m=round(float(distance), 1),
        minutes_in_unit=minutes,
        overdue=[d for d in status if d.due_on <= end and d.household.pk not in visited],
    )


def _minutes_in(fixes) -> float:
    """Time between consecutive fixes of a track that are both in the unit (gaps over 10
    minutes are not counted: the phone was off or the worker elsewhere)."""
    rows = list(fixes.order_by("track_id", "recorded_at").values_list("track_id", "recorded_at"))
    total = 0.0
    for (t1, a), (t2, b) in zip(rows, rows[1:], strict=False):
        gap = (b - a).total_seconds()
        if t1 == t2 and gap <= 600:
            total += gap
    return round(total / 60, 1)


def incidents_for_user(*, user):
    j = jurisdiction_for(user=user)
    qs = Incident.objects.select_related(
        "item", "item__parent", "reporter", "grid", "micro_grid"
    ).defer("grid__boundary", "micro_grid__boundary")  # codes are shown, not shapes
    return qs if j.everything else qs.in_subtree(j.incident_paths)


def incident_for_user(*, user, pk) -> Incident:
    incident = incidents_for_user(user=user).filter(pk=pk).first()
    if incident is None:
        raise Http404("no such incident in your territory")
    return incident


_ITEMS: dict = {"at": 0.0, "items": {}}
CATALOGUE_TTL_S = 60


def catalogue_item(code: str) -> IncidentCategory | None:
    """An active item of the catalogue, from a per-process copy refreshed every minute: the
    catalogue changes a few times a year and is read by every incident."""
    now = time.monotonic()
    if now - _ITEMS["at"] > CATALOGUE_TTL_S:
        _ITEMS["items"] = {
            c.code: c
            for c in IncidentCategory.objects.filter(
                active=True, parent__isnull=False
            ).select_related("parent")
        }
        _ITEMS["at"] = now
    return _ITEMS["items"].get(code)


@dataclass(frozen=True)
class Placement:
    grid_id: int
    grid_code: str
    grid_path: str
    micro_grid_id: int | None
    micro_grid_code: str | None
    micro_grid_path: str | None
    patrolled: bool = False  # does the asking user patrol there?

    @property
    def path(self) -> str:
        return self.micro_grid_path or self.grid_path


# The patrol roles as an SQL array literal: they are this code's own identifiers, and a literal
# spares the busiest statement an array parameter to encode on every call.
assert all(r.isidentifier() for r in roles.PATROLS)
_PATROL_ROLES_SQL = "ARRAY[" + ", ".join(f"'{r}'" for r in sorted(roles.PATROLS)) + "]"

# The cell covering a point and whether the user patrols there (a patrol role on that cell or
# above it). The placement is territory_place_shared (migration 0007): the rule of the household
# trigger, after the shared placement lock, which holds until the statement's transaction ends,
# so an incident logged during a re-division lands in the successor cell, never a retired one.
# No row when the point lies in no grid.
PLACEMENT_SQL = (
    """
SELECT p.grid_id, p.grid_code, p.grid_path,
       p.micro_grid_id AS micro_id, p.micro_grid_code AS micro_code,
       p.micro_grid_path AS micro_path,
       %(everything)s OR EXISTS (
         SELECT 1 FROM territory_roleassignment ra
           JOIN territory_unit u ON u.code = ra.unit_code AND u.valid_to IS NULL
          WHERE ra.user_id = %(user)s AND ra.role = ANY("""
    + _PATROL_ROLES_SQL
    + """)
            AND (p.path = u.path OR p.path LIKE u.path || '/%%')) AS patrolled
  FROM territory_place_shared(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)) p
 WHERE p.grid_id IS NOT NULL
"""
)


def placement_params(*, x: float, y: float, user) -> dict:
    return {
        "x": x,
        "y": y,
        "user": user.pk,
        "everything": bool(user.is_superuser),
    }


def catalogue():
    return IncidentCategory.objects.filter(active=True).select_related("parent").order_by("code")


def may_log_incidents(*, user) -> bool:
    """Whether the user patrols anywhere (where exactly is the intake statement's check)."""
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.patrol_paths)


def tracks_for_user(*, user):
    """GPS tracks with a fix in a grid of the user's territory (those who see its incidents:
    the workers and their superiors), and the user's own: where a worker walked is for them."""
    j = jurisdiction_for(user=user)
    tracks = Track.objects.select_related("worker")
    if j.everything:
        return tracks
    walked_here = TrackFix.objects.filter(
        track=OuterRef("pk"), grid__in=Unit.objects.in_subtree(j.incident_paths)
    )
    return tracks.filter(Q(worker=user) | Q(Exists(walked_here)))


def patrol_points_for_user(*, user):
    """Points of interest inside the user's territory (the current boundaries of its tops)."""
    j = jurisdiction_for(user=user)
    if j.everything:
        return PatrolPoint.objects.all()
    tops = [p for p in j.paths if not any(p.startswith(q + "/") for q in j.paths)]
    holding = Unit.objects.current().filter(path__in=tops, boundary__covers=OuterRef("location"))
    return PatrolPoint.objects.filter(Exists(holding))
