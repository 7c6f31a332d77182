"""Benchmark: ordering today's stops (open path from the worker's start, free end).

On fixed instances (20 to 300 stops; straight-line distances, and walking distances on a
synthetic street network with missing links), in the same run, on the same matrices:
- wangge:     patrols.routing.order_open_path (fast_tsp, time-bounded local search);
- lkh3:       LKH-3 through PyPI elkai, default settings (the near-optimal reference);
- ortools:    OR-Tools' routing solver, default first solution and default local search;
- nearest:    plain nearest neighbour from the start (the naive baseline).
Open paths are solved by every method on the same transformation: an extra point joined to
the start for free and to every other point for one constant. Printed: length ratio to LKH-3
and seconds per method and instance; the last line is one JSON object.
"""

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from patrols.routing import RoadNetwork, order_open_path, straight_matrix  # noqa: E402

SEED = 4113
SIZES = (20, 50, 100, 200, 300)
ORIGIN = np.array([112.08, 32.68])
M_PER_DEG = np.array([111_320.0 * math.cos(math.radians(32.68)), 110_574.0])


def to_lonlat(xy_m):
    return xy_m / M_PER_DEG + ORIGIN


def street_grid(rng, blocks=24, spacing=90.0, missing=0.15):
    """A lattice of streets (spacing m) with a share of links missing (walls, canals)."""
    lines = []
    for i in range(blocks + 1):
        for j in range(blocks):
            for a, b in (((i, j), (i, j + 1)), ((j, i), (j + 1, i))):
                if rng.random() < missing:
                    continue
                lines.append(to_lonlat(np.array([a, b], dtype=float) * spacing))
    return RoadNetwork(lines), blocks * spacing


def instances():
    rng = np.random.default_rng(SEED)
    network, extent = street_grid(rng)
    out = []
    for n in SIZES:
        points = to_lonlat(rng.uniform(0, 1500, (n + 1, 2)))
        out.append((f"straight-{n}", straight_matrix(points)))
        points = to_lonlat(rng.uniform(0, extent, (n + 1, 2)))
        matrix, _, _ = network.matrix(points)
        if not np.isfinite(matrix).all():  # a stop on a cut-off street: use straight lines there
            matrix = np.where(np.isfinite(matrix), matrix, straight_matrix(points) * 3)
        out.append((f"roads-{n}", matrix))
    return out


def open_length(matrix, order):
    return float(sum(matrix[a, b] for a, b in zip(order[:-1], order[1:], strict=True)))


def with_dummy(matrix, start=0):
    n = len(matrix)
    big = float(matrix.max()) * 2 + 1
    full = np.full((n + 1, n + 1), big)
    full[:n, :n] = matrix
    full[n, start] = full[start, n] = 0
    full[n, n] = 0
    return full


def from_tour(tour, n, start=0):
    tour = list(tour)
    if tour[0] == tour[-1]:
        tour = tour[:-1]
    at = tour.index(n)
    tour = tour[at + 1 :] + tour[:at]
    if tour[0] != start:
        tour.reverse()
    return tour


def solve_lkh(matrix):
    import elkai

    n = len(matrix)
    full = with_dummy(matrix)
    tour = elkai.DistanceMatrix(np.rint(full * 10).astype(int).tolist()).solve_tsp()
    return from_tour(tour, n)


def solve_ortools(matrix):
    from ortools.constraint_solver import pywrapcp

    n = len(matrix)
    full = np.rint(with_dummy(matrix) * 10).astype(int)
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, [0], [n])  # start at 0, end at the dummy
    model = pywrapcp.RoutingModel(manager)
    # The matrix lives in C++ (no Python callback per arc): OR-Tools at its fastest.
    callback = model.RegisterTransitMatrix(full.tolist())
    model.SetArcCostEvaluatorOfAllVehicles(callback)
    solution = model.SolveWithParameters(pywrapcp.DefaultRoutingSearchParameters())
    index, order = model.Start(0), []
    while not model.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(model.NextVar(index))
    return order


def solve_nearest(matrix):
    n = len(matrix)
    order, left = [0], set(range(1, n))
    while left:
        here = order[-1]
        nxt = min(left, key=lambda j: matrix[here, j])
        order.append(nxt)
        left.remove(nxt)
    return order


METHODS = {
    "wangge": lambda m: order_open_path(m, 0),
    "lkh3": solve_lkh,
    "ortools": solve_ortools,
    "nearest": solve_nearest,
}


def main():
    results = {}
    print(f"{'instance':<14}" + "".join(f"{m:>22}" for m in METHODS))
    for name, matrix in instances():
        row = {}
        for method, solve in METHODS.items():
            start = time.perf_counter()
            order = solve(matrix)
            seconds = time.perf_counter() - start
            assert sorted(order) == list(range(len(matrix))) and order[0] == 0, method
            row[method] = {
                "length_m": round(open_length(matrix, order), 1),
                "seconds": round(seconds, 3),
            }
        reference = row["lkh3"]["length_m"]
        for figures in row.values():
            figures["ratio_to_lkh3"] = round(figures["length_m"] / reference, 4)
        results[name] = row
        print(
            f"{name:<14}"
            + "".join(f"{f['ratio_to_lkh3']:>12.4f} {f['seconds']:>7.3f}s" for f in row.values())
        )
    at_200 = [results[k] for k in ("straight-200", "roads-200")]
    summary = {
        "instances": results,
        "length_ratio_to_reference": round(
            float(np.mean([r["wangge"]["ratio_to_lkh3"] for r in at_200])), 4
        ),
        "seconds_200": round(float(np.mean([r["wangge"]["seconds"] for r in at_200])), 3),
        "ortools_ratio_to_reference_200": round(
            float(np.mean([r["ortools"]["ratio_to_lkh3"] for r in at_200])), 4
        ),
        "ortools_seconds_200": round(float(np.mean([r["ortools"]["seconds"] for r in at_200])), 3),
        "lkh3_seconds_200": round(float(np.mean([r["lkh3"]["seconds"] for r in at_200])), 3),
        "nearest_ratio_to_reference_200": round(
            float(np.mean([r["nearest"]["ratio_to_lkh3"] for r in at_200])), 4
        ),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
