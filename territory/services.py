"""Writes to the territory. Each function is one user action and one transaction; bad input
raises TerritoryError (or Django's ValidationError) and writes nothing."""

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from dataclasses import replace as replace_message

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from core import coords, validity
from core.api_errors import ApiError, Problem
from core.geometry import check_polygonal, coordinates_out_of_range

from . import assignment, privacy, topology
from .boundary_io import RawFeature
from .codes import CODE_LENGTH, Level, check_code
from .models import (
    HOUSEHOLD_FLAGS,
    Household,
    RoleAssignment,
    ScheduledChange,
    Unit,
    subtree_q,
)
from .selectors import jurisdiction_for


class TerritoryError(ApiError):
    """Bad input for a territory write: HTTP 400 with a Problem per thing wrong."""


def to_geos(geometry) -> GEOSGeometry:
    """A shapely geometry in WGS84 as a GEOS geometry with its SRID (4326)."""
    return GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=4326)


# --- units -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    # Set when the change was dated ahead: the lists say what it will do at its instant.
    scheduled: ScheduledChange | None = None


# The founding of the People's Republic: no division code in use is older.
EARLIEST_VALID_FROM = datetime.date(1949, 10, 1)
# A change dated ahead is scheduled (ScheduledChange), applied at its instant by the task
# worker; one dated today or earlier is applied at once (a date means the start of that day in
# the server's time zone, core.validity). Further ahead than this is refused as a typo
# (9999-12-31): nobody plans boundaries more than a year out.
VALID_FROM_HORIZON = datetime.timedelta(days=366)


def valid_from_problem(
    when: datetime.date | datetime.datetime | None, *, now: datetime.datetime | None = None
) -> str | None:
    """Why `when` cannot start a version of a unit (None: it can)."""
    if when is None:
        return None
    day = (
        timezone.localdate(validity.start_of(when)) if isinstance(when, datetime.datetime) else when
    )
    if day < EARLIEST_VALID_FROM:
        return f"{day} is before {EARLIEST_VALID_FROM}: no division code is that old"
    latest = timezone.localdate(now) + VALID_FROM_HORIZON
    if day > latest:
        return (
            f"{day} is more than a year ahead (at most {latest}): a change dated ahead is "
            "scheduled, at most a year ahead"
        )
    return None


def _length_problems(where: str, values: dict) -> list[Problem]:
    """Values longer than their Unit column (the database would refuse them with a DataError)."""
    problems = []
    for name, value in values.items():
        limit = Unit._meta.get_field(name).max_length
        if value is not None and len(str(value)) > limit:
            problems.append(
                Problem(f"{where}.{name}", f"{len(str(value))} characters, at most {limit}")
            )
    return problems


def _containment_problems(where: str, polygon, parent: Unit, parent_shape) -> list[Problem]:
    """A unit must lie within its parent; only the coordinate noise of converted files
    (WANGGE_CONTAINMENT_TOLERANCE_M2, in m²) may stick out."""
    outside, spot = topology.outside_m2(polygon, parent_shape)
    if outside <= settings.WANGGE_CONTAINMENT_TOLERANCE_M2:
        return []
    return [
        Problem(
            f"{where}.geometry",
            f"{outside:,.1f} m² lie outside its parent {parent.code} ({parent.name}); "
            f"at most {settings.WANGGE_CONTAINMENT_TOLERANCE_M2:g} m² may",
            spot,
        )
    ]


def _children_problems(where: str, code: str, polygon) -> list[Problem]:
    """A new boundary of `code` must still hold its current children."""
    shapely.prepare(polygon)
    problems = []
    for child in Unit.objects.current().filter(parent_code=code).order_by("code"):
        outside, spot = topology.outside_m2(_shape(child), polygon)
        if outside > settings.WANGGE_CONTAINMENT_TOLERANCE_M2:
            problems.append(
                Problem(
                    f"{where}.geometry",
                    f"its child {child.code} ({child.name}) would lie {outside:,.1f} m² "
                    "outside it: change the child's boundary first",
                    spot,
                )
            )
    return problems


def _foreign_households(user, polygons) -> dict[int, str]:
    """{id: territory path} of the households under `polygons` whose grid lies outside the
    territory `user` may edit. A new boundary may not move them: it would hand them, names and
    phones included, to whoever holds the new unit."""
    if user is None or not polygons:
        return {}
    j = jurisdiction_for(user=user)
    if j.everything:
        return {}
    area = to_geos(shapely.union_all(polygons))
    return dict(
        Household.objects.within(area)
        .exclude(territory_path="")
        .exclude(subtree_q("territory_path", j.territory_edit_paths))
        .values_list("pk", "territory_path")
    )


def _refuse_taken_households(guarded: dict[int, str], where_of: dict[str, str]) -> None:
    """After the writes (the triggers have re-placed households): refuse, undoing them, if a
    household from outside the importer's territory moved. `where_of` maps each new unit's
    code to the place in the input that made it."""
    if not guarded:
        return
    moved = Household.objects.filter(pk__in=guarded).values_list("pk", "territory_path")
    taken: dict[str, int] = {}
    for pk, path in moved:
        if path != guarded[pk]:
            code = next((c for c in reversed(path.split("/")) if c in where_of), "")
            taken[code] = taken.get(code, 0) + 1
    if taken:
        raise TerritoryError(
            [
                Problem(
                    f"{where_of.get(code, 'features')}.geometry",
                    f"would take {n} household(s) from outside your territory into this unit",
                )
                for code, n in sorted(taken.items())
            ]
        )


def _outside_china_problem(geometry, crs: str) -> tuple[str, tuple[float, float]] | None:
    """GCJ-02 and BD-09 are defined in China only; elsewhere the conversion is the identity,
    so a file in the wrong CRS (or of the wrong place) would be stored as it is."""
    if crs not in (coords.GCJ02, coords.BD09) or geometry is None:
        return None
    xy = shapely.get_coordinates(geometry)
    outside = coords.outside_china(xy[:, 0], xy[:, 1]) if xy.size else np.zeros(0, bool)
    if not outside.any():
        return None
    x, y = xy[outside][0]
    return (
        f"{int(outside.sum())} of {len(xy)} point(s) lie outside China, where {crs} is not "
        f"defined: is the file really in {crs}, and of the right place? (first at ({x:g}, "
        f"{y:g}) in {crs})",
        (float(x), float(y)),
    )


def _converted_polygon(geometry, crs: str, repair: bool):
    """check_polygonal on the geometry as given and, when the CRS is converted, once more after
    conversion to WGS84: a conversion can turn a degenerate input into a valid sliver."""
    if crs in (coords.WGS84, coords.CGCS2000) or geometry is None:
        return check_polygonal(geometry, repair=repair)
    given, problems, repaired = check_polygonal(geometry, repair=repair)
    if problems:
        return (
            None,
            [replace_message(p, message=f"as given in {crs}: {p.message}") for p in problems],
            False,
        )
    polygon, problems, repaired_after = check_polygonal(
        coords.geometry_to_wgs84(given, crs), repair=repair
    )
    problems = [
        replace_message(
            p,
            # GEOS names the spot in WGS84 ("Self-intersection[x y]"): the location says it
            # in the input's CRS instead.
            message="after conversion to WGS84: " + re.sub(r"\[[^\]]*\]$", "", p.message),
            location=_location_in(p.location, crs),
        )
        for p in problems
    ]
    return polygon, problems, repaired or repaired_after


def _location_in(location: tuple[float, float] | None, crs: str):
    """A WGS84 location of a problem in the CRS the input was given in, where its author
    will look for it."""
    if location is None:
        return None
    x, y = coords.point_from_wgs84(*location, crs)
    return (round(x, 7), round(y, 7))


def _in_input_crs(problems: list[Problem], crs: str) -> list[Problem]:
    return [replace_message(p, location=_location_in(p.location, crs)) for p in problems]


def _placed_households(codes) -> dict[int, str]:
    """{id: grid code} of the households now in one of the grids `codes`."""
    if not codes:
        return {}
    return dict(
        Household.objects.filter(grid__code__in=list(codes)).values_list("pk", "grid__code")
    )


def _refuse_orphans(placed: dict[int, str], where_of: dict[str, str], allow: bool) -> None:
    """After the writes (the triggers have re-placed households): refuse, undoing them, if a
    household that had a grid was left with none, unless `allow` (the importer confirmed)."""
    if not placed or allow:
        return
    left: dict[str, int] = {}
    for pk in Household.objects.filter(pk__in=placed, grid__isnull=True).values_list(
        "pk", flat=True
    ):
        left[placed[pk]] = left.get(placed[pk], 0) + 1
    if left:
        total = sum(left.values())
        raise TerritoryError(
            [
                Problem(
                    f"{where_of.get(code, 'unit ' + code)}.geometry",
                    f"would leave {n} household(s) of {code} without a grid ({total} in all); "
                    "draw the boundary around them, or confirm with allow_orphans "
                    "(--allow-orphans)",
                )
                for code, n in sorted(left.items())
            ]
        )


def boundaries_import(
    *,
    features: list[RawFeature],
    level: str,
    crs: str = coords.WGS84,
    parent_code: str | None = None,
    repair: bool = False,
    replace: bool = False,
    valid_from: datetime.date | datetime.datetime | None = None,
    code: str | None = None,
    name: str | None = None,
    user=None,
    allow_orphans: bool = False,
    progress: Callable[[Iterable], Iterable] = iter,
    now: datetime.datetime | None = None,
) -> ImportResult:
    """Import units of one level, all or nothing. Every feature is checked first (geometry,
    coordinates, codes, lengths, dates, parent, containment in the parent, duplicates) and
    every problem is reported at once. With `replace`, a unit whose code exists gets a new
    version and the old one is retired (never edited). `code`/`name` name a lone feature that
    carries no properties (a bare geometry). With a `user`, the parents must lie in the
    territory they may edit, and no household from outside it may move into the new units.
    Households a replaced grid held must still lie in a grid, unless `allow_orphans`.
    Dated after `now` (the clock by default), the import is checked in full, the switch
    included, and scheduled (the result's `scheduled`) instead of written."""
    now = now or timezone.now()
    try:
        crs = coords.check_crs(crs)
    except coords.UnknownCRS as exc:
        raise TerritoryError([Problem("crs", str(exc))]) from exc
    if level not in CODE_LENGTH:
        raise TerritoryError([Problem("level", f"unknown level {level!r}")])
    if not features:
        raise TerritoryError([Problem("features", "the input holds no features")])
    if (code or name) and len(features) != 1:
        raise TerritoryError([Problem("code", "--code/--name only name a file of one feature")])
    date_problem = valid_from_problem(valid_from, now=now)
    if date_problem:
        raise TerritoryError([Problem("valid_from", date_problem)])
    valid_from = validity.start_of(valid_from) if valid_from is not None else now
    problems: list[Problem] = []
    checked = []
    seen: dict[str, int] = {}
    parents_needed = set()
    for feature in progress(features):
        where = f"feature {feature.index}"
        props = feature.properties
        unit_code = str(code or props.get("code") or "").strip()
        unit_name = str(name or props.get("name") or "").strip()
        unit_name_en = str(props.get("name_en") or "").strip()
        unit_parent = str(parent_code or props.get("parent_code") or "").strip() or None
        if unit_code:
            where = f"feature {feature.index} ({unit_code[:20]})"
        if not unit_name:
            problems.append(Problem(f"{where}.name", "a unit needs a name"))
        problems.extend(_length_problems(where, {"name": unit_name, "name_en": unit_name_en}))
        if level not in (Level.CITY, Level.COUNTY) and not unit_parent:
            problems.append(Problem(f"{where}.parent_code", f"a {level} needs a parent code"))
        code_problem = check_code(unit_code, level, unit_parent)
        if code_problem:
            problems.append(Problem(f"{where}.code", code_problem.message))
        elif unit_code in seen:
            problems.append(
                Problem(
                    f"{where}.code", f"duplicate code {unit_code} (also feature {seen[unit_code]})"
                )
            )
        else:
            seen[unit_code] = feature.index
        if feature.geometry is None and feature.problem:
            problems.append(Problem(f"{where}.geometry", feature.problem))
            continue
        if feature.geometry is not None and shapely.has_z(feature.geometry):
            problems.append(
                Problem(
                    f"{where}.geometry",
                    "coordinates are 3D (they carry heights); boundaries are 2D lon/lat: drop "
                    "the heights (e.g. ogr2ogr -dim XY)",
                )
            )
            continue
        raw_problem = coordinates_out_of_range(feature.geometry) if feature.geometry else None
        if raw_problem:
            problems.append(Problem(f"{where}.geometry", raw_problem.message, raw_problem.location))
            continue
        china_problem = _outside_china_problem(feature.geometry, crs)
        if china_problem:
            problems.append(Problem(f"{where}.geometry", *china_problem))
            continue
        polygon, geo_problems, repaired = _converted_polygon(feature.geometry, crs, repair)
        problems.extend(Problem(f"{where}.geometry", p.message, p.location) for p in geo_problems)
        if unit_parent:
            parents_needed.add(unit_parent)
        checked.append((where, unit_code, unit_name, unit_name_en, unit_parent, polygon, repaired))

    parents = {u.code: u for u in Unit.objects.current().filter(code__in=parents_needed)}
    for missing in sorted(parents_needed - set(parents)):
        problems.append(Problem("parent_code", f"unknown parent {missing}: import it first"))
    if user is not None:
        j = jurisdiction_for(user=user)
        for parent in sorted(parents):
            if not j.covers(parents[parent].path, j.territory_edit_paths):
                problems.append(Problem("parent_code", f"unknown parent {parent}: import it first"))
        if level in (Level.CITY, Level.COUNTY) and not j.everything and not parents_needed:
            problems.append(Problem("level", "only an administrator can import a root unit"))
    # A unit cannot begin before its parent did (the parent's first version).
    parent_births = dict(
        Unit.objects.filter(code__in=list(parents))
        .values("code")
        .annotate(first=models.Min("valid_from"))
        .values_list("code", "first")
    )
    for parent, born in sorted(parent_births.items()):
        if valid_from < born:
            problems.append(
                Problem(
                    "valid_from",
                    f"{timezone.localdate(valid_from)} is before parent {parent} began "
                    f"({timezone.localdate(born)})",
                )
            )
    current = {
        u.code: u for u in Unit.objects.current().filter(code__in=list(seen)).order_by("code")
    }
    if current and not replace:
        for unit_code in sorted(current):
            problems.append(
                Problem(
                    f"code {unit_code}", "a current unit has this code (use replace to version it)"
                )
            )
    elif current:
        for unit_code, unit in current.items():
            if valid_from <= unit.valid_from:
                problems.append(
                    Problem(
                        f"code {unit_code}.valid_from",
                        f"a new version must start after the current one ({unit.valid_from})",
                    )
                )
    parent_shapes = {c: _shape(u) for c, u in parents.items()}
    for shape in parent_shapes.values():
        shapely.prepare(shape)
    for where, unit_code, _, _, unit_parent, polygon, _ in checked:
        if polygon is None:
            continue
        if unit_parent in parents:
            problems.extend(
                _in_input_crs(
                    _containment_problems(
                        where, polygon, parents[unit_parent], parent_shapes[unit_parent]
                    ),
                    crs,
                )
            )
        if replace and unit_code in current:
            problems.extend(_in_input_crs(_children_problems(where, unit_code, polygon), crs))
    if valid_from > now:
        problems.extend(_pending_problems(seen))
    if problems:
        # Every location above is in the input's CRS: say which.
        raise TerritoryError(
            [replace_message(p, location_crs=crs) if p.location else p for p in problems]
        )

    def write() -> ImportResult:
        return _import_write(checked, current, level, valid_from, user, allow_orphans)

    if valid_from <= now:
        with transaction.atomic():
            return write()
    rows = [
        {
            "index": feature.index,
            "code": unit_code,
            "name": unit_name,
            "name_en": unit_name_en,
            "parent_code": unit_parent or "",
            "geometry": shapely.to_wkb(polygon, hex=True),
        }
        for feature, (_, unit_code, unit_name, unit_name_en, unit_parent, polygon, _) in zip(
            features, checked, strict=True
        )
    ]
    paths = [
        current[c].path if c in current else f"{parents[p].path}/{c}" if p in parents else c
        for _, c, _, _, p, _, _ in checked
    ]
    payload = {
        "level": level,
        "replace": replace,
        "allow_orphans": allow_orphans,
        "by_user": user is not None,
        "features": rows,
        # The versions the change was checked against: at its instant they must still be the
        # current ones (None: no unit has the code), or the change fails.
        "versions": {c: current[c].pk if c in current else None for c in seen},
    }
    return _schedule(
        kind=ScheduledChange.Kind.IMPORT,
        instant=valid_from,
        payload=payload,
        codes=list(seen),
        paths=paths,
        user=user,
        dry_run=write,
    )


def _import_write(checked, current, level, valid_from, user, allow_orphans) -> ImportResult:
    """boundaries_import's writes, once everything is checked; refuses (undoing them) if they
    took foreign households or left households without a grid."""
    result = ImportResult()
    with transaction.atomic():
        guarded = _foreign_households(user, [row[5] for row in checked])
        placed = _placed_households(current)
        for _, unit_code, unit_name, unit_name_en, unit_parent, polygon, repaired in checked:
            fields = {
                "level": level,
                "code": unit_code,
                "name": unit_name,
                "name_en": unit_name_en,
                "parent_code": unit_parent or "",
                "boundary": to_geos(polygon),
            }
            if unit_code in current:
                _unit_version(unit=current[unit_code], on_date=valid_from, **fields)
                result.replaced.append(unit_code)
            else:
                Unit.objects.create(valid_from=valid_from, **fields)
                result.created.append(unit_code)
            if repaired:
                result.repaired.append(unit_code)
        _refuse_taken_households(guarded, {row[1]: row[0] for row in checked})
        _refuse_orphans(placed, {row[1]: row[0] for row in checked}, allow_orphans)
        if len(checked) > 100:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE territory_unit")
    return result


def _as_shape(boundary):
    """A boundary given to unit_replace (GEOS, any SRID) as a shapely geometry in WGS84."""
    geos = boundary if isinstance(boundary, GEOSGeometry) else GEOSGeometry(boundary)
    if geos.srid and geos.srid != 4326:
        geos = geos.transform(4326, clone=True)
    return shapely.from_wkb(bytes(geos.wkb))


def unit_replace(
    *,
    unit: Unit,
    on_date: datetime.date | datetime.datetime | None = None,
    user=None,
    allow_orphans: bool = False,
    now: datetime.datetime | None = None,
    **fields,
) -> Unit | ScheduledChange:
    """Retire `unit` at `on_date` (now by default) and create its successor version (same code
    unless given). The rules of an import hold: the new boundary lies within the parent and
    still holds the unit's children, and (with a `user`) takes no household from outside the
    territory that user may edit. No household it held is left without a grid, unless
    `allow_orphans`. Dated after `now` (the clock by default), all this is checked now and the
    change is scheduled (returned) instead of written."""
    now = now or timezone.now()
    date_problem = valid_from_problem(on_date, now=now)
    if date_problem:
        raise TerritoryError([Problem("valid_from", date_problem)])
    on_date = validity.start_of(on_date) if on_date is not None else now
    if on_date <= unit.valid_from:
        raise TerritoryError(
            [Problem("valid_from", f"a new version must start after {unit.valid_from}")]
        )
    where = f"unit {unit.code}"
    problems = _length_problems(
        where, {k: v for k, v in fields.items() if k in ("name", "name_en", "code")}
    )
    polygon = None
    if "boundary" in fields or "parent_code" in fields:
        polygon = _as_shape(fields.get("boundary", unit.boundary))
        parent_code = fields.get("parent_code", unit.parent_code)
        parent = Unit.objects.current().filter(code=parent_code).first() if parent_code else None
        if parent is not None:
            parent_shape = _shape(parent)
            problems += _containment_problems(where, polygon, parent, parent_shape)
        problems += _children_problems(where, fields.get("code", unit.code), polygon)
    codes = sorted({unit.code, fields.get("code", unit.code)})
    if on_date > now:
        problems += _pending_problems(codes)
    if problems:
        raise TerritoryError(problems)

    def write() -> Unit:
        with transaction.atomic():
            guarded = _foreign_households(user, [polygon] if polygon is not None else [])
            placed = _placed_households([unit.code])
            successor = _unit_version(unit=unit, on_date=on_date, **fields)
            _refuse_taken_households(guarded, {successor.code: where})
            _refuse_orphans(placed, {unit.code: where}, allow_orphans)
        return successor

    if on_date <= now:
        return write()
    stored = {k: v for k, v in fields.items() if k != "boundary"}
    if "boundary" in fields:
        boundary = fields["boundary"]
        geos = boundary if isinstance(boundary, GEOSGeometry) else GEOSGeometry(boundary)
        stored["boundary"] = geos.hexewkb.decode()
    payload = {
        "unit": unit.pk,
        "fields": stored,
        "allow_orphans": allow_orphans,
        "by_user": user is not None,
    }
    return _schedule(
        kind=ScheduledChange.Kind.REPLACE,
        instant=on_date,
        payload=payload,
        codes=codes,
        paths=[unit.path],
        user=user,
        dry_run=write,
    ).scheduled


def _unit_version(*, unit: Unit, on_date: datetime.datetime, **fields) -> Unit:
    with transaction.atomic():
        locked = _retire(unit=unit, on_date=on_date)
        values = {
            "level": locked.level,
            "code": locked.code,
            "name": locked.name,
            "name_en": locked.name_en,
            "parent_code": locked.parent_code,
            "boundary": locked.boundary,
        } | fields
        successor = Unit.objects.create(valid_from=on_date, **values)
        successor.predecessors.add(locked)
    return successor


def unit_retire(*, unit: Unit, on_date: datetime.date | datetime.datetime | None = None) -> Unit:
    """End `unit` at `on_date` (now by default), never later than now: a unit retired ahead of
    time would stop being current at once (schedule its replacement instead)."""
    now = timezone.now()
    on_date = validity.start_of(on_date) if on_date is not None else now
    if on_date > now:
        raise TerritoryError(
            [
                Problem(
                    "valid_to",
                    f"{unit.code} cannot be retired ahead of time ({on_date}): schedule a new "
                    "version dated then instead",
                )
            ]
        )
    return _retire(unit=unit, on_date=on_date)


def _retire(*, unit: Unit, on_date: datetime.datetime) -> Unit:
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        if locked.valid_to is not None:
            raise TerritoryError([Problem("code", f"{unit.code} is already retired")])
        if on_date <= locked.valid_from:
            # The database would refuse it too (unit_validity_ordered), as an IntegrityError.
            raise TerritoryError(
                [
                    Problem(
                        "valid_to",
                        f"{unit.code} begins at {locked.valid_from}: it cannot end at {on_date}",
                    )
                ]
            )
        locked.valid_to = on_date
        locked.save(update_fields=["valid_to"])
    return locked


# --- boundary changes dated ahead ----------------------------------------------------------


def _pending_problems(codes) -> list[Problem]:
    """A unit may wait for one scheduled change at a time: a second one would be checked
    against the version the first is about to replace, and fail at its instant."""
    wanted = set(codes)
    problems = []
    pending = ScheduledChange.objects.filter(status=ScheduledChange.Status.PENDING)
    for change in pending.only("pk", "codes", "effective_at"):
        for code in sorted(wanted & set(change.codes)):
            problems.append(
                Problem(
                    f"code {code}",
                    f"a change of {code} is already scheduled for "
                    f"{timezone.localtime(change.effective_at):%Y-%m-%d %H:%M} (scheduled change "
                    f"{change.pk}): cancel it first",
                )
            )
    return problems


def _common_path(paths) -> str:
    """The deepest territory path at or above every one of `paths` ("" when they share no
    root)."""
    split = [p.split("/") for p in paths]
    common = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/".join(common)


def _schedule(*, kind, instant, payload, codes, paths, user, dry_run) -> ImportResult:
    """Store a change dated `instant` (after now) and queue its job for that instant. First
    `dry_run()` writes the change as it will be written then and is undone: the triggers
    re-place the households exactly as the switch will, so a change that would take foreign
    households or leave some without a grid is refused now, not at its instant."""
    from territory.tasks import scheduled_change_apply as task  # the task module imports this

    with transaction.atomic():
        with transaction.atomic():
            written = dry_run()
            transaction.set_rollback(True)
        result = written if isinstance(written, ImportResult) else ImportResult()
        result.scheduled = ScheduledChange.objects.create(
            kind=kind,
            effective_at=instant,
            codes=list(codes),
            territory_path=_common_path(paths),
            payload=payload,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        # In this transaction, like the micro-grid jobs: the job exists if and only if the row
        # does. The minute sweep (territory.tasks.apply_due_changes) covers a lost or late job.
        task.configure(schedule_at=instant).defer(change_id=result.scheduled.pk)
    return result


def _still_current(versions: dict[str, int | None]) -> list[Problem]:
    """Problems if the units a scheduled change was checked against have changed since."""
    current = dict(Unit.objects.current().filter(code__in=list(versions)).values_list("code", "pk"))
    problems = []
    for code, pk in sorted(versions.items()):
        if current.get(code) == pk:
            continue
        if pk is None:
            message = f"a unit {code} was created after this change was scheduled"
        elif code not in current:
            message = f"{code} was retired after this change was scheduled"
        else:
            message = f"{code} was given another version after this change was scheduled"
        problems.append(Problem(f"code {code}", message))
    return problems


def _author(change: ScheduledChange):
    """The user whose territory bounds the change, as when it was asked for."""
    if change.payload.get("by_user") and change.created_by is None:
        raise TerritoryError(
            [Problem("created_by", "the account that scheduled this change no longer exists")]
        )
    return change.created_by


def _apply_import(change: ScheduledChange, now: datetime.datetime) -> dict:
    payload = change.payload
    problems = _still_current(payload["versions"])
    if problems:
        raise TerritoryError(problems)
    features = [
        RawFeature(
            index=row["index"],
            properties={k: row[k] for k in ("code", "name", "name_en", "parent_code")},
            geometry=shapely.from_wkb(row["geometry"]),
        )
        for row in payload["features"]
    ]
    result = boundaries_import(
        features=features,
        level=payload["level"],
        replace=payload["replace"],
        allow_orphans=payload["allow_orphans"],
        valid_from=change.effective_at,
        user=_author(change),
        now=now,
    )
    return {"created": result.created, "replaced": result.replaced}


def _apply_replace(change: ScheduledChange, now: datetime.datetime) -> dict:
    payload = change.payload
    unit = Unit.objects.select_for_update().filter(pk=payload["unit"]).first()
    if unit is None or unit.valid_to is not None:
        code = change.codes[0] if change.codes else "the unit"
        raise TerritoryError(
            [
                Problem(
                    f"code {code}",
                    f"{code} was retired or given another version after this change was scheduled",
                )
            ]
        )
    fields = dict(payload["fields"])
    if "boundary" in fields:
        fields["boundary"] = GEOSGeometry(fields["boundary"])
    successor = unit_replace(
        unit=unit,
        on_date=change.effective_at,
        user=_author(change),
        allow_orphans=payload["allow_orphans"],
        now=now,
        **fields,
    )
    return {"replaced": [unit.code], "version": successor.pk}


_APPLY = {ScheduledChange.Kind.IMPORT: _apply_import, ScheduledChange.Kind.REPLACE: _apply_replace}


def scheduled_change_apply(
    *, change_id: int, now: datetime.datetime | None = None
) -> ScheduledChange | None:
    """Apply one pending change whose instant has come (`now`: the clock by default), in one
    transaction, its versions starting exactly at its instant; None when there is nothing to
    do (not yet due, applied, failed, cancelled, or being applied by another worker). Checked
    again as the switch happens: if it no longer applies (the unit was replaced meanwhile, the
    households moved...), it is marked failed with the reasons and nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        change = (
            ScheduledChange.objects.select_for_update(skip_locked=True)
            .filter(pk=change_id, status=ScheduledChange.Status.PENDING, effective_at__lte=now)
            .first()
        )
        if change is None:
            return None
        try:
            with transaction.atomic():
                change.result = _APPLY[change.kind](change, now)
        except TerritoryError as exc:
            change.status = ScheduledChange.Status.FAILED
            change.problems = [p.as_dict() for p in exc.problems]
        except IntegrityError as exc:  # a race the checks did not see: fail, not retry forever
            change.status = ScheduledChange.Status.FAILED
            change.problems = [{"where": "database", "message": str(exc).splitlines()[0]}]
        else:
            change.status = ScheduledChange.Status.APPLIED
        change.finished_at = now
        change.save(update_fields=["status", "result", "problems", "finished_at"])
    return change


def scheduled_changes_apply_due(*, now: datetime.datetime | None = None) -> list[ScheduledChange]:
    """Apply every pending change whose instant has passed, oldest first, each in its own
    transaction: the minute sweep, for jobs lost, late, or missed while the server was down."""
    now = now or timezone.now()
    due = (
        ScheduledChange.objects.filter(status=ScheduledChange.Status.PENDING, effective_at__lte=now)
        .order_by("effective_at", "pk")
        .values_list("pk", flat=True)
    )
    applied = (scheduled_change_apply(change_id=pk, now=now) for pk in list(due))
    return [change for change in applied if change is not None]


def scheduled_change_cancel(*, change: ScheduledChange, user=None) -> ScheduledChange:
    """Cancel a pending change (its job, when it runs, finds nothing to do). One already
    applied, failed or cancelled: StaleProposal (409)."""
    with transaction.atomic():
        locked = ScheduledChange.objects.select_for_update().get(pk=change.pk)
        if locked.status != ScheduledChange.Status.PENDING:
            raise StaleProposal(
                [
                    Problem(
                        "status",
                        f"this change is {locked.status} already: only a pending change can "
                        "be cancelled",
                    )
                ]
            )
        locked.status = ScheduledChange.Status.CANCELLED
        locked.cancelled_by = user if user is not None and user.is_authenticated else None
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_by", "finished_at"])
    return locked


def role_assign(*, user, role: str, unit_code: str) -> RoleAssignment:
    if not Unit.objects.current().filter(code=unit_code).exists():
        raise TerritoryError([Problem("unit_code", f"unknown unit {unit_code}")])
    assignment, _ = RoleAssignment.objects.get_or_create(user=user, role=role, unit_code=unit_code)
    user.__dict__.pop("_wangge_jurisdiction", None)
    return assignment


# --- households --------------------------------------------------------------------------


# Above this many households a reassignment reads points and cells into shapely (one STRtree
# query) and writes back with one UPDATE; below it the SQL function does it row by row.
BULK_ASSIGN_THRESHOLD = 20_000


def households_assign(*, area: GEOSGeometry | None = None) -> int:
    """Place households (all, or those whose point lies in `area`) in their current grid and
    micro-grid, in one transaction; returns how many changed. Small batches run in the database
    (territory_assign_households, the function the boundary triggers call, which asks
    territory_place); large ones place points with territory.assignment.place_in_grids (the
    same rule: the covering grid, then the covering micro-grid among that grid's children,
    lowest code on a shared edge)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # No household or boundary may change while we compute and write the placement.
        cursor.execute("LOCK TABLE territory_household IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("LOCK TABLE territory_unit IN SHARE MODE")
        where, args = ("", []) if area is None else ("WHERE location && %s", [area])
        cursor.execute(f"SELECT count(*) FROM territory_household {where}", args)
        if cursor.fetchone()[0] < BULK_ASSIGN_THRESHOLD:
            cursor.execute("SELECT territory_assign_households(%s)", [area])
            return cursor.fetchone()[0]
        return _households_assign_bulk(cursor, where, args)


def _households_assign_bulk(cursor, where: str, args: list) -> int:
    cursor.execute(
        f"SELECT id, ST_X(location), ST_Y(location) FROM territory_household {where}", args
    )
    rows = cursor.fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    xy = np.array([(r[1], r[2]) for r in rows], dtype=float).reshape(-1, 2)
    del rows
    cells = {}
    for level in (Level.GRID, Level.MICROGRID):
        cursor.execute(
            "SELECT id, code, path, parent_code, ST_AsBinary(boundary) FROM territory_unit "
            "WHERE level = %s AND valid_to IS NULL",
            [level],
        )
        cells[level] = cursor.fetchall()
    grids, micros = cells[Level.GRID], cells[Level.MICROGRID]
    grid_index, micro_index = assignment.place_in_grids(
        xy,
        shapely.from_wkb([bytes(c[4]) for c in grids]),
        [c[1] for c in grids],
        shapely.from_wkb([bytes(c[4]) for c in micros]),
        [c[1] for c in micros],
        [c[3] for c in micros],
    )
    cursor.execute(
        "CREATE TEMP TABLE territory_placement (id bigint PRIMARY KEY, grid_id bigint, "
        "micro_grid_id bigint, path text NOT NULL) ON COMMIT DROP"
    )
    with cursor.cursor.copy(
        "COPY territory_placement (id, grid_id, micro_grid_id, path) FROM STDIN"
    ) as copy:
        for household_id, g, m in zip(
            ids.tolist(), grid_index.tolist(), micro_index.tolist(), strict=True
        ):
            grid = grids[g] if g >= 0 else None
            micro = micros[m] if m >= 0 else None
            path = micro[2] if micro else grid[2] if grid else ""
            copy.write_row((household_id, grid and grid[0], micro and micro[0], path))
    cursor.execute(
        """
        UPDATE territory_household h
           SET grid_id = p.grid_id, micro_grid_id = p.micro_grid_id, territory_path = p.path
          FROM territory_placement p
         WHERE h.id = p.id
           AND (h.grid_id IS DISTINCT FROM p.grid_id
                OR h.micro_grid_id IS DISTINCT FROM p.micro_grid_id
                OR h.territory_path IS DISTINCT FROM p.path)
        """
    )
    changed = cursor.rowcount
    # Dropped now, not only on commit: the caller's transaction may be an outer one.
    cursor.execute("DROP TABLE territory_placement")
    return changed


def _household_point(lon, lat, crs) -> Point:
    try:
        return Point(*coords.point_to_wgs84(lon, lat, crs), srid=4326)
    except coords.UnknownCRS as exc:
        raise ValidationError({"crs": str(exc)}) from exc
    except coords.CoordinateError as exc:
        raise ValidationError({"location": str(exc)}) from exc


def household_placement_check(*, point: Point, user) -> str:
    """The code path `point` is placed at (territory_place: the covering current cell, lowest
    code on a shared edge: the very rule of the trigger that will place the household), if the
    user may write there. Call inside the transaction that writes the household: the shared
    placement lock taken here keeps unit writes out until it commits, so check and trigger
    see the same cells."""
    if point.srid not in (None, 4326):
        point = point.transform(4326, clone=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT territory_placement_lock(false)")
        cursor.execute(
            "SELECT path FROM territory_place(ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [point.x, point.y],
        )
        path = cursor.fetchone()[0]
    j = jurisdiction_for(user=user) if user is not None else None
    if not path or (j is not None and not j.covers(path, j.household_write_paths)):
        # The same words whether the point is in nobody's grid or in someone else's.
        raise ValidationError({"location": "the point is not inside any grid of your territory"})
    return path


@transaction.atomic
def household_create(
    *,
    lon: float,
    lat: float,
    crs: str = coords.WGS84,
    address: str,
    head_name: str,
    members: int = 1,
    head_phone: str = "",
    id_number: str = "",
    user=None,
    **flags,
) -> Household:
    point = _household_point(lon, lat, crs)
    household_placement_check(point=point, user=user)
    household = Household(
        location=point,
        address=address,
        head_name=head_name,
        head_phone=head_phone,
        members=members,
        **{f: bool(flags.get(f, False)) for f in HOUSEHOLD_FLAGS},
    )
    _set_id_number(household, id_number)
    household.full_clean(exclude=["grid", "micro_grid", "territory_path"])
    household.save()
    household.refresh_from_db(fields=["grid", "micro_grid", "territory_path"])
    return household


@transaction.atomic
def household_update(
    *,
    household: Household,
    user=None,
    crs: str = coords.WGS84,
    expected_version: int | None = None,
    **changes,
) -> Household:
    """Change a household. With `expected_version`, refuse (StaleVersion) when the row has
    moved on since the caller read it; the check runs under the row lock, so of two writers
    holding the same version only the first wins."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if expected_version is not None and household.version != expected_version:
        raise StaleVersion(
            [
                Problem(
                    "version",
                    f"the household changed since you read it (version {expected_version}, "
                    f"now {household.version}); read it again and redo your change",
                )
            ]
        )
    if "lon" in changes or "lat" in changes:
        point = _household_point(
            changes.pop("lon", household.location.x), changes.pop("lat", household.location.y), crs
        )
        household_placement_check(point=point, user=user)
        household.location = point
    if "id_number" in changes:
        _set_id_number(household, changes.pop("id_number"))
    for name, value in changes.items():
        if name not in {"address", "head_name", "head_phone", "members", *HOUSEHOLD_FLAGS}:
            raise ValidationError({name: "this field cannot be changed"})
        setattr(household, name, value)
    household.full_clean(exclude=["grid", "micro_grid", "territory_path"])
    household.save()
    household.refresh_from_db(fields=["grid", "micro_grid", "territory_path"])
    return household


def _set_id_number(household: Household, id_number: str) -> None:
    if not id_number:
        return
    try:
        household.id_number_hash = privacy.hash_id_number(id_number)
        household.id_number_masked = privacy.mask_id_number(id_number)
    except privacy.InvalidIdNumber as exc:
        raise ValidationError({"id_number": str(exc)}) from exc


# --- errors the micro-grid services raise (microgrids.services) ---------------------------


class StaleProposal(TerritoryError):
    """The grid changed (households, micro-grids or boundary) after the proposal was made, or
    a later change stands in the way of a revert: HTTP 409."""

    status = 409
    code = "stale"


class StaleVersion(StaleProposal):
    """A record changed after the client read it (its version moved): HTTP 409, or 412 against
    an If-Match header."""


def _shape(unit: Unit):
    return shapely.from_wkb(bytes(unit.boundary.wkb))
