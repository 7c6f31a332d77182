"""Checking and repairing polygon input (pure: shapely only, no database)."""

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon


@dataclass(frozen=True)
class GeometryProblem:
    message: str
    location: tuple[float, float] | None = None


def coordinates_out_of_range(geometry) -> GeometryProblem | None:
    xy = shapely.get_coordinates(geometry)
    if xy.size == 0:
        return None
    if not np.all(np.isfinite(xy)):
        return GeometryProblem("coordinates contain NaN or infinity")
    bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        x, y = xy[bad][0]
        return GeometryProblem(
            "coordinates out of range for longitude/latitude (is the file in a projected CRS "
            "such as metres? declare its CRS or reproject it to WGS84/CGCS2000)",
            (float(x), float(y)),
        )
    return None


def _location_of(reason: str):
    # GEOS reasons end with "[x y]", e.g. "Self-intersection[112.1 32.6]".
    if "[" in reason and reason.endswith("]"):
        try:
            x, y = reason[reason.rindex("[") + 1 : -1].split()[:2]
            return float(x), float(y)
        except ValueError:
            return None
    return None


def as_multipolygon(geometry) -> MultiPolygon:
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polygons = []
    for part in parts:
        polygons.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polygons)


# Area / perimeter² of a square is 1/16 and of a 1 m x 10 km strip 1e-4; a ring whose points
# all lie on a line has a ratio of rounding noise (~1e-14). GEOS calls such a ring valid.
FLAT_RATIO = 1e-9


def _flat_part(multipolygon) -> GeometryProblem | None:
    """A part with no area (all its points on a line): valid to GEOS, but a coordinate
    conversion bends it into a real sliver."""
    for part in multipolygon.geoms:
        ring = part.exterior
        if shapely.Polygon(ring).area <= FLAT_RATIO * ring.length**2:
            x, y = ring.coords[0]
            return GeometryProblem(
                "the polygon has no area: all its points lie on a line (a zero-area spike)",
                (float(x), float(y)),
            )
    return None


def check_polygonal(geometry, *, repair: bool = False):
    """Return (multipolygon or None, problems, repaired). Never repairs silently: `repaired` says
    whether make_valid changed the shape."""
    if geometry is None or geometry.is_empty:
        return None, [GeometryProblem("geometry is missing or empty")], False
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return (
            None,
            [GeometryProblem(f"expected a Polygon or MultiPolygon, got {geometry.geom_type}")],
            False,
        )
    problem = coordinates_out_of_range(geometry)
    if problem:
        return None, [problem], False
    if shapely.is_valid(geometry):
        flat = _flat_part(as_multipolygon(geometry))
        if flat is not None:
            return None, [flat], False
        return as_multipolygon(geometry), [], False
    reason = shapely.is_valid_reason(geometry)
    if not repair:
        return None, [GeometryProblem(f"invalid geometry: {reason}", _location_of(reason))], False
    fixed = as_multipolygon(shapely.make_valid(geometry))
    if fixed.is_empty or not fixed.is_valid:
        return (
            None,
            [
                GeometryProblem(
                    f"invalid geometry that cannot be repaired: {reason}", _location_of(reason)
                )
            ],
            False,
        )
    return fixed, [], True
