"""Today's route: the order in which to walk to the due households (pure: numpy, scipy).

Distances are metres: along the road network when one is given (shortest paths with
scipy.sparse.csgraph; each stop is joined to its nearest road vertex by a straight walk), else
on the sphere (haversine, `core.coords.distance_m`). The order is an open path from the worker's start that minimises the
total distance, found by fast_tsp (2-opt and Or-opt local search in C++, MIT, bounded in time):
measured within 0.5% of LKH-3 at 200 stops in 0.2 s (bench/routes.py).
"""

import math
import os
from dataclasses import dataclass, field

import fast_tsp
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from core.coords import distance_m

_M_PER_DEG_LAT = 110_574.0


def straight_matrix(lonlat: np.ndarray) -> np.ndarray:
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    return distance_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])


class RoadNetwork:
    """A walkable graph from road lines (each a sequence of lon/lat vertices). Vertices shared
    by two lines (to 1e-7 degrees) join them; lines that merely cross do not (a bridge)."""

    def __init__(self, lines: list[np.ndarray]):
        coords = (
            np.vstack([np.asarray(line, dtype=float) for line in lines])
            if lines
            else np.empty((0, 2))
        )
        keys, inverse = np.unique(np.round(coords, 7), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        self.nodes = keys
        a, b = [], []
        offset = 0
        for line in lines:
            n = len(line)
            ids = inverse[offset : offset + n]
            a.extend(ids[:-1].tolist())
            b.extend(ids[1:].tolist())
            offset += n
        a, b = np.array(a, dtype=int), np.array(b, dtype=int)
        lengths = (
            distance_m(keys[a, 0], keys[a, 1], keys[b, 0], keys[b, 1]) if len(a) else np.empty(0)
        )
        keep = a != b
        size = len(keys)
        self.graph = coo_matrix(
            (
                np.r_[lengths[keep], lengths[keep]],
                (np.r_[a[keep], b[keep]], np.r_[b[keep], a[keep]]),
            ),
            shape=(size, size),
        ).tocsr()
        self._origin = keys.mean(axis=0) if size else np.zeros(2)
        self._scale = np.array(
            [111_320.0 * math.cos(math.radians(self._origin[1])), _M_PER_DEG_LAT]
        )
        self._tree = cKDTree((keys - self._origin) * self._scale) if size else None

    def __len__(self):
        return len(self.nodes)

    def snap(self, lonlat: np.ndarray):
        """(nearest vertex, straight metres to it) for each point."""
        distance, vertex = self._tree.query((np.asarray(lonlat) - self._origin) * self._scale)
        return vertex, distance

    def matrix(self, lonlat: np.ndarray):
        """Walking metres between the points, and the predecessor rows for drawing paths."""
        vertex, walk = self.snap(lonlat)
        distances, predecessors = dijkstra(
            self.graph, directed=False, indices=vertex, return_predecessors=True
        )
        between = distances[:, vertex] + walk[:, None] + walk[None, :]
        np.fill_diagonal(between, 0)
        return between, vertex, predecessors

    def path(self, predecessors_row, source_vertex, target_vertex) -> list[tuple[float, float]]:
        out = [target_vertex]
        while out[-1] != source_vertex and out[-1] >= 0:
            out.append(predecessors_row[out[-1]])
        if out[-1] < 0:
            return []
        return [tuple(self.nodes[v]) for v in reversed(out)]


def order_open_path(
    matrix: np.ndarray, start: int = 0, *, seconds: float | None = None
) -> list[int]:
    """The order of all points, from `start`, ending anywhere, that minimises the total."""
    n = len(matrix)
    if n <= 2:
        return [start, *[i for i in range(n) if i != start]]
    # An extra point D joined to the start for free and to every other point for one constant
    # turns the open path into a closed tour: tour length = path length + that constant.
    finite = matrix[np.isfinite(matrix)]
    big = float(finite.max()) * 2 + 1 if len(finite) else 1.0
    full = np.full((n + 1, n + 1), big)
    full[:n, :n] = np.where(np.isfinite(matrix), matrix, big)
    full[n, start] = full[start, n] = 0
    full[n, n] = 0
    # fast_tsp takes integers up to 65,535: scale the metres to use that range.
    scaled = np.rint(full * (65_000 / full.max())).astype(np.int64)
    budget = seconds if seconds is not None else min(0.25, 0.02 + 0.001 * n)
    tour = fast_tsp.find_tour(scaled.tolist(), budget)
    at = tour.index(n)
    tour = tour[at + 1 :] + tour[:at]
    if tour[0] != start:
        tour.reverse()
    return tour


@dataclass
class Route:
    order: list[int]  # indices of the stops given, in walking order
    legs_m: list[float]  # from the start (or the previous stop) to each stop
    line: list[tuple[float, float]]  # lon/lat
    follows_roads: bool
    notes: list[str] = field(default_factory=list)

    @property
    def total_m(self) -> float:
        return float(sum(self.legs_m))


def plan_route(start, stops, network: RoadNetwork | None = None, *, seconds=None) -> Route:
    """Walk from `start` (lon, lat) to every stop (n x 2 lon/lat)."""
    stops = np.asarray(stops, dtype=float).reshape(-1, 2)
    if not len(stops):
        return Route([], [], [tuple(start)], network is not None)
    points = np.vstack([np.asarray(start, dtype=float).reshape(1, 2), stops])
    notes = []
    predecessors = vertex = None
    if network is not None and len(network):
        matrix, vertex, predecessors = network.matrix(points)
        unreachable = ~np.isfinite(matrix[0])
        if unreachable.any():
            notes.append(
                f"{int(unreachable.sum())} stop(s) cannot be reached on the road network: "
                "straight lines to them."
            )
            straight = straight_matrix(points)
            matrix = np.where(np.isfinite(matrix), matrix, straight)
    else:
        matrix = straight_matrix(points)
        notes.append("No road network for this area: distances and the line are straight.")
    order = order_open_path(matrix, 0, seconds=seconds)
    legs, line = [], [tuple(points[0])]
    for a, b in zip(order[:-1], order[1:], strict=True):
        legs.append(float(matrix[a, b]))
        piece = []
        if predecessors is not None:
            piece = network.path(predecessors[a], vertex[a], vertex[b])
        line.extend([*piece, tuple(points[b])] if piece else [tuple(points[b])])
    return Route(
        order=[i - 1 for i in order[1:]],
        legs_m=legs,
        line=line,
        follows_roads=network is not None and len(network) > 0,
        notes=notes,
    )


# --- one stop per building ------------------------------------------------------------------
# The flats of a building share its point: a route through them one by one is hundreds of
# "0 m" legs. The route goes building to building; each stop lists its households.

# Within this the points are one place: a building's flats are geocoded to one point, and
# two buildings are more than a metre apart.
SAME_PLACE_M = 1.0


def group_by_place(lonlat, *, within_m: float = SAME_PLACE_M) -> list[list[int]]:
    """The indices of the points, grouped by place (single-link within `within_m` metres),
    each group in input order, groups by their first index."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    n = len(lonlat)
    if not n:
        return []
    # Metres on a local plane: fine over the few kilometres of a grid.
    lat0 = math.radians(float(np.mean(lonlat[:, 1])))
    xy = np.c_[lonlat[:, 0] * _M_PER_DEG_LAT * math.cos(lat0), lonlat[:, 1] * _M_PER_DEG_LAT]
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in cKDTree(xy).query_pairs(within_m):
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


# Where a Chinese address may be cut: after a road, number, building, entrance or group.
_ADDRESS_BREAKS = (
    "路",
    "街",
    "道",
    "巷",
    "弄",
    "里",
    "号",
    "栋",
    "幢",
    "座",
    "楼",
    "单元",
    "村",
    "组",
    "社区",
)


def stop_label(addresses) -> str:
    """The name of a stop holding these households: their address when one, else the part of
    the addresses they share, cut after a whole component ("…3号2栋", not "…3号2栋1单元10")."""
    addresses = [a for a in addresses if a]
    if not addresses:
        return ""
    if len(set(addresses)) == 1:
        return addresses[0]
    shared = os.path.commonprefix(addresses)
    cut = max((shared.rfind(c) + len(c) for c in _ADDRESS_BREAKS if c in shared), default=0)
    return shared[:cut] if cut else shared.rstrip() or addresses[0]
