"""Benchmark: re-dividing grids into micro-grids of 30-50 households.

On one fixed set of grids (synthetic shapes and grids of the demo territory, 150-600
households each), in the same run and on the same inputs:
- wangge:     microgrids.partition.divide (straight-cut recursive bisection, barriers respected);
- maxp:       spopt's MaxPHeuristic, threshold (floor) = min households;
- skater:     spopt's SKATER, floor = min, households / 40 regions;
- gerrychain: GerryChain's recursive_tree_part, target = households / parts, epsilon chosen so
              that target +- epsilon stays inside [min, max].
The anchors work on the Voronoi cells of the addresses clipped to the grid (households at one
address are one cell, weighted by their number), contiguity through shared edges; cells on two
sides of a barrier line are not neighbours. MaxPHeuristic takes tens of seconds per grid, so it
runs on the fixed subset MAXP_SUBSET (8 grids, one or two of each kind).

Instance kinds: uniform, clustered, a village along a road, a courtyard (hole), barriers,
towers of 40-48 households (below the maximum) among houses, many equal addresses (24 of 17,
23 of 21-22, 25 of 17), combs, an enclave (a detached piece), a barrier cutting off a corner
of 12 households.

Figures per method: share of micro-grids inside [min, max], share of grids entirely inside,
share of contiguous micro-grids, mean and worst Polsby-Popper (in metres), median seconds per
grid, `false_infeasible` (grids an exact search with a long limit divides within the bounds
where the method gave no division in bounds), `extra_barrier_crossings` (micro-grids a barrier
runs through, beyond the fewest any method reached on that grid in bounds or one per piece
between barriers that cannot stand alone, whichever is smaller); then the ratios of
wangge to each anchor. The last printed line is one JSON object.
Run with `make bench`; the demo grids come from the `wangge_bench` database when it is there.
"""

import json
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import functools

from microgrids import partition  # noqa: E402

LOW, HIGH = 30, 50
SEED = 20261122
ORIGIN = (112.08, 32.68)  # Dengzhou
M_PER_DEG = np.array([111_320.0 * math.cos(math.radians(ORIGIN[1])), 110_574.0])
METHODS = ("wangge", "maxp", "skater", "gerrychain")
# Each anchor runs in a child process stopped after this long; a timeout counts as a failed
# grid (no micro-grid in bounds) and as this many seconds in the median.
TIMEOUTS_S = {"wangge": 60, "maxp": 90, "skater": 20, "gerrychain": 20}


@dataclass
class Case:
    name: str
    grid: shapely.Polygon  # WGS84
    xy: np.ndarray  # households, WGS84 lon/lat
    barriers: list = field(default_factory=list)
    edges: list = field(default_factory=list)  # address contiguity, barriers ignored


def to_deg(geometry, offset=(0.0, 0.0)):
    """A shape drawn in metres (around an offset in metres) placed near Dengzhou in lon/lat."""
    return shapely.transform(geometry, lambda c: (c + offset) / M_PER_DEG + ORIGIN)


def scatter(shape_m, n, rng, centres=None, spread=40.0, max_per_address=1):
    """n households in a shape (metres): uniform, or around settlement centres; some addresses
    hold several households (apartment buildings)."""
    points = []
    minx, miny, maxx, maxy = shape_m.bounds
    shapely.prepare(shape_m)
    while len(points) < n:
        if centres is None:
            p = (rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        else:
            c = centres[rng.integers(len(centres))]
            p = (rng.normal(c[0], spread), rng.normal(c[1], spread))
        if not shapely.contains_xy(shape_m, *p):
            continue
        repeat = int(rng.integers(1, max_per_address + 1))
        points.extend([p] * min(repeat, n - len(points)))
    return np.array(points)


def synthetic_cases(rng) -> list[Case]:
    cases = []
    offset = 0.0

    def add(name, shape_m, xy_m, barriers_m=()):
        nonlocal offset
        at = (offset, 0.0)
        cases.append(
            Case(
                name,
                to_deg(shape_m, at),
                (xy_m + at) / M_PER_DEG + ORIGIN,
                [to_deg(b, at) for b in barriers_m],
            )
        )
        offset += 5000.0

    for i, n in enumerate((150, 250, 350, 450, 500, 600)):
        side = math.sqrt(n) * 21  # about 440 m for 450 households
        square = shapely.box(0, 0, side * 1.07, side)
        add(f"uniform-{n}", square, scatter(square, n, rng, max_per_address=1 + i % 3))
    for n in (200, 320, 420, 520, 580):
        square = shapely.box(0, 0, 600, 500)
        centres = rng.uniform((80, 80), (520, 420), size=(int(rng.integers(3, 6)), 2))
        add(
            f"clustered-{n}",
            square,
            scatter(square, n, rng, centres=centres, spread=45, max_per_address=4),
        )
    for n in (160, 260, 380, 480):
        road = shapely.LineString([(0, 0), (800, 120), (1600, -60), (2400, 90), (3000, 0)])
        village = road.buffer(90, cap_style="flat")
        add(f"village-road-{n}", village, scatter(village, n, rng, max_per_address=2))
    for n in (180, 300, 420, 560):
        outer = shapely.box(0, 0, 520, 520)
        donut = outer.difference(shapely.box(170, 170, 350, 350))
        add(f"courtyard-{n}", donut, scatter(donut, n, rng, max_per_address=2))
    for n in (240, 360, 480, 600):
        square = shapely.box(0, 0, 560, 480)
        roads = [shapely.LineString([(230, -10), (260, 490)])]
        if n >= 360:
            roads.append(shapely.LineString([(-10, 300), (200, 260), (400, 320), (570, 280)]))
        add(f"barriers-{n}", square, scatter(square, n, rng, max_per_address=2), roads)
    # Towers of 40-48 households (below the maximum) among houses: slivers beside them.
    for n_towers, houses in ((4, 160), (6, 150), (8, 120)):
        square = shapely.box(0, 0, 560, 450)
        towers = rng.uniform((20, 20), (540, 430), size=(n_towers, 2))
        sizes = rng.integers(40, 49, n_towers)
        xy = np.vstack([np.repeat(towers, sizes, axis=0), scatter(square, houses, rng)])
        add(f"towers-{len(xy)}", square, xy)
    # Many equal addresses: 24 of 17 households pair up into 12 of 34 (feasible, though no
    # straight cut finds it); 23 of 21-22 (the demo's grid); 25 of 17 on a lattice (infeasible).
    for columns, rows, sizes in ((6, 4, [17]), (23, 1, [21, 22]), (5, 5, [17])):
        square = shapely.box(0, 0, columns * 90, max(rows, 2) * 90)
        sites = [
            ((i + 0.5) * 90 + rng.uniform(-8, 8), (j + 0.5) * 90 + rng.uniform(-8, 8))
            for i in range(columns)
            for j in range(max(rows, 2) if rows > 1 else 1)
        ]
        if rows == 1:  # a street of buildings, in two staggered rows
            sites = [((i + 0.5) * 90, 45 + 90 * (i % 2)) for i in range(columns)]
        weights = [sizes[k % len(sizes)] for k in range(len(sites))]
        xy = np.repeat(np.array(sites), weights, axis=0)
        add(f"equal-{len(sites)}x{sizes[0]}", square, xy)
    # Combs: teeth joined along one edge.
    for teeth, n in ((4, 240), (6, 320)):
        comb = shapely.union_all(
            [shapely.box(i * 110, 0, i * 110 + 60, 420) for i in range(teeth)]
            + [shapely.box(0, 380, teeth * 110 - 50, 420)]
        )
        add(f"comb-{n}", comb, scatter(comb, n, rng))
    # An enclave: a detached piece of 40 households (one micro-grid of its own).
    main = shapely.box(0, 0, 500, 420)
    piece = shapely.box(560, 100, 640, 180)
    xy = np.vstack([scatter(main, 260, rng, max_per_address=2), scatter(piece, 40, rng)])
    add("enclave-300", shapely.MultiPolygon([main, piece]), xy)
    # A barrier cutting off a corner of 12 households: one micro-grid must cross it, no more.
    for n in (250, 400):
        square = shapely.box(0, 0, 520, 440)
        corner = shapely.Polygon([(0, 0), (130, 0), (0, 110)])
        road = shapely.LineString([(-10, 118), (140, -10)])
        xy = np.vstack(
            [scatter(square.difference(corner.buffer(8)), n - 12, rng), scatter(corner, 12, rng)]
        )
        add(f"barrier-corner-{n}", square, xy, [road])
    return cases


def demo_cases(count=8) -> list[Case]:
    """Grids of 150-600 households from the demo territory (wangge_bench), when reachable."""
    try:
        import django

        django.setup()
        from django.db.models import Count

        from territory.models import Household, Unit

        codes = list(
            Household.objects.values("grid__code")
            .annotate(n=Count("id"))
            .filter(n__gte=150, n__lte=600)
            .order_by("grid__code")
            .values_list("grid__code", flat=True)
        )
    except Exception as exc:  # noqa: BLE001 - no database: the synthetic set still runs
        print(f"(no demo grids: {exc.__class__.__name__}: {exc})")
        return []
    if not codes:
        return []
    step = max(1, len(codes) // count)
    cases = []
    for code in codes[::step][:count]:
        grid = Unit.objects.current().get(code=code)
        xy = np.array(
            [
                (p.x, p.y)
                for p in Household.objects.filter(grid=grid).values_list("location", flat=True)
            ]
        )
        shape = shapely.make_valid(shapely.from_wkb(bytes(grid.boundary.wkb)))
        if shape.geom_type == "MultiPolygon" and len(shape.geoms) == 1:
            shape = shape.geoms[0]
        cases.append(Case(f"demo-{code}", shape, xy))
    return cases


# --- the anchors' input: Voronoi cells of addresses, contiguity without crossing barriers ---


def cells_and_graph(case: Case):
    plane = partition._Plane(case.grid)
    atoms = partition._atoms(case.xy, plane)
    region = plane.to_m(case.grid)
    cells = partition._cells(region, atoms.local)
    neighbours = partition._adjacency(cells)
    # The whole contiguity graph (barriers may be crossed where they must): the exact search
    # decides on it whether any division exists.
    case.edges = [(a, b) for a, near in enumerate(neighbours) for b in near if a < b]
    barriers = [plane.to_m(b) for b in case.barriers]
    if barriers:
        for a in range(len(cells)):
            for b in list(neighbours[a]):
                if b > a:
                    link = shapely.LineString([atoms.local[a], atoms.local[b]])
                    if any(link.intersects(line) for line in barriers):
                        neighbours[a].discard(b)
                        neighbours[b].discard(a)
    return plane, atoms, cells, neighbours


def regions_from_labels(labels, cells, weights):
    groups = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    out = []
    for members in groups.values():
        shape = shapely.union_all([cells[i] for i in members])
        out.append((shape, int(weights[members].sum())))
    return out


def run_maxp(case, prepared):
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    plane, atoms, cells, neighbours = prepared
    gdf = gpd.GeoDataFrame(
        {"x": atoms.local[:, 0], "y": atoms.local[:, 1], "households": atoms.weight},
        geometry=cells,
    )
    w = W({i: sorted(n) for i, n in enumerate(neighbours)}, silence_warnings=True)
    model = MaxPHeuristic(gdf, w, ["x", "y"], "households", LOW, top_n=2)
    np.random.seed(SEED)
    model.solve()
    return regions_from_labels(model.labels_, cells, atoms.weight)


def limited(runner, seconds):
    """Run an anchor in a child process, stopped after `seconds`: MaxPHeuristic runs for many
    minutes on some grids (the courtyard), and GerryChain's tree search can loop without end
    where barriers cut the graph, while `make bench` must end in under 20 minutes."""
    import multiprocessing

    def run(case, prepared):
        context = multiprocessing.get_context("fork")
        queue = context.Queue()

        def child():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    start = time.perf_counter()
                    regions = runner(case, prepared)
                    queue.put((regions, time.perf_counter() - start))
                except Exception as exc:  # noqa: BLE001 - reported as the anchor's failure
                    queue.put(exc)

        process = context.Process(target=child, daemon=True)
        process.start()
        try:
            result = queue.get(timeout=seconds)
        except Exception as exc:  # queue.Empty: no answer in time
            process.terminate()
            raise TimeoutError(f"no result within {seconds} s") from exc
        process.join()
        if isinstance(result, Exception):
            raise result
        return result

    return run


def run_skater(case, prepared):
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import Skater

    plane, atoms, cells, neighbours = prepared
    total = int(atoms.weight.sum())
    gdf = gpd.GeoDataFrame(
        {"x": atoms.local[:, 0], "y": atoms.local[:, 1], "households": atoms.weight},
        geometry=cells,
    )
    w = W({i: sorted(n) for i, n in enumerate(neighbours)}, silence_warnings=True)
    model = Skater(gdf, w, ["x", "y"], n_clusters=max(1, round(total / 40)), floor=LOW)
    model.solve()
    return regions_from_labels(model.labels_, cells, atoms.weight)


def run_gerrychain(case, prepared):
    import networkx as nx
    from gerrychain import Graph
    from gerrychain.partition.initial_partition_generators import recursive_tree_part

    plane, atoms, cells, neighbours = prepared
    total = int(atoms.weight.sum())
    k = partition.best_part_count(total, int(atoms.weight.max()), LOW, HIGH)
    target = total / k
    epsilon = min(HIGH - target, target - LOW) / target
    graph = nx.Graph()
    for i, w in enumerate(atoms.weight.tolist()):
        graph.add_node(i, households=w)
    for a, ns in enumerate(neighbours):
        graph.add_edges_from((a, b) for b in ns if b > a)
    labels = recursive_tree_part(
        Graph.from_networkx(graph), range(k), target, "households", epsilon, rng=SEED
    )
    return regions_from_labels([labels[i] for i in range(len(cells))], cells, atoms.weight)


def run_wangge(case, prepared):
    plane = partition._Plane(case.grid)
    start = time.perf_counter()
    result = partition.divide(
        case.grid, case.xy, low=LOW, high=HIGH, seed=0, barriers=case.barriers
    )
    seconds = time.perf_counter() - start
    return [(plane.to_m(p.geometry), p.households) for p in result.parts], seconds


RUNNERS = {
    "wangge": run_wangge,
    "maxp": limited(run_maxp, TIMEOUTS_S["maxp"]),
    "skater": limited(run_skater, TIMEOUTS_S["skater"]),
    "gerrychain": limited(run_gerrychain, TIMEOUTS_S["gerrychain"]),
}
# MaxPHeuristic takes from 2 s to many minutes per grid: it runs on these 8 (every kind, the
# smaller grids of each), each stopped after TIMEOUTS_S["maxp"], so that `make bench` stays
# under 20 minutes.
MAXP_SUBSET = (
    "uniform-150",
    "uniform-250",
    "clustered-200",
    "village-road-160",
    "courtyard-180",
    "barriers-240",
    "clustered-320",
    "courtyard-300",
)


def groupable(weights, low=LOW, high=HIGH, max_classes=4):
    """Whether the address weights can be split into groups of low-high at all (ignoring
    contiguity), exactly, by a DP over the counts of each distinct weight; None when there are
    too many distinct weights for that to be quick."""
    from collections import Counter
    from itertools import product

    classes = sorted(Counter(int(w) for w in weights).items())
    if len(classes) > max_classes:
        return None
    values = [v for v, _ in classes]
    limits = [high // v for v in values]
    groups = [
        g
        for g in product(*(range(limit + 1) for limit in limits))
        if low <= sum(c * v for c, v in zip(g, values, strict=True)) <= high
    ]

    @functools.cache
    def can(counts):
        if not any(counts):
            return True
        first = next(i for i, c in enumerate(counts) if c)
        for g in groups:
            fits = g[first] and all(x <= c for x, c in zip(g, counts, strict=True))
            if fits and can(tuple(c - x for c, x in zip(counts, g, strict=True))):
                return True
        return False

    return can(tuple(c for _, c in classes))


def feasibility(case, atoms) -> str:
    """ "found", "infeasible" (proved) or "unknown": whether any contiguous division of the
    grid's addresses into LOW-HIGH exists, by the exact search with a longer limit than the
    engine's (a claim of "infeasible" is checked against this)."""
    from microgrids import exact

    counts = exact.part_counts(int(atoms.weight.sum()), LOW, HIGH)
    if not counts or int(atoms.weight.max()) > HIGH:
        return "infeasible"
    found = exact.divide_graph(atoms.weight, case.edges, LOW, HIGH, counts, work_limit=20.0)
    return found.status


def crossings(regions, case, plane) -> int:
    """Micro-grids a barrier runs through (a stretch of more than 1 m inside one)."""
    lines = [plane.to_m(b) for b in case.barriers]
    count = 0
    for shape, _ in regions:
        inner = shape.buffer(-0.5)
        if any(shapely.intersection(line, inner).length > 1.0 for line in lines):
            count += 1
    return count


def crossings_needed(case) -> int:
    """A lower bound on the micro-grids that must cross a barrier: one per piece between
    barriers that holds households but cannot form micro-grids of LOW-HIGH on its own."""
    if not case.barriers:
        return 0
    cut = shapely.union_all(
        [case.grid.boundary, *[shapely.intersection(b, case.grid) for b in case.barriers]]
    )
    faces = [
        f
        for f in shapely.polygonize(partition._line_parts(cut)).geoms
        if case.grid.covers(f.point_on_surface())
    ]
    points = shapely.points(case.xy)
    needed = 0
    for face in faces:
        w = int(shapely.covers(face, points).sum())
        if w and math.ceil(w / HIGH) > w // LOW:
            needed += 1
    return needed


def score(regions, seconds, case=None, plane=None):
    sizes = [n for _, n in regions]
    shapes = [s for s, _ in regions]
    return {
        "crossings": crossings(regions, case, plane) if case is not None and case.barriers else 0,
        "in_bounds": sum(LOW <= n <= HIGH for n in sizes),
        "parts": len(sizes),
        "all_in_bounds": all(LOW <= n <= HIGH for n in sizes),
        "contiguous": sum(s.geom_type == "Polygon" for s in shapes),
        "polsby_popper": [partition.polsby_popper(s) for s in shapes],
        "seconds": seconds,
    }


def summarise(entries, failed_seconds):
    """Figures over a method's grids; a grid it failed on (None) counts as not in bounds."""
    rows = [r for r in entries if r is not None]
    if not rows:
        return {"grids": len(entries), "failed_grids": len(entries)}
    parts = sum(r["parts"] for r in rows)
    scores = [pp for r in rows for pp in r["polsby_popper"]]
    return {
        "grids": len(entries),
        "failed_grids": len(entries) - len(rows),
        "share_in_bounds": round(sum(r["in_bounds"] for r in rows) / parts, 4),
        "share_grids_all_in_bounds": round(sum(r["all_in_bounds"] for r in rows) / len(entries), 4),
        "contiguous_share": round(sum(r["contiguous"] for r in rows) / parts, 4),
        "mean_polsby_popper": round(float(np.mean(scores)), 4),
        "worst_polsby_popper": round(float(np.min(scores)), 4),
        "median_s_per_grid": round(
            statistics.median(
                [r["seconds"] for r in rows] + [failed_seconds] * (len(entries) - len(rows))
            ),
            4,
        ),
    }


def main():
    warnings.filterwarnings("ignore")
    global METHODS
    # BENCH_METHODS=wangge runs the engine alone (the anchors need requirements/bench.txt).
    chosen = os.environ.get("BENCH_METHODS")
    if chosen:
        METHODS = tuple(m for m in METHODS if m in chosen.split(","))
    if set(METHODS) - {"wangge"}:
        # Imported once here so that the forked children do not pay for it in their timings.
        import gerrychain.partition.initial_partition_generators  # noqa: F401
        import libpysal.weights  # noqa: F401
        import spopt.region  # noqa: F401

    rng = np.random.default_rng(SEED)
    cases = synthetic_cases(rng) + demo_cases()
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=uniform,courtyard while tuning
    if only:
        cases = [c for c in cases if c.name.startswith(tuple(only.split(",")))]
    print(f"{len(cases)} grids, {sum(len(c.xy) for c in cases):,} households; bounds {LOW}-{HIGH}")
    results = {m: {} for m in METHODS}
    failures = {m: [] for m in METHODS}
    infeasible = []
    feasible = {}
    for case in cases:
        prepared = cells_and_graph(case)
        if groupable(prepared[1].weight) is False:
            infeasible.append(case.name)
        feasible[case.name] = feasibility(case, prepared[1])
        line = [f"{case.name:<26}{len(case.xy):>5}"]
        for method in METHODS:
            if method == "maxp" and case.name not in MAXP_SUBSET:
                line.append(f"{'':>16}")
                continue
            try:
                with warnings.catch_warnings():  # spopt re-enables its own on import
                    warnings.simplefilter("ignore")
                    # Each runner times its own solve (in the child, for the anchors).
                    regions, seconds = RUNNERS[method](case, prepared)
            except Exception as exc:  # noqa: BLE001 - an anchor's failure is a result too
                failures[method].append(f"{case.name}: {exc.__class__.__name__}: {exc}"[:200])
                results[method][case.name] = None
                line.append(f"{'failed':>16}")
                continue
            row = score(regions, seconds, case, prepared[0])
            results[method][case.name] = row
            line.append(
                f"{method[:6]:>7} {row['in_bounds']:>2}/{row['parts']:<2}{row['seconds']:>4.1f}s"
                f" w{min(row['polsby_popper']):.2f} x{row['crossings']}"
            )
        print("".join(line), flush=True)

    # Barrier crossings beyond the minimum, taken as the fewest any method reached on that grid
    # with every micro-grid in bounds or the lower bound (one per piece between barriers that
    # cannot stand alone), whichever is smaller; the bound may overstate the excess where it
    # cannot be reached.
    fewest = {}
    for case in cases:
        if case.barriers:
            reached = [
                r["crossings"]
                for m in METHODS
                if (r := results[m].get(case.name)) is not None and r["all_in_bounds"]
            ]
            fewest[case.name] = min([*reached, crossings_needed(case)])
    summary = {}
    for method in METHODS:
        rows = list(results[method].values())
        if rows:
            feasible_rows = [r for n, r in results[method].items() if n not in infeasible]
            summary[method] = summarise(rows, TIMEOUTS_S[method]) | {
                "share_feasible_grids_all_in_bounds": summarise(feasible_rows, TIMEOUTS_S[method])[
                    "share_grids_all_in_bounds"
                ],
                "failed": failures[method],
                # Grids the exact search divides within the bounds where this method gave no
                # division in bounds (for wangge: said "infeasible" or "none found").
                "false_infeasible": sum(
                    1
                    for n, r in results[method].items()
                    if feasible[n] == "found" and (r is None or not r["all_in_bounds"])
                ),
                "extra_barrier_crossings": sum(
                    r["crossings"] - fewest[n]
                    for n, r in results[method].items()
                    if r is not None and fewest.get(n) is not None
                ),
            }
    # The same comparison on MaxP's subset, so that its ratios compare like with like.
    subset = {m: [results[m][n] for n in MAXP_SUBSET if n in results[m]] for m in METHODS}
    summary["on_maxp_subset"] = {m: summarise(r, TIMEOUTS_S[m]) for m, r in subset.items() if r}

    keys = (
        "share_in_bounds",
        "share_grids_all_in_bounds",
        "contiguous_share",
        "mean_polsby_popper",
        "worst_polsby_popper",
        "median_s_per_grid",
    )
    print()
    print(f"{'method':<12}" + "".join(f"{k:>27}" for k in keys))
    for method in METHODS:
        if method in summary:
            print(f"{method:<12}" + "".join(f"{summary[method][k]:>27}" for k in keys))
    ratios = {}
    for anchor in METHODS[1:]:
        base = summary["on_maxp_subset"] if anchor == "maxp" else summary
        if anchor not in base or "wangge" not in base:
            continue
        ours, theirs = base["wangge"], base[anchor]
        ratios[f"wangge_vs_{anchor}"] = {
            k: round(ours[k] / theirs[k], 3) if theirs[k] else None for k in keys
        }
    print()
    for name, values in ratios.items():
        print(f"{name:<22}" + "  ".join(f"{k}={v}" for k, v in values.items()))
    wangge = results["wangge"]
    big = [r["seconds"] for c in cases if 400 <= len(c.xy) <= 600 and (r := wangge.get(c.name))]
    summary["wangge"]["median_s_per_grid_400_600"] = (
        round(statistics.median(big), 4) if big else None
    )
    print(f"grids that no grouping can fit in {LOW}-{HIGH} (proved by counting): {infeasible}")
    print(
        json.dumps(
            summary
            | {
                "ratios": ratios,
                "maxp_subset": list(MAXP_SUBSET),
                "infeasible_grids": infeasible,
                "exact_feasibility": feasible,
            }
        )
    )


if __name__ == "__main__":
    main()
