"""A micro-grid proposal as GeoJSON, the form it travels in between the planner's page (or an
API client) and the server until it is committed. Pure: shapely and numpy, no database.

    {"type": "FeatureCollection", "grid": "411381001001001", "basis": "<fingerprint>",
     "low": 30, "high": 50, "seed": 0, "notes": [...], "all_in_bounds": true,
     "barriers": <GeoJSON lines or null>,
     "features": [{"type": "Feature", "geometry": <Polygon>,
                   "properties": {"number": 1, "households": 38, "household_ids": [...],
                                  "polsby_popper": 0.74, "in_bounds": true, "locked": false,
                                  "code": "41138100100100101" or null}}]}

Households are never taken from the client: on the way in, each part's households are
recomputed from its geometry (the first part that covers an address wins, as in the database).
"""

import json
import math

import numpy as np
import shapely

from .partition import MicroGrid, Partition, polsby_popper

MAX_PARTS = 99  # micro-grid codes are the grid's code + 2 digits


class ProposalError(ValueError):
    pass


def to_geojson(
    partition: Partition,
    *,
    grid_code: str,
    basis: str,
    household_ids: list[int],
    seed: int = 0,
    barriers=None,
    codes: list[str | None] | None = None,
) -> dict:
    features = []
    for number, part in enumerate(partition.parts, start=1):
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(part.geometry)),
                "properties": {
                    "number": number,
                    "households": part.households,
                    "household_ids": [household_ids[m] for m in part.members],
                    "polsby_popper": round(part.polsby_popper, 4),
                    "in_bounds": partition.low <= part.households <= partition.high,
                    "locked": part.locked,
                    "code": codes[number - 1] if codes else None,
                },
            }
        )
    scores = [p.polsby_popper for p in partition.parts]
    return {
        "type": "FeatureCollection",
        "grid": grid_code,
        "basis": basis,
        "low": partition.low,
        "high": partition.high,
        "seed": seed,
        "notes": partition.notes,
        "all_in_bounds": partition.all_in_bounds,
        "mean_polsby_popper": round(float(np.mean(scores)), 4) if scores else None,
        # A mean hides a sliver: the worst part is what a planner has to look at.
        "worst_polsby_popper": round(float(min(scores)), 4) if scores else None,
        "barriers": json.loads(shapely.to_geojson(barriers)) if barriers is not None else None,
        "features": features,
    }


def geometry_from_geojson(data, *, what: str):
    try:
        geometry = shapely.from_geojson(json.dumps(data))
    except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
        raise ProposalError(f"{what}: not a GeoJSON geometry ({exc})") from exc
    if geometry is None or geometry.is_empty:
        raise ProposalError(f"{what}: empty geometry")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ProposalError(f"{what}: coordinates out of range for WGS84 lon/lat")
    return geometry


def barriers_from_geojson(data):
    """Lines (LineString, MultiLineString, or a FeatureCollection of them) or None."""
    if not data:
        return None
    if not isinstance(data, dict):
        raise ProposalError("barriers: expected a GeoJSON geometry or FeatureCollection of lines")
    if data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
            raise ProposalError("barriers: features must be a list of GeoJSON features")
        parts = [
            geometry_from_geojson(f.get("geometry"), what=f"barrier {i + 1}")
            for i, f in enumerate(features)
        ]
        lines = shapely.union_all(parts) if parts else None
    else:
        lines = geometry_from_geojson(data, what="barriers")
    if lines is None:
        return None
    if lines.geom_type not in ("LineString", "MultiLineString"):
        raise ProposalError("barriers: expected lines (roads, rivers, walls)")
    return lines


def barrier_list(lines) -> list:
    if lines is None:
        return []
    return list(lines.geoms) if hasattr(lines, "geoms") else [lines]


def _integer(value) -> int:
    """An integer sent as a JSON integer (or a float with no fraction); None is 0."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not an integer")
    return int(value)


def from_geojson(data, *, xy) -> tuple[Partition, dict]:
    """The proposal's parts with their households recomputed from `xy` (n x 2, in the order of
    the grid's household ids), and its settings (grid, basis, seed, barriers)."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ProposalError("the proposal must be a GeoJSON FeatureCollection")
    try:
        low, high, seed = (
            _integer(data["low"]),
            _integer(data["high"]),
            _integer(data.get("seed")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProposalError("the proposal needs integer low and high bounds") from exc
    if not (1 <= low <= high and seed >= 0):
        raise ProposalError("the proposal's bounds must satisfy 1 <= low <= high, seed >= 0")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ProposalError("the proposal holds no micro-grids")
    if len(features) > MAX_PARTS:
        raise ProposalError(f"at most {MAX_PARTS} micro-grids per grid (codes have 2 digits)")
    points = shapely.points(np.asarray(xy, dtype=float)) if len(xy) else np.empty(0, object)
    taken = np.zeros(len(points), dtype=bool)
    parts = []
    for number, feature in enumerate(features, start=1):
        what = f"micro-grid {number}"
        if not isinstance(feature, dict):
            raise ProposalError(f"{what}: not a GeoJSON feature")
        geometry = geometry_from_geojson(feature.get("geometry"), what=what)
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ProposalError(f"{what}: a micro-grid is a polygon")
        if not geometry.is_valid:
            raise ProposalError(f"{what}: invalid polygon ({shapely.is_valid_reason(geometry)})")
        if geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]  # stored boundaries are MultiPolygons of one piece
        inside = shapely.covers(geometry, points) & ~taken if len(points) else taken
        taken |= inside
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise ProposalError(f"{what}: properties must be an object")
        parts.append(
            MicroGrid(
                geometry,
                np.flatnonzero(inside).tolist(),
                polsby_popper(geometry),
                bool(properties.get("locked")),
            )
        )
    settings = {
        "grid": data.get("grid"),
        "basis": data.get("basis"),
        "seed": seed,
        "barriers": barriers_from_geojson(data.get("barriers")),
    }
    notes = data.get("notes") or []
    notes = [str(n) for n in notes][:20] if isinstance(notes, list) else []
    return Partition(parts=parts, low=low, high=high, notes=notes), settings


def tiling_problems(grid, parts: list, *, tolerance_m2: float) -> list[str]:
    """What keeps `parts` (WGS84 polygons) from tiling `grid` exactly: pieces outside it,
    overlaps, gaps, parts in several pieces. Areas are measured in m² at the grid's latitude."""
    m2_per_deg2 = (111_320.0**2) * math.cos(math.radians(grid.centroid.y))
    problems = []
    for number, part in enumerate(parts, start=1):
        if part.geom_type != "Polygon":
            problems.append(f"micro-grid {number} is in {len(part.geoms)} pieces, not one")
        outside = shapely.difference(part, grid).area * m2_per_deg2
        if outside > tolerance_m2:
            problems.append(f"micro-grid {number} spills {outside:.1f} m² outside the grid")
    for i, a in enumerate(parts):
        for j in range(i + 1, len(parts)):
            overlap = shapely.intersection(a, parts[j]).area * m2_per_deg2
            if overlap > tolerance_m2:
                problems.append(f"micro-grids {i + 1} and {j + 1} overlap by {overlap:.1f} m²")
    gap = shapely.difference(grid, shapely.union_all(parts)).area * m2_per_deg2
    if gap > tolerance_m2:
        problems.append(f"{gap:.1f} m² of the grid belong to no micro-grid")
    return problems
