"""Topology check: the children of every unit in a subtree must tile it exactly.

For each parent with children it reports gaps (parent area no child covers), overlaps (area two
children share) and spills (child area outside the parent), each with its area in m², a point
on it (WGS84 lon/lat) and the units involved. Pieces smaller than the tolerance (default settings.WANGGE_TOPOLOGY_TOLERANCE_M2 = 0.01 m²) are floating-point noise of
coordinate precision and are counted apart, not listed.
"""

import datetime
import math
from dataclasses import asdict, dataclass, field

import shapely
from django.conf import settings
from django.db import connection

from core.validity import as_of_instant

from .models import Unit


@dataclass
class Defect:
    kind: str  # gap | overlap | spill
    area_m2: float
    location: tuple[float, float]
    units: list[str]


@dataclass
class TopologyReport:
    root: str
    parents_checked: int = 0
    children_checked: int = 0
    tolerance_m2: float = 0.0
    defects: list[Defect] = field(default_factory=list)
    noise_pieces: int = 0

    @property
    def gaps(self):
        return [d for d in self.defects if d.kind == "gap"]

    @property
    def overlaps(self):
        return [d for d in self.defects if d.kind == "overlap"]

    @property
    def spills(self):
        return [d for d in self.defects if d.kind == "spill"]

    @property
    def ok(self) -> bool:
        return not self.defects

    def as_dict(self):
        out = asdict(self)
        out.update(
            ok=self.ok, gaps=len(self.gaps), overlaps=len(self.overlaps), spills=len(self.spills)
        )
        return out


# Children at date D of the parents in a subtree. %(when)s filters versions valid at D.
_PAIRS = """
WITH parents AS (
    SELECT p.code, p.boundary FROM territory_unit p
     WHERE (p.path = %(path)s OR p.path LIKE %(prefix)s) AND {when_p}
), kids AS (
    SELECT c.code, c.parent_code, c.boundary FROM territory_unit c
      JOIN parents ON c.parent_code = parents.code
     WHERE {when_c}
)
"""

_GAPS = (
    _PAIRS
    + """
, covered AS (
    SELECT parent_code, ST_Union(boundary) AS geom FROM kids GROUP BY parent_code
), pieces AS (
    SELECT p.code, (ST_Dump(ST_CollectionExtract(ST_Difference(p.boundary, c.geom), 3))).geom AS geom
      FROM parents p JOIN covered c ON c.parent_code = p.code
)
SELECT 'gap', ARRAY[code], {area}, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
  FROM pieces WHERE NOT ST_IsEmpty(geom)
"""
)

_OVERLAPS = (
    _PAIRS
    + """
, pieces AS (
    SELECT a.code AS a, b.code AS b,
           (ST_Dump(ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary), 3))).geom AS geom
      FROM kids a JOIN kids b
        ON a.parent_code = b.parent_code AND a.code < b.code
       AND ST_Intersects(a.boundary, b.boundary) AND NOT ST_Touches(a.boundary, b.boundary)
)
SELECT 'overlap', ARRAY[a, b], {area}, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
  FROM pieces WHERE NOT ST_IsEmpty(geom)
"""
)

_SPILLS = (
    _PAIRS
    + """
, pieces AS (
    SELECT k.code, k.parent_code,
           (ST_Dump(ST_CollectionExtract(ST_Difference(k.boundary, p.boundary), 3))).geom AS geom
      FROM kids k JOIN parents p ON p.code = k.parent_code
     WHERE NOT ST_CoveredBy(k.boundary, p.boundary)
)
SELECT 'spill', ARRAY[code, parent_code], {area}, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
  FROM pieces WHERE NOT ST_IsEmpty(geom)
"""
)

_COUNTS = (
    _PAIRS + "SELECT (SELECT count(DISTINCT parent_code) FROM kids), (SELECT count(*) FROM kids)"
)


# Area in m² of a piece, measured in the plane the overlay ran in (lon/lat degrees) and scaled
# at the piece's latitude. Not on the geography nor a projection: both bend the long edges of a
# thin planar sliver away from each other and invent thousands of m² that are not there.
_AREA = "ST_Area(geom) * (6371008.8 * pi() / 180) ^ 2 * cos(radians(ST_Y(ST_PointOnSurface(geom))))"


_M_PER_DEGREE = 6371008.8 * math.pi / 180


def _polygons(geometry) -> list:
    if geometry is None or geometry.is_empty:
        return []
    if geometry.geom_type == "Polygon":
        return [geometry]
    if geometry.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in shapely.get_parts(geometry) for p in _polygons(part)]
    return []  # points and lines have no area


def area_m2(geometry) -> float:
    """Area in m² of a WGS84 (lon/lat) geometry, measured as _AREA does in SQL: each polygon's
    planar area scaled at its own latitude (a local equirectangular projection)."""
    return sum(
        p.area * _M_PER_DEGREE**2 * math.cos(math.radians(p.point_on_surface().y))
        for p in _polygons(geometry)
    )


def outside_m2(child, parent) -> tuple[float, tuple[float, float] | None]:
    """How much of `child` lies outside `parent` (shapely, WGS84), in m², and a point (lon,
    lat) on the largest piece outside. Prepare `parent` when it is checked against many."""
    if parent.covers(child):
        return 0.0, None
    pieces = _polygons(shapely.difference(child, parent))
    if not pieces:
        return 0.0, None
    spot = max(pieces, key=lambda p: p.area).point_on_surface()
    return area_m2(shapely.MultiPolygon(pieces)), (round(spot.x, 7), round(spot.y, 7))


class TopologyTooLarge(ValueError):
    pass


def _when(alias, as_of):
    if as_of is None:
        return f"{alias}.valid_to IS NULL"
    return f"{alias}.valid_from <= %(as_of)s AND ({alias}.valid_to IS NULL OR {alias}.valid_to > %(as_of)s)"


def topology_check(
    *,
    unit: Unit,
    as_of: datetime.date | None = None,
    tolerance_m2: float | None = None,
    max_units: int | None = None,
) -> TopologyReport:
    """With `max_units`, refuse (TopologyTooLarge) a subtree of more units than that before
    any overlay runs: the check's cost grows with the subtree, and a request must not spend
    minutes of the database on a whole city."""
    tolerance = settings.WANGGE_TOPOLOGY_TOLERANCE_M2 if tolerance_m2 is None else tolerance_m2
    instant = as_of_instant(as_of) if as_of is not None else None
    if max_units is not None:
        subtree = Unit.objects.in_subtree([unit.path])
        size = (subtree.as_of(as_of) if as_of is not None else subtree.current()).count()
        if size > max_units:
            raise TopologyTooLarge(
                f"{unit.code} holds {size} units, more than the {max_units} one check may "
                "cover: check one of its townships or villages (or run manage.py "
                "check_topology on the server)"
            )
    params = {"path": unit.path, "prefix": unit.path + "/%", "as_of": instant}
    report = TopologyReport(root=unit.code, tolerance_m2=tolerance)
    with connection.cursor() as cursor:
        for template in (_GAPS, _OVERLAPS, _SPILLS):
            sql = template.format(when_p=_when("p", as_of), when_c=_when("c", as_of), area=_AREA)
            cursor.execute(sql, params)
            for kind, units, area, x, y in cursor.fetchall():
                if area < tolerance:
                    report.noise_pieces += 1
                    continue
                report.defects.append(
                    Defect(kind, round(area, 3), (round(x, 7), round(y, 7)), list(units))
                )
        cursor.execute(_COUNTS.format(when_p=_when("p", as_of), when_c=_when("c", as_of)), params)
        report.parents_checked, report.children_checked = cursor.fetchone()
    report.defects.sort(key=lambda d: -d.area_m2)
    return report
