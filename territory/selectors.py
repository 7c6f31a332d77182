"""Reads of the territory, always scoped to what the asking user may see. A view that starts
from these functions cannot leak another territory's data by forgetting a filter."""

import datetime
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import Http404

from . import roles
from .codes import Level
from .models import (
    Household,
    MicroGridDivision,
    MicroGridJob,
    RoleAssignment,
    RoleChoices,
    ScheduledChange,
    Unit,
    subtree_q,
)


@dataclass(frozen=True)
class Jurisdiction:
    """The subtrees (as code paths) a user may see, per capability."""

    everything: bool = False
    paths: tuple[str, ...] = ()
    household_paths: tuple[str, ...] = ()
    personal_paths: tuple[str, ...] = ()
    household_write_paths: tuple[str, ...] = ()
    territory_edit_paths: tuple[str, ...] = ()
    division_paths: tuple[str, ...] = ()
    patrol_paths: tuple[str, ...] = ()
    incident_paths: tuple[str, ...] = ()
    roles: frozenset = field(default_factory=frozenset)

    def covers(self, path: str, paths: tuple[str, ...] | None = None) -> bool:
        if self.everything:
            return True
        return any(
            path == p or path.startswith(p + "/") for p in (self.paths if paths is None else paths)
        )


def jurisdiction_for(*, user) -> Jurisdiction:
    if not user or not user.is_authenticated:
        return Jurisdiction()
    cached = getattr(user, "_wangge_jurisdiction", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        result = Jurisdiction(everything=True, roles=frozenset(RoleChoices.values))
    else:
        # One query on every request: each assignment with the path of its unit's newest
        # version (a retired unit keeps its place in the tree).
        newest_path = (
            Unit.objects.filter(code=OuterRef("unit_code")).order_by("-valid_from").values("path")
        )
        rows = list(
            RoleAssignment.objects.filter(user=user)
            .annotate(path=Subquery(newest_path[:1]))
            .values_list("role", "unit_code", "path")
        )
        assignments = [(role, code) for role, code, _ in rows]
        path_of = {code: path for _, code, path in rows if path}

        def paths_for(allowed):
            return tuple(
                sorted({path_of[c] for r, c in assignments if r in allowed and c in path_of})
            )

        result = Jurisdiction(
            paths=paths_for(set(RoleChoices.values)),
            household_paths=paths_for(roles.SEES_HOUSEHOLDS),
            personal_paths=paths_for(roles.SEES_PERSONAL_DATA),
            household_write_paths=paths_for(roles.WRITES_HOUSEHOLDS),
            territory_edit_paths=paths_for(roles.EDITS_TERRITORY),
            division_paths=paths_for(roles.DIVIDES_GRIDS),
            patrol_paths=paths_for(roles.PATROLS),
            incident_paths=paths_for(roles.SEES_INCIDENTS),
            roles=frozenset(r for r, _ in assignments),
        )
    user._wangge_jurisdiction = result
    return result


def units_for_user(*, user, as_of: datetime.date | None = None):
    """Units in the user's territory: current versions, or those that held on `as_of`."""
    j = jurisdiction_for(user=user)
    qs = Unit.objects.all() if j.everything else Unit.objects.in_subtree(j.paths)
    return qs.as_of(as_of) if as_of else qs.current()


def unit_for_user(*, user, code: str, as_of: datetime.date | None = None) -> Unit:
    """One unit by code; Http404 when it does not exist *or* lies outside the user's territory,
    so that nobody learns which codes exist elsewhere."""
    unit = units_for_user(user=user, as_of=as_of).filter(code=code).first()
    if unit is None:
        raise Http404("no such unit in your territory")
    return unit


def grid_for_user(*, user, code: str, as_of: datetime.date | None = None) -> Unit:
    unit = unit_for_user(user=user, code=code, as_of=as_of)
    if unit.level not in (Level.GRID, Level.MICROGRID):
        raise Http404("no such grid in your territory")
    return unit


def top_units_for_user(*, user):
    """The units a user's map starts from: the highest nodes of their territory."""
    j = jurisdiction_for(user=user)
    qs = units_for_user(user=user)
    if j.everything:
        roots = qs.filter(parent_code="")
        return roots if roots.exists() else qs.filter(level=Level.COUNTY)
    tops = [p for p in j.paths if not any(p.startswith(q + "/") for q in j.paths)]
    return qs.filter(path__in=tops)


def households_for_user(*, user):
    j = jurisdiction_for(user=user)
    if j.everything:
        return Household.objects.all()
    return Household.objects.in_subtree(j.household_paths)


def household_for_user(*, user, pk: int) -> Household:
    household = households_for_user(user=user).filter(pk=pk).first()
    if household is None:
        raise Http404("no such household in your territory")
    return household


def may_see_personal_data(*, user, household: Household) -> bool:
    j = jurisdiction_for(user=user)
    return j.covers(household.territory_path, j.personal_paths)


def unit_figures(*, unit: Unit) -> dict:
    """Households, population, flags and staff of one unit (its whole subtree)."""
    households = Household.objects.in_subtree([unit.path])
    totals = households.aggregate(
        households=Count("id"),
        population=Sum("members"),
        elderly_living_alone=Count("id", filter=Q(elderly_living_alone=True)),
        left_behind_children=Count("id", filter=Q(left_behind_children=True)),
        low_income=Count("id", filter=Q(low_income=True)),
        key_attention=Count("id", filter=Q(key_attention=True)),
    )
    totals["population"] = totals["population"] or 0
    staff = RoleAssignment.objects.filter(unit_code=unit.code).select_related("user")
    totals["grid_chief"] = grid_chiefs_by_code(assignments=staff).get(unit.code)
    totals["workers"] = [
        {"name": _display_name(a.user), "role": a.role}
        for a in staff
        if a.role in (RoleChoices.GRID_WORKER, RoleChoices.MICROGRID_WORKER)
    ]
    totals["children"] = Unit.objects.current().filter(parent_code=unit.code).count()
    return totals


def household_counts_by_unit(*, units) -> dict[str, tuple[int, int]]:
    """{code: (households, population)} for many units in one query. Units of one level have
    paths of one length, so per level the prefix is a plain left(); levels are UNION ALLed."""
    by_length: dict[int, dict[str, str]] = {}
    for unit in units:
        by_length.setdefault(len(unit.path), {})[unit.path] = unit.code
    counts = {code: (0, 0) for group in by_length.values() for code in group.values()}
    if not by_length:
        return counts
    parts, args = [], []
    for length, paths in by_length.items():
        parts.append(
            """
            SELECT left(territory_path, %s) AS prefix, count(*), coalesce(sum(members), 0)
              FROM territory_household
             WHERE left(territory_path, %s) = ANY(%s)
               AND (length(territory_path) = %s OR substr(territory_path, %s + 1, 1) = '/')
             GROUP BY prefix
            """
        )
        args += [length, length, list(paths), length, length]
    paths_to_code = {p: c for group in by_length.values() for p, c in group.items()}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), args)
        for prefix, n, population in cursor.fetchall():
            counts[paths_to_code[prefix]] = (n, int(population))
    return counts


def grid_chiefs_by_code(*, codes=None, assignments=None) -> dict[str, str]:
    """{grid code: grid chief's display name}, for `codes` (one query) or loaded assignments."""
    if assignments is None:
        assignments = RoleAssignment.objects.filter(unit_code__in=list(codes)).select_related(
            "user"
        )
    return {
        a.unit_code: _display_name(a.user) for a in assignments if a.role == RoleChoices.GRID_CHIEF
    }


def household_for_writer(*, user, pk: int) -> Household:
    """A household the user may change; Http404 otherwise (also when it merely cannot be
    written: a reader must not learn more from a write than from a read)."""
    household = household_for_user(user=user, pk=pk)
    j = jurisdiction_for(user=user)
    if not j.covers(household.territory_path, j.household_write_paths):
        raise Http404("no such household in your territory")
    return household


def may_import_boundaries(*, user) -> bool:
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.territory_edit_paths)


def _display_name(user) -> str:
    return (user.last_name + user.first_name) or user.username


def grid_to_divide_for_user(*, user, code: str) -> Unit:
    """The current grid `code`, if the user may re-divide it into micro-grids (404 otherwise:
    a grid outside one's territory does not exist for them)."""
    j = jurisdiction_for(user=user)
    unit = Unit.objects.current().filter(code=code, level=Level.GRID).first()
    if unit is None or not j.covers(unit.path, j.division_paths):
        raise Http404("no such grid in your territory")
    return unit


def grids_to_divide_for_user(*, user):
    j = jurisdiction_for(user=user)
    grids = Unit.objects.current().at_level(Level.GRID).order_by("code")
    return grids if j.everything else grids.in_subtree(j.division_paths)


def may_divide_grids(*, user) -> bool:
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.division_paths)


def divisions_for_user(*, user):
    j = jurisdiction_for(user=user)
    qs = MicroGridDivision.objects.select_related("grid").prefetch_related(
        "created_units", "retired_units"
    )
    if j.everything:
        return qs
    return qs.filter(grid__in=Unit.objects.in_subtree(j.division_paths))


def microgrid_jobs_for_user(*, user):
    qs = MicroGridJob.objects.all()
    return qs if jurisdiction_for(user=user).everything else qs.filter(created_by=user)


def scheduled_changes_for_user(*, user, under: Unit | None = None):
    """The boundary changes dated ahead within the territory the user edits (whoever asked
    for them), or only those at or below `under`: those who could make a change may see and
    cancel it."""
    j = jurisdiction_for(user=user)
    qs = ScheduledChange.objects.select_related("created_by", "cancelled_by")
    if under is not None:
        qs = qs.filter(subtree_q("territory_path", [under.path]))
    if j.everything:
        return qs
    return qs.filter(subtree_q("territory_path", j.territory_edit_paths))


def scheduled_change_for_user(*, user, pk: int) -> ScheduledChange:
    change = scheduled_changes_for_user(user=user).filter(pk=pk).first()
    if change is None:
        raise Http404("no such scheduled change in your territory")
    return change


def grid_basis(*, grid: Unit) -> str:
    """A fingerprint of what a division of `grid` rests on: the grid's version, its current
    micro-grids and its households' places. A proposal made on another basis is stale."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT md5(concat_ws('|', %(grid)s::text,
              (SELECT string_agg(id::text || ':' || md5(ST_AsBinary(boundary)), ',' ORDER BY id)
                 FROM territory_unit
                WHERE level = 'microgrid' AND parent_code = %(code)s AND valid_to IS NULL),
              (SELECT string_agg(id::text || ':' || ST_AsText(location), ',' ORDER BY id)
                 FROM territory_household WHERE grid_id = %(grid)s)))
            """,
            {"grid": grid.pk, "code": grid.code},
        )
        return cursor.fetchone()[0]


def grid_households_xy(*, grid: Unit):
    """(household ids, n x 2 lon/lat) of the households placed in `grid`, by id."""
    rows = list(Household.objects.filter(grid=grid).order_by("id").values_list("id", "location"))
    ids = [r[0] for r in rows]
    xy = np.array([(r[1].x, r[1].y) for r in rows], dtype=float).reshape(-1, 2)
    return ids, xy


# Who a resident calls about their grid, in the order they are listed.
GRID_CONTACT_ROLES = (RoleChoices.GRID_CHIEF, RoleChoices.GRID_WORKER, RoleChoices.MICROGRID_WORKER)


def grid_contacts_for_user(*, user) -> list[dict]:
    """The grids (or micro-grids) the user lives in as a resident, each with the grid chief and
    workers who serve it and their work phones: a micro-grid's own worker, then its grid's. Only
    names and work phones, which are public; nothing of any household."""
    homes = resident_units_for(user=user)
    served_by = {home.code: [home.code] for home in homes}
    for home in homes:
        if home.level == Level.MICROGRID and home.parent_code:
            served_by[home.code].append(home.parent_code)
    staff = (
        RoleAssignment.objects.filter(
            unit_code__in={c for group in served_by.values() for c in group},
            role__in=GRID_CONTACT_ROLES,
        )
        .select_related("user")
        .order_by("unit_code", "user__username")
    )
    rank = {role: i for i, role in enumerate(GRID_CONTACT_ROLES)}
    result = []
    for home in homes:
        order = served_by[home.code]
        people = sorted(
            (a for a in staff if a.unit_code in order),
            key=lambda a: (order.index(a.unit_code), rank[a.role]),
        )
        result.append(
            {
                "unit": home,
                "contacts": [
                    {
                        "name": _display_name(a.user),
                        "role": RoleChoices(a.role).label,
                        "work_phone": a.user.work_phone,
                    }
                    for a in people
                ],
            }
        )
    return result


def resident_home_for(*, user) -> Household | None:
    """A resident's own household (their resident assignment names it), while it still lies
    where they are registered; None when they have none."""
    if not (user and user.is_authenticated):
        return None
    assignments = RoleAssignment.objects.filter(
        user=user, role=RoleChoices.RESIDENT, household__isnull=False
    ).select_related("household")
    for assignment in assignments.order_by("pk"):
        home = assignment.household
        if assignment.unit_code in home.territory_path.split("/"):
            return home
    return None


def resident_units_for(*, user) -> list[Unit]:
    """The current grids (or micro-grids) the user is registered in as a resident."""
    codes = RoleAssignment.objects.filter(user=user, role=RoleChoices.RESIDENT).values_list(
        "unit_code", flat=True
    )
    return list(
        Unit.objects.current()
        .filter(code__in=list(codes), level__in=(Level.GRID, Level.MICROGRID))
        .order_by("code")
    )
