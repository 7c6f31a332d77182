"""Writes to the territory. Each function is one user action and one transaction; bad input
raises TerritoryError (or Django's ValidationError) and writes nothing."""

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from core import coords, validity
from core.geometry import as_multipolygon as geometry_as_multipolygon
from core.geometry import check_polygonal, coordinates_out_of_range

from . import assignment, partition, privacy, proposals, selectors, topology
from .boundary_io import RawFeature
from .codes import CODE_LENGTH, Level, check_code
from .models import (
    HOUSEHOLD_FLAGS,
    Household,
    MicroGridDivision,
    MicroGridJob,
    RoleAssignment,
    Unit,
    subtree_q,
)
from .selectors import jurisdiction_for


@dataclass
class Problem:
    """One thing wrong with the input: where (feature index or field path), what, and where on
    the ground (lon, lat in WGS84) when that helps."""

    where: str
    message: str
    location: tuple[float, float] | None = None

    def as_dict(self):
        out = {"where": self.where, "message": self.message}
        if self.location:
            out["location"] = list(self.location)
        return out


class TerritoryError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.where}: {p.message}" for p in problems[:10]))


def to_geos(geometry) -> GEOSGeometry:
    """A shapely geometry in WGS84 as a GEOS geometry with its SRID (4326)."""
    return GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=4326)


# --- units -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


# The founding of the People's Republic: no division code in use is older.
EARLIEST_VALID_FROM = datetime.date(1949, 10, 1)
# Until future versions are scheduled, a version counts as current from the moment it is
# written, and its successor must start after it: a date far ahead (9999-12-31) would leave a
# unit that can be neither retired nor replaced. Further ahead than this is refused as a typo.
VALID_FROM_HORIZON = datetime.timedelta(days=366)


def valid_from_problem(when: datetime.date | datetime.datetime | None) -> str | None:
    """Why `when` cannot start a version of a unit (None: it can)."""
    if when is None:
        return None
    day = (
        timezone.localdate(validity.start_of(when)) if isinstance(when, datetime.datetime) else when
    )
    if day < EARLIEST_VALID_FROM:
        return f"{day} is before {EARLIEST_VALID_FROM}: no division code is that old"
    latest = timezone.localdate() + VALID_FROM_HORIZON
    if day > latest:
        return (
            f"{day} is more than a year ahead (at most {latest}): a new version counts as "
            "current as soon as it is written, so date it when it takes effect"
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
    progress: Callable[[Iterable], Iterable] = iter,
) -> ImportResult:
    """Import units of one level, all or nothing. Every feature is checked first (geometry,
    coordinates, codes, lengths, dates, parent, containment in the parent, duplicates) and
    every problem is reported at once. With `replace`, a unit whose code exists gets a new
    version and the old one is retired (never edited). `code`/`name` name a lone feature that
    carries no properties (a bare geometry). With a `user`, the parents must lie in the
    territory they may edit, and no household from outside it may move into the new units."""
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
    date_problem = valid_from_problem(valid_from)
    if date_problem:
        raise TerritoryError([Problem("valid_from", date_problem)])
    valid_from = validity.start_of(valid_from)
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
        raw_problem = coordinates_out_of_range(feature.geometry) if feature.geometry else None
        if raw_problem:
            problems.append(Problem(f"{where}.geometry", raw_problem.message, raw_problem.location))
            continue
        geometry = coords.geometry_to_wgs84(feature.geometry, crs) if feature.geometry else None
        polygon, geo_problems, repaired = check_polygonal(geometry, repair=repair)
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
                _containment_problems(
                    where, polygon, parents[unit_parent], parent_shapes[unit_parent]
                )
            )
        if replace and unit_code in current:
            problems.extend(_children_problems(where, unit_code, polygon))
    if problems:
        raise TerritoryError(problems)

    result = ImportResult()
    with transaction.atomic():
        guarded = _foreign_households(user, [row[5] for row in checked])
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
    *, unit: Unit, on_date: datetime.date | datetime.datetime | None = None, user=None, **fields
) -> Unit:
    """Retire `unit` at `on_date` (now by default) and create its successor version (same code
    unless given). The rules of an import hold: the new boundary lies within the parent and
    still holds the unit's children, and (with a `user`) takes no household from outside the
    territory that user may edit."""
    date_problem = valid_from_problem(on_date)
    if date_problem:
        raise TerritoryError([Problem("valid_from", date_problem)])
    on_date = validity.start_of(on_date)
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
    if problems:
        raise TerritoryError(problems)
    with transaction.atomic():
        guarded = _foreign_households(user, [polygon] if polygon is not None else [])
        successor = _unit_version(unit=unit, on_date=on_date, **fields)
        _refuse_taken_households(guarded, {successor.code: where})
    return successor


def _unit_version(*, unit: Unit, on_date: datetime.datetime, **fields) -> Unit:
    with transaction.atomic():
        locked = unit_retire(unit=unit, on_date=on_date)
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
    on_date = validity.start_of(on_date)
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
    (territory_assign_households, the function the boundary triggers call); large ones place
    points with territory.assignment (same rule: covering cell, lowest code on a shared edge)."""
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
    placed = {}
    for level in (Level.GRID, Level.MICROGRID):
        cursor.execute(
            "SELECT id, code, path, ST_AsBinary(boundary) FROM territory_unit "
            "WHERE level = %s AND valid_to IS NULL",
            [level],
        )
        cells = cursor.fetchall()
        index = assignment.place_points(
            xy, shapely.from_wkb([bytes(c[3]) for c in cells]), [c[1] for c in cells]
        )
        placed[level] = (index, cells)
    cursor.execute(
        "CREATE TEMP TABLE territory_placement (id bigint PRIMARY KEY, grid_id bigint, "
        "micro_grid_id bigint, path text NOT NULL) ON COMMIT DROP"
    )
    grid_index, grids = placed[Level.GRID]
    micro_index, micros = placed[Level.MICROGRID]
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


def _place_in_territory(point: Point, user) -> Unit:
    """The smallest current cell (micro-grid, else grid) holding `point`, if the user may
    write there."""
    cells = Unit.objects.current().filter(level__in=(Level.GRID, Level.MICROGRID)).containing(point)
    cell = max(cells.order_by("-code"), key=lambda u: len(u.code), default=None)
    j = jurisdiction_for(user=user) if user is not None else None
    if cell is None or (j is not None and not j.covers(cell.path, j.household_write_paths)):
        # The same words whether the point is in nobody's grid or in someone else's.
        raise ValidationError({"location": "the point is not inside any grid of your territory"})
    return cell


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
    _place_in_territory(point, user)
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
        _place_in_territory(point, user)
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


# --- micro-grids: preview, adjust, commit, revert, batch ----------------------------------


class StaleProposal(TerritoryError):
    """The grid changed (households, micro-grids or boundary) after the proposal was made, or
    a later change stands in the way of a revert: HTTP 409."""


class StaleVersion(StaleProposal):
    """A record changed after the client read it (its version moved): HTTP 409, or 412 against
    an If-Match header."""


def _problem(where: str, message: str) -> TerritoryError:
    return TerritoryError([Problem(where, message)])


def _infeasible(exc: partition.Infeasible) -> TerritoryError:
    return TerritoryError([Problem("bounds", f"{exc.reason} {exc.suggestion}")])


def _current_microgrids(grid: Unit) -> list[Unit]:
    return list(
        Unit.objects.current()
        .at_level(Level.MICROGRID)
        .filter(parent_code=grid.code)
        .order_by("code")
    )


def _shape(unit: Unit):
    return shapely.from_wkb(bytes(unit.boundary.wkb))


def _share_land(a, b) -> bool:
    """Lineage between micro-grids: they overlap in area (a shared edge is not land)."""
    return a.intersects(b) and not a.touches(b)


def _grid_polygon(grid: Unit):
    return shapely.make_valid(_shape(grid))


def _unchanged_codes(parts, microgrids: list[Unit]) -> list[str | None]:
    """Per part, the code of the current micro-grid it is identical to (else None)."""
    shapes = [(m.code, _shape(m)) for m in microgrids]
    codes = []
    for part in parts:
        same = next(
            (
                code
                for code, shape in shapes
                if shapely.equals(shape, part.geometry)  # the same point set, exactly
            ),
            None,
        )
        codes.append(same)
    return codes


def _proposal(grid, result, *, ids, seed, barriers) -> dict:
    return proposals.to_geojson(
        result,
        grid_code=grid.code,
        basis=selectors.grid_basis(grid=grid),
        household_ids=ids,
        seed=seed,
        barriers=barriers,
        codes=_unchanged_codes(result.parts, _current_microgrids(grid)),
    )


def microgrid_preview(
    *,
    user,
    grid_code: str,
    low: int = 30,
    high: int = 50,
    seed: int = 0,
    barriers: dict | None = None,
    start: str = "engine",
) -> dict:
    """A proposal for dividing one grid (GeoJSON, see territory.proposals); writes nothing. `start`
    "current" begins from the grid's current micro-grids instead of the engine's proposal."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    try:
        lines = proposals.barriers_from_geojson(barriers)
    except proposals.ProposalError as exc:
        raise _problem("barriers", str(exc)) from exc
    ids, xy = selectors.grid_households_xy(grid=grid)
    if start == "current":
        microgrids = _current_microgrids(grid)
        if not microgrids:
            raise _problem("start", f"grid {grid.code} has no micro-grids yet")
        data = {
            "type": "FeatureCollection",
            "low": low,
            "high": high,
            "features": [
                {"type": "Feature", "geometry": json.loads(m.boundary.geojson)} for m in microgrids
            ],
        }
        result, _ = proposals.from_geojson(data, xy=xy)
    elif start == "engine":
        try:
            result = partition.divide(
                _grid_polygon(grid),
                xy,
                low=low,
                high=high,
                seed=seed,
                barriers=proposals.barrier_list(lines),
            )
        except partition.Infeasible as exc:
            raise _infeasible(exc) from exc
    else:
        raise _problem("start", "expected engine or current")
    return _proposal(grid, result, ids=ids, seed=seed, barriers=lines)


def _read_proposal(grid, proposal, xy):
    try:
        result, settings_ = proposals.from_geojson(proposal, xy=xy)
    except proposals.ProposalError as exc:
        raise _problem("proposal", str(exc)) from exc
    if settings_["grid"] != grid.code:
        raise _problem("proposal.grid", f"this proposal is for grid {settings_['grid']}")
    if settings_["basis"] != selectors.grid_basis(grid=grid):
        raise StaleProposal(
            [
                Problem(
                    "proposal.basis",
                    "the grid changed since this proposal was made (households, micro-grids or "
                    "its boundary); preview again",
                )
            ]
        )
    return result, settings_


def _part_index(operation: dict, key: str, n: int) -> int:
    try:
        number = int(operation[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise _problem(f"operation.{key}", "expected a micro-grid number") from exc
    if not 1 <= number <= n:
        raise _problem(f"operation.{key}", f"there is no micro-grid {number}")
    return number - 1


ADJUSTMENTS = ("merge", "split", "move_area", "move_households", "lock", "unlock", "rerun")


def microgrid_adjust(*, user, grid_code: str, proposal: dict, operation: dict) -> dict:
    """Apply one planner's adjustment to a proposal and return the new proposal (no writes).
    Micro-grids are numbered from 1 as in the proposal's features."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    ids, xy = selectors.grid_households_xy(grid=grid)
    result, settings_ = _read_proposal(grid, proposal, xy)
    op = (operation or {}).get("op")
    n = len(result.parts)
    seed = settings_["seed"]
    try:
        if op == "merge":
            a = _part_index(operation, "part", n)
            b = _part_index(operation, "other", n)
            result = partition.adjust_merge(result, a, b)
        elif op == "split":
            result = partition.adjust_split(
                result, xy, _part_index(operation, "part", n), seed=seed
            )
        elif op == "move_area":
            try:
                area = proposals.geometry_from_geojson(operation.get("area"), what="area")
            except proposals.ProposalError as exc:
                raise _problem("operation.area", str(exc)) from exc
            if area.geom_type not in ("Polygon", "MultiPolygon"):
                raise _problem("operation.area", "draw a polygon")
            to = _part_index(operation, "to", n)
            result = partition.adjust_move_area(result, xy, area, to)
        elif op == "move_households":
            position = {h: i for i, h in enumerate(ids)}
            wanted = operation.get("households") or []
            missing = [h for h in wanted if h not in position]
            if missing or not wanted:
                raise _problem("operation.households", f"not households of this grid: {missing}")
            to = _part_index(operation, "to", n)
            result = partition.adjust_move_households(result, xy, [position[h] for h in wanted], to)
        elif op in ("lock", "unlock"):
            result = partition.adjust_lock(result, _part_index(operation, "part", n), op == "lock")
        elif op == "rerun":
            seed = int(operation.get("seed", seed))
            result = partition.adjust_rerun(
                result,
                _grid_polygon(grid),
                xy,
                seed=seed,
                barriers=proposals.barrier_list(settings_["barriers"]),
                low=operation.get("low"),
                high=operation.get("high"),
            )
        else:
            raise _problem("operation.op", f"expected one of {', '.join(ADJUSTMENTS)}")
    except partition.AdjustmentError as exc:
        raise _problem("operation", str(exc)) from exc
    except partition.Infeasible as exc:
        raise _infeasible(exc) from exc
    return _proposal(grid, result, ids=ids, seed=seed, barriers=settings_["barriers"])


def microgrid_commit(*, user, grid_code: str, proposal: dict) -> MicroGridDivision:
    """Make a proposal the grid's micro-grids, in one transaction: micro-grids identical to a
    current one keep it; the others are created (code = grid code + 2 digits, lineage to the
    micro-grids they overlap) and the replaced ones retired (kept, queryable as of a date).
    Households are re-placed by the database triggers. Refused, writing nothing, when the
    proposal is stale, does not tile the grid, or holds a micro-grid outside its bounds."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    with transaction.atomic():
        # Serialise commits on this grid: the second waits, then finds its proposal stale.
        grid = Unit.objects.select_for_update().get(pk=grid.pk)
        if grid.valid_to is not None:
            raise StaleProposal([Problem("grid", "the grid was retired meanwhile")])
        ids, xy = selectors.grid_households_xy(grid=grid)
        result, _ = _read_proposal(grid, proposal, xy)
        problems = [
            Problem("proposal", message)
            for message in proposals.tiling_problems(
                _grid_polygon(grid),
                [p.geometry for p in result.parts],
                tolerance_m2=settings.WANGGE_TOPOLOGY_TOLERANCE_M2,
            )
        ]
        for number, part in enumerate(result.parts, start=1):
            if not result.low <= part.households <= result.high:
                problems.append(
                    Problem(
                        f"micro-grid {number}",
                        f"{part.households} households, outside {result.low}-{result.high}",
                    )
                )
        if problems:
            raise TerritoryError(problems)
        current = _current_microgrids(grid)
        codes = _unchanged_codes(result.parts, current)
        kept = set(filter(None, codes))
        if len(kept) == len(current) == len(result.parts):
            raise _problem("proposal", "the proposal is the grid's current division: nothing to do")
        now = timezone.now()
        retired = []
        for unit in current:
            if unit.code not in kept:
                retired.append(unit_retire(unit=unit, on_date=now))
        free_numbers = (
            n for n in range(1, proposals.MAX_PARTS + 1) if f"{grid.code}{n:02d}" not in kept
        )
        division = MicroGridDivision.objects.create(
            grid=grid,
            low=result.low,
            high=result.high,
            notes=result.notes,
            committed_by=user,
            committed_at=now,
        )
        created = []
        for part, code in zip(result.parts, codes, strict=True):
            if code is not None:
                continue
            number = next(free_numbers)
            unit = Unit.objects.create(
                level=Level.MICROGRID,
                code=f"{grid.code}{number:02d}",
                name=f"{grid.name}-微网格{number:02d}",
                parent_code=grid.code,
                boundary=to_geos(geometry_as_multipolygon(part.geometry)),
                valid_from=now,
            )
            unit.predecessors.set([r for r in retired if _share_land(part.geometry, _shape(r))])
            created.append(unit)
        division.created_units.set(created)
        division.retired_units.set(retired)
    return division


def microgrid_division_revert(*, user, division: MicroGridDivision) -> MicroGridDivision:
    """Undo a committed division: its micro-grids are retired and the ones it replaced come
    back as new versions (same codes and boundaries, lineage to both). Refused when a later
    change touched the grid or its micro-grids: revert that first."""
    selectors.grid_to_divide_for_user(user=user, code=division.grid.code)
    with transaction.atomic():
        division = MicroGridDivision.objects.select_for_update().get(pk=division.pk)
        grid = Unit.objects.select_for_update().get(pk=division.grid_id)
        if division.reverted_at is not None:
            raise _problem("division", "this division was already reverted")
        created = list(division.created_units.select_for_update())
        if grid.valid_to is not None or any(u.valid_to is not None for u in created):
            raise StaleProposal(
                [Problem("division", "the grid changed after this division; revert that first")]
            )
        now = timezone.now()
        for unit in created:
            unit_retire(unit=unit, on_date=now)
        for old in division.retired_units.all():
            back = Unit.objects.create(
                level=old.level,
                code=old.code,
                name=old.name,
                name_en=old.name_en,
                parent_code=old.parent_code,
                boundary=old.boundary,
                valid_from=now,
            )
            back.predecessors.set(
                [old, *(u for u in created if _share_land(_shape(u), _shape(old)))]
            )
        division.reverted_at = now
        division.reverted_by = user
        division.save(update_fields=["reverted_at", "reverted_by"])
    return division


@transaction.atomic
def microgrid_job_create(
    *, user, unit_code: str, low: int = 30, high: int = 50, commit: bool = False, start: bool = True
) -> MicroGridJob:
    """Queue a batch re-division of every grid under a village or township for the task
    worker, or not at all with start=False (the caller runs microgrid_job_run itself)."""
    unit = selectors.unit_for_user(user=user, code=unit_code)
    j = selectors.jurisdiction_for(user=user)
    if not j.covers(unit.path, j.division_paths):
        raise _problem("unit", f"you may not re-divide grids in {unit_code}")
    if unit.level in (Level.GRID, Level.MICROGRID):
        raise _problem("unit", "pick a village, community or township")
    if low < 1 or low > high:
        raise _problem(
            "bounds", f"the minimum ({low}) must be at least 1 and at most the maximum ({high})"
        )
    job = MicroGridJob.objects.create(
        unit_code=unit.code, low=low, high=high, commit=commit, created_by=user
    )
    if start:
        from territory.tasks import microgrid_job_run as task  # the task module imports this one

        # Deferred here rather than on_commit: procrastinate's Django connector writes the
        # queue's row on this very connection, inside this transaction, so the queued job
        # exists if and only if the MicroGridJob row does (no job for a rolled-back row, no
        # row without its job if the process dies right after the commit).
        task.defer(job_id=job.pk)
    return job


def microgrid_job_run(
    *, job_id: int, progress: Callable[[Iterable], Iterable] = iter
) -> MicroGridJob:
    """Divide every current grid under the job's unit; one transaction per grid, so one grid's
    failure neither stops nor undoes the others. The report says, per grid, what happened."""
    job = MicroGridJob.objects.get(pk=job_id)
    user = job.created_by
    root = Unit.objects.current().get(code=job.unit_code)
    grids = list(
        Unit.objects.current().at_level(Level.GRID).in_subtree([root.path]).order_by("code")
    )
    MicroGridJob.objects.filter(pk=job.pk).update(
        status=MicroGridJob.Status.RUNNING, total=len(grids)
    )
    report = []
    try:
        for done, grid in enumerate(progress(grids), start=1):
            report.append(_divide_one(user, grid, job))
            MicroGridJob.objects.filter(pk=job.pk).update(done=done, report=report)
    except Exception as exc:  # noqa: BLE001 - the job must say it failed, whatever the cause
        MicroGridJob.objects.filter(pk=job.pk).update(
            status=MicroGridJob.Status.FAILED, error=repr(exc), finished_at=timezone.now()
        )
        raise
    MicroGridJob.objects.filter(pk=job.pk).update(
        status=MicroGridJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def microgrid_job_fail(*, job_id: int, reason: str) -> None:
    """Mark a job that has not finished as failed, with the reason; a finished one is left
    as it is."""
    MicroGridJob.objects.filter(
        pk=job_id, status__in=[MicroGridJob.Status.QUEUED, MicroGridJob.Status.RUNNING]
    ).update(status=MicroGridJob.Status.FAILED, error=reason, finished_at=timezone.now())


def _divide_one(user, grid: Unit, job: MicroGridJob) -> dict:
    entry = {"grid": grid.code, "name": grid.name}
    try:
        proposal = microgrid_preview(user=user, grid_code=grid.code, low=job.low, high=job.high)
    except TerritoryError as exc:
        return entry | {"status": "not divided", "reason": exc.problems[0].message}
    features = proposal["features"]
    entry |= {
        "households": sum(f["properties"]["households"] for f in features),
        "micro_grids": len(features),
        "mean_polsby_popper": proposal["mean_polsby_popper"],
        "notes": proposal["notes"],
    }
    if not job.commit:
        return entry | {"status": "previewed"}
    try:
        division = microgrid_commit(user=user, grid_code=grid.code, proposal=proposal)
    except TerritoryError as exc:
        return entry | {"status": "not divided", "reason": exc.problems[0].message}
    return entry | {"status": "divided", "division": division.pk}


@dataclass
class GridMerge:
    into: str  # the grid that absorbs the others (the one with most households)
    absorbed: list[str]
    households: int


def grids_merge_small(*, user, unit_code: str, low: int, commit: bool = False) -> list[GridMerge]:
    """Merge grids whose household count fell below `low` into the neighbour (in the same
    village) they share the longest border with: the micro-grid engine's rule for blocks.
    Without `commit` only the plan is returned. With it, in one transaction: the absorbing grid
    gets a new version (the union), the absorbed grids are retired, and their micro-grids are
    re-coded under the absorbing grid as new versions with lineage."""
    unit = selectors.unit_for_user(user=user, code=unit_code)
    j = selectors.jurisdiction_for(user=user)
    if not j.covers(unit.path, j.division_paths):
        raise _problem("unit", f"you may not change grids in {unit_code}")
    if low < 1:
        raise _problem("min", "the minimum must be at least 1")
    grids = list(
        Unit.objects.current().at_level(Level.GRID).in_subtree([unit.path]).order_by("code")
    )
    counts = dict(
        Household.objects.filter(grid__in=grids)
        .values_list("grid__code")
        .annotate(n=models.Count("id"))
        .values_list("grid__code", "n")
    )
    plan: list[GridMerge] = []
    by_village: dict[str, list[Unit]] = {}
    for grid in grids:
        by_village.setdefault(grid.parent_code, []).append(grid)
    for siblings in by_village.values():
        shapes = partition.metric([_shape(g) for g in siblings])
        weights = [counts.get(g.code, 0) for g in siblings]
        for group in partition.join_small(shapes, weights, lambda w: w >= low):
            if len(group) < 2:
                continue
            members = sorted(
                (siblings[i] for i in group), key=lambda g: (-counts.get(g.code, 0), g.code)
            )
            plan.append(
                GridMerge(
                    into=members[0].code,
                    absorbed=[g.code for g in members[1:]],
                    households=sum(counts.get(g.code, 0) for g in members),
                )
            )
    if not commit or not plan:
        return plan
    with transaction.atomic():
        now = timezone.now()
        for merge in plan:
            into = Unit.objects.current().select_for_update().get(code=merge.into)
            absorbed = list(
                Unit.objects.current().select_for_update().filter(code__in=merge.absorbed)
            )
            union = shapely.union_all([_shape(into), *(_shape(g) for g in absorbed)])
            successor = unit_replace(
                unit=into, on_date=now, boundary=to_geos(geometry_as_multipolygon(union))
            )
            successor.predecessors.add(*absorbed)
            taken = {
                m.code
                for m in Unit.objects.current()
                .at_level(Level.MICROGRID)
                .filter(parent_code=into.code)
            }
            numbers = (
                n for n in range(1, proposals.MAX_PARTS + 1) if f"{into.code}{n:02d}" not in taken
            )
            for grid in absorbed:
                for micro in _current_microgrids(grid):
                    unit_retire(unit=micro, on_date=now)
                    number = next(numbers, None)
                    if number is None:
                        raise _problem(
                            "unit", f"grid {into.code} would hold more than 99 micro-grids"
                        )
                    moved = Unit.objects.create(
                        level=Level.MICROGRID,
                        code=f"{into.code}{number:02d}",
                        name=micro.name,
                        parent_code=into.code,
                        boundary=micro.boundary,
                        valid_from=now,
                    )
                    moved.predecessors.add(micro)
                unit_retire(unit=grid, on_date=now)
    return plan
