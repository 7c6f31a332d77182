"""Re-dividing a grid into micro-grids of `low`-`high` households (pure: shapely, numpy).

Method (first version; see issue "Micro-grids"):
1. Households at one address point form one *atom* (they stay together). Each atom gets the
   Voronoi cell of its point clipped to the grid, so the cells tile the grid exactly and empty
   land goes to the nearest address.
2. Cells that share an edge are neighbours (the contiguity graph).
3. Recursive bisection: a region that must become k micro-grids is cut in two along the
   direction (of 12 tried) whose cut keeps both sides contiguous, inside their feasible weight
   ranges and closest to the k1:k2 share, shortest cut first among equals; this yields compact
   parts. Each side recurses until k = 1.
4. Micro-grids are unions of their cells; each reports households and Polsby-Popper.

Geometry is computed in a local metric plane (equirectangular around the grid, metres) so that
compactness is measured in metres, then mapped back to WGS84 lon/lat.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

_M_PER_DEG_LAT = 110_574.0
BALANCE_SLACK = 0.0  # households per micro-grid; a tuning knob (see issue 3 notes)
_M_PER_DEG_LON_EQ = 111_320.0


class Infeasible(ValueError):
    """The bounds cannot be met; `reason` says why and `suggestion` what would work."""

    def __init__(self, reason: str, suggestion: str):
        self.reason, self.suggestion = reason, suggestion
        super().__init__(f"{reason} {suggestion}")


@dataclass
class MicroGrid:
    geometry: Polygon | MultiPolygon  # WGS84 lon/lat
    households: int
    polsby_popper: float
    atoms: list[int] = field(default_factory=list)


@dataclass
class Partition:
    parts: list[MicroGrid]
    low: int
    high: int

    @property
    def all_in_bounds(self) -> bool:
        return all(self.low <= p.households <= self.high for p in self.parts)


def polsby_popper(geometry) -> float:
    return 4 * math.pi * geometry.area / geometry.length**2 if geometry.length else 0.0


def feasible_part_counts(total: int, heaviest: int, low: int, high: int) -> range:
    if low > high:
        raise Infeasible(f"the minimum ({low}) is above the maximum ({high}).", "Swap the bounds.")
    if total == 0:
        raise Infeasible("the grid has no households.", "Nothing to divide.")
    if heaviest > high:
        raise Infeasible(
            f"{heaviest} households share one address, more than the maximum of {high}.",
            f"Raise the maximum to at least {heaviest}.",
        )
    counts = range(math.ceil(total / high), total // low + 1)
    if not counts:
        # The two nearest ways out: fewer, larger parts (raise the maximum) or more, smaller
        # parts (lower the minimum).
        fewer = max(1, total // low)
        more = math.ceil(total / high)
        raise Infeasible(
            f"{total} households cannot form micro-grids of {low}-{high}.",
            f"Closest feasible: {fewer} micro-grid(s) with the maximum raised to "
            f"{math.ceil(total / fewer)}, or {more} with the minimum lowered to {total // more}.",
        )
    return counts


def divide(grid, xy, *, low: int = 30, high: int = 50, seed: int = 0) -> Partition:
    """Divide `grid` (WGS84 polygon) holding households at `xy` (n x 2 lon/lat)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    points, weights = np.unique(np.round(xy, 7), axis=0, return_counts=True)
    total = int(weights.sum())
    counts = feasible_part_counts(total, int(weights.max()) if total else 0, low, high)
    target = (low + high) / 2
    k = min(counts, key=lambda c: (abs(total / c - target), c))

    lon0, lat0 = grid.centroid.x, grid.centroid.y
    scale = np.array([_M_PER_DEG_LON_EQ * math.cos(math.radians(lat0)), _M_PER_DEG_LAT])

    def to_m(geometry):
        return shapely.transform(geometry, lambda c: (c - (lon0, lat0)) * scale)

    def to_deg(geometry):
        return shapely.transform(geometry, lambda c: c / scale + (lon0, lat0))

    area = to_m(grid)
    local = (points - (lon0, lat0)) * scale
    cells = _cells(area, local)
    neighbours = _adjacency(cells)
    rng = np.random.default_rng(seed)
    groups = _bisect(list(range(len(cells))), k, weights, local, neighbours, low, high, rng)

    parts = []
    for group in sorted(groups, key=lambda g: tuple(np.round(local[g].mean(axis=0), 3))):
        shape = shapely.union_all([cells[i] for i in group])
        parts.append(
            MicroGrid(to_deg(shape), int(weights[group].sum()), polsby_popper(shape), group)
        )
    return Partition(parts=parts, low=low, high=high)


def _cells(area, local):
    if len(local) == 1:
        return [area]
    jitter = shapely.MultiPoint(local)
    diagram = shapely.voronoi_polygons(jitter, extend_to=area.envelope.buffer(10))
    tree = shapely.STRtree(list(diagram.geoms))
    cells = []
    for x, y in local:
        hit = tree.query(shapely.Point(x, y), predicate="intersects")[0]
        cells.append(shapely.intersection(diagram.geoms[hit], area))
    return cells


def _adjacency(cells):
    tree = shapely.STRtree(cells)
    neighbours = [set() for _ in cells]
    left, right = tree.query(cells, predicate="intersects")
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a < b and shapely.intersection(cells[a], cells[b]).length > 1e-6:
            neighbours[a].add(b)
            neighbours[b].add(a)
    return neighbours


def _connected(members, neighbours) -> bool:
    members = set(members)
    if not members:
        return False
    start = next(iter(members))
    seen, stack = {start}, [start]
    while stack:
        for n in neighbours[stack.pop()]:
            if n in members and n not in seen:
                seen.add(n)
                stack.append(n)
    return len(seen) == len(members)


def _bisect(members, k, weights, local, neighbours, low, high, rng):
    if k == 1:
        return [members]
    k1 = k // 2
    k2 = k - k1
    total = weights[members].sum()
    best = None
    pts = local[members]
    w = weights[members]
    for angle in np.linspace(0, math.pi, 12, endpoint=False):
        direction = np.array([math.cos(angle), math.sin(angle)])
        order = np.argsort(pts @ direction, kind="stable")
        cumulative = np.cumsum(w[order])
        for cut in range(1, len(order)):
            left_w = cumulative[cut - 1]
            right_w = total - left_w
            if not (k1 * low <= left_w <= k1 * high and k2 * low <= right_w <= k2 * high):
                continue
            # Per-part averages may differ by a few households: balance is kept by the bounds,
            # and the slack buys shorter cuts (more compact micro-grids).
            imbalance = max(0.0, abs(left_w / k1 - right_w / k2) - BALANCE_SLACK)
            if best is not None and imbalance > best[0]:
                continue
            left = [members[i] for i in order[:cut]]
            right = [members[i] for i in order[cut:]]
            if not (_connected(left, neighbours) and _connected(right, neighbours)):
                continue
            # Cut length, approximated by the extent of the region across the cut direction.
            spread = np.ptp(pts @ np.array([-direction[1], direction[0]]))
            key = (imbalance, spread)
            if best is None or key < best[:2]:
                best = (imbalance, spread, left, right)
    if best is None:
        raise Infeasible(
            "no contiguous division was found for this grid with these bounds.",
            "Widen the bounds or adjust the grid by hand.",
        )
    _, _, left, right = best
    return _bisect(left, k1, weights, local, neighbours, low, high, rng) + _bisect(
        right, k2, weights, local, neighbours, low, high, rng
    )
