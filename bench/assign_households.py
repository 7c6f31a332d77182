"""Benchmark: place every household of a city-scale territory in its grid.

Three ways on the same data, in the same run:
- project: territory.services.households_assign() (the path every boundary change takes);
- raw:     one `UPDATE ... FROM ... ST_Contains` statement on the GiST index (the anchor);
- strtree: shapely 2's vectorised STRtree query in memory, on one core (how far the limit is).

Needs a city-scale database; `make bench` creates and seeds `wangge_bench` in the embedded
cluster on first use (a few minutes). The last printed line is one JSON object.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from territory.models import Household, Unit  # noqa: E402
from territory.services import households_assign  # noqa: E402

RAW = """
UPDATE territory_household h SET grid_id = g.id
  FROM territory_unit g
 WHERE g.level = 'grid' AND g.valid_to IS NULL AND ST_Contains(g.boundary, h.location)
"""


def reset():
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE territory_household SET grid_id = NULL, micro_grid_id = NULL, territory_path = ''"
        )
        cursor.execute("VACUUM ANALYZE territory_household")


def timed(func):
    reset()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run_raw():
    with connection.cursor() as cursor:
        cursor.execute(RAW)


def main():
    call_command("migrate", verbosity=0)
    if not Unit.objects.exists():
        print("seeding the city-scale territory (once) ...", flush=True)
        call_command("seed_demo", "--scale", "city")
    households = Household.objects.count()
    grids = Unit.objects.current().filter(level="grid").count()
    print(f"{households:,} households, {grids:,} grids")

    # Every run rewrites all households twice; without compaction the table bloats from run to
    # run (750 MB instead of 245 MB after a few) and the join UPDATE slows down the most.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL ANALYZE territory_household")
    results = {"raw": [], "project": []}
    for _ in range(2):  # alternate, keep the best of two for each
        results["raw"].append(timed(run_raw))
        results["project"].append(timed(households_assign))
    raw_s, project_s = min(results["raw"]), min(results["project"])
    placed = Household.objects.filter(grid__isnull=False).count()

    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(location), ST_Y(location) FROM territory_household")
        xy = np.array(cursor.fetchall(), dtype=float)
        cursor.execute(
            "SELECT ST_AsBinary(boundary) FROM territory_unit WHERE level = 'grid' AND valid_to IS NULL"
        )
        polygons = shapely.from_wkb([bytes(row[0]) for row in cursor.fetchall()])
    points = shapely.points(xy)
    start = time.perf_counter()
    tree = shapely.STRtree(polygons)
    pairs = tree.query(points, predicate="within")
    strtree_s = time.perf_counter() - start

    print(f"{'method':<10}{'seconds':>10}{'points/s':>14}{'vs raw':>9}")
    for name, seconds in (("project", project_s), ("raw", raw_s), ("strtree", strtree_s)):
        print(f"{name:<10}{seconds:>10.2f}{households / seconds:>14,.0f}{seconds / raw_s:>9.2f}")
    print(f"placed by the project path: {placed:,}; pairs found by STRtree: {pairs.shape[1]:,}")
    print(
        json.dumps(
            {
                "households": households,
                "grids": grids,
                "project_s": round(project_s, 3),
                "raw_s": round(raw_s, 3),
                "strtree_s": round(strtree_s, 3),
                "ratio": round(project_s / raw_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
