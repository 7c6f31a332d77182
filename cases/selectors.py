"""Reads for the case flow."""

from django.contrib.gis.geos import Point

from territory.models import Unit

from . import catalogue
from .flow import Step
from .models import Department, DepartmentArea, ServiceTerms, WorkingDayOverride
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


# --- The service catalogue's terms and the departments ---------------------------------------


def service_terms_for(*, item) -> catalogue.Terms:
    """The terms an item's cases run on: its row in the admin, any step it lacks (a step added
    to the flow after the terms were typed in) or an item with no row yet on the seed's
    fallback, so a case always has a limit. Inactive terms count as none."""
    row = ServiceTerms.objects.filter(item=item, active=True).prefetch_related("limits").first()
    if row is None:
        return catalogue.FALLBACK
    limits = dict(catalogue.FALLBACK.limits)
    limits.update({Step(limit.step): (limit.amount, limit.unit) for limit in row.limits.all()})
    return catalogue.Terms(
        responsible=row.responsible,
        limits=limits,
        auto_case=row.auto_case,
        public=row.public,
        yellow_share=row.effective_yellow_share,
    )


def departments_for(*, item, point_or_unit) -> list[Department]:
    """The active departments that handle `item` (directly or through its category) where it
    happened, the most specific area first: a township's station before the county bureau, then
    by code. `point_or_unit` is a Point (WGS84), a Unit or a unit code; a place in no current
    unit, or outside every department's county, gets none."""
    depth = _depth_of_codes(point_or_unit)
    if not depth:
        return []
    handled = [item.pk] + ([item.parent_id] if item.parent_id else [])
    areas = (
        DepartmentArea.objects.filter(
            unit_code__in=depth,
            department__active=True,
            department__county_code__in=depth,
            department__items__in=handled,
        )
        .select_related("department")
        .distinct()
    )
    best: dict[int, tuple[int, Department]] = {}
    for area in areas:
        d = depth[area.unit_code]
        if area.department_id not in best or d > best[area.department_id][0]:
            best[area.department_id] = (d, area.department)
    ranked = sorted(best.values(), key=lambda pair: (-pair[0], pair[1].code))
    return [department for _, department in ranked]


def _depth_of_codes(point_or_unit) -> dict[str, int]:
    """The codes of the units a place lies in, each with its depth in the tree (root 0)."""
    if isinstance(point_or_unit, Point):
        paths = Unit.objects.current().containing(point_or_unit).values_list("path", flat=True)
    elif isinstance(point_or_unit, Unit):
        # The path is the database's (a trigger sets it): an instance just created lacks it.
        paths = [point_or_unit.path] if point_or_unit.path else _paths(pk=point_or_unit.pk)
    else:
        paths = _paths(code=point_or_unit, valid_to__isnull=True)
    return {code: i for path in paths for i, code in enumerate(path.split("/"))}


def _paths(**lookup) -> list[str]:
    return list(Unit.objects.filter(**lookup).values_list("path", flat=True)[:1])
