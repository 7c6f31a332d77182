from itertools import pairwise

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from territory import services
from territory.assignment import place_in_grids, place_points
from territory.models import Household

from .factories import HouseholdFactory, UnitFactory, box


def test_place_points_covering_cell_lowest_code_on_edges():
    cells = [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1)]
    codes = ["b", "a"]
    xy = np.array([[0.5, 0.5], [1.5, 0.5], [1.0, 0.5], [5.0, 5.0], [0.0, 0.0]])
    # inside a, inside b, on the shared edge (-> a, the lower code), outside, on a corner of a
    assert place_points(xy, cells, codes).tolist() == [1, 0, 1, -1, 1]


def test_place_points_with_nothing():
    assert place_points(np.empty((0, 2)), [shapely.box(0, 0, 1, 1)], ["a"]).tolist() == []
    assert place_points(np.array([[0.5, 0.5]]), [], []).tolist() == [-1]


@pytest.mark.django_db
def test_bulk_path_agrees_with_the_database_function(territory, monkeypatch):
    extra = [
        HouseholdFactory(location=Point(x, y, srid=4326))
        for x, y in [(112.05, 32.62), (112.02, 32.65), (112.1, 32.7), (113.0, 33.0), (112.0, 32.6)]
    ]
    columns = ("id", "grid_id", "micro_grid_id", "territory_path")
    by_sql = sorted(Household.objects.values_list(*columns))
    assert len(by_sql) == 4 + len(extra)
    Household.objects.update(grid=None, micro_grid=None, territory_path="")
    monkeypatch.setattr(services, "BULK_ASSIGN_THRESHOLD", 0)
    assert services.households_assign() == len(by_sql) - 1  # the one outside stays unplaced
    assert sorted(Household.objects.values_list(*columns)) == by_sql
    assert services.households_assign() == 0


def test_place_points_keeps_a_point_to_the_cells_of_its_group():
    cells = [shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)]
    codes = ["a", "b"]
    xy = np.array([[1.5, 0.5], [1.5, 0.5], [1.5, 0.5], [0.5, 0.5]])
    groups = place_points(
        xy, cells, codes, cell_groups=np.array([0, 1]), point_groups=np.array([1, 0, -1, 1])
    )
    # b for group 1 although a is lower; a for group 0; nothing without a group or a cell.
    assert groups.tolist() == [1, 0, -1, -1]


def test_place_in_grids_pairs_the_micro_grid_with_the_grid():
    grids = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    micros = [shapely.box(0, 0, 1.2, 1), shapely.box(1.4, 0, 2, 1), shapely.box(0, 1, 1, 1.1)]
    xy = np.array([[0.5, 0.5], [1.1, 0.5], [1.3, 0.5], [1.5, 0.5], [0.5, 1.05], [1.0, 0.5]])
    grid, micro = place_in_grids(
        xy, grids, ["g1", "g2"], micros, ["g1m1", "g2m1", "g1m2"], ["g1", "g2", "g1"]
    )
    # inside, sliver of g1m1 inside g2 (g2 alone), gap of g2, inside g2m1, sliver outside every
    # grid (nothing), shared edge of the grids (g1, and g1m1 holds it too).
    assert grid.tolist() == [0, 1, 1, 1, -1, 0]
    assert micro.tolist() == [0, -1, -1, 1, -1, 0]


# --- bulk against SQL on a fixture with slanted edges, slivers and gaps -----------------

VILLAGE = "411381201001"
CENTRE = (112.5, 32.5)  # the vertex grids 001, 007, 013 and 019 share
SLIVER_IN_007 = (112.514, 32.47)  # in grid 007, and in 00701 and the sliver of 00102
SLIVER_IN_001 = (112.5205, 32.43)  # in grid 001, and in 00102 and the sliver of 00701
GAP = (112.42, 32.54)  # in grid 013, in none of its micro-grids
OUTSIDE = (112.55, 32.605)  # in 01902 only, outside every grid


def _slanted_territory():
    """Four grids meeting at CENTRE along slanted edges, each cut in two micro-grids along
    another slanted edge; then a sliver (00701 reaches into 001), a gap (013 has only one
    micro-grid) and a micro-grid reaching outside every grid (01902)."""
    w, s, e, n = 112.4, 32.4, 112.6, 32.6
    c = CENTRE
    south, east, north, west = (112.53, s), (e, 32.48), (112.47, n), (w, 32.52)
    corners = {"001": (w, s), "007": (e, s), "019": (e, n), "013": (w, n)}
    rims = {"001": (west, south), "007": (south, east), "019": (east, north), "013": (north, west)}
    UnitFactory(level="village", code=VILLAGE, boundary=box(w, s, e, n))
    cells = {}
    for suffix, (a, b) in rims.items():
        code = VILLAGE + suffix
        corner = corners[suffix]
        cells[code] = shapely.Polygon([c, a, corner, b])
        UnitFactory(level="grid", code=code, parent_code=VILLAGE, boundary=_geos(cells[code]))
        halves = {"01": shapely.Polygon([c, a, corner]), "02": shapely.Polygon([c, corner, b])}
        if suffix == "001":  # a sliver: 00102 pokes past the edge c-south into 007
            halves["02"] = shapely.Polygon([c, corner, b, (112.52, 32.47)])
        if suffix == "007":  # and 00701 past it into 001
            halves["01"] = shapely.Polygon([c, (112.52, 32.43), a, corner])
        if suffix == "013":  # a gap: 01302 is missing
            del halves["02"]
        if suffix == "019":  # 01902 reaches north of the village, outside every grid
            halves["02"] = shapely.Polygon([c, corner, (e, n + 0.01), (112.48, n + 0.01), b])
        for half, polygon in halves.items():
            cells[code + half] = polygon
            UnitFactory(
                level="microgrid", code=code + half, parent_code=code, boundary=_geos(polygon)
            )
    return cells


def _geos(polygon):
    return services.to_geos(shapely.MultiPolygon([polygon]))


def _special_points(cells) -> list[tuple[float, float]]:
    """Every vertex of every cell, the midpoint of every edge, and points in the sliver, the
    gap and outside."""
    points = set()
    for polygon in cells.values():
        ring = list(polygon.exterior.coords)
        points.update(ring)
        points.update(((x0 + x1) / 2, (y0 + y1) / 2) for (x0, y0), (x1, y1) in pairwise(ring))
    points.update([SLIVER_IN_007, SLIVER_IN_001, GAP, OUTSIDE, (112.3, 32.3)])
    return sorted(points)


def _random_points(n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return [tuple(p) for p in rng.uniform((112.39, 32.39), (112.61, 32.62), size=(n, 2))]


PLACEMENT = ("id", "grid__code", "micro_grid__code", "territory_path")


def _placements():
    return sorted(Household.objects.values_list(*PLACEMENT))


@pytest.mark.django_db
def test_bulk_and_sql_place_every_household_alike_on_slanted_edges_slivers_and_gaps(monkeypatch):
    cells = _slanted_territory()
    points = _special_points(cells) + _random_points(2000, seed=10)
    Household.objects.bulk_create(
        [
            Household(location=Point(x, y, srid=4326), address="1号", head_name="张")
            for x, y in points
        ]
    )
    by_trigger = _placements()  # bulk_create goes through the trigger: territory_place
    assert len(by_trigger) == len(points)
    Household.objects.update(grid=None, micro_grid=None, territory_path="")
    assert services.households_assign() == sum(1 for p in by_trigger if p[1])
    assert _placements() == by_trigger
    Household.objects.update(grid=None, micro_grid=None, territory_path="")
    monkeypatch.setattr(services, "BULK_ASSIGN_THRESHOLD", 0)
    services.households_assign()
    by_bulk = _placements()
    assert [b for b, t in zip(by_bulk, by_trigger, strict=True) if b != t] == []
    # The pairs are consistent: a micro-grid only with its own grid.
    for _, grid, micro, _path in by_bulk:
        assert micro is None or (grid is not None and micro.startswith(grid))
    expected = {
        CENTRE: ("001", "00101"),
        SLIVER_IN_007: ("007", "00701"),  # not 00102, of another grid, although lower
        SLIVER_IN_001: ("001", "00102"),
        GAP: ("013", None),
        OUTSIDE: (None, None),  # not 01902 without a grid
    }
    for (x, y), (grid, micro) in expected.items():
        household = Household.objects.get(location=Point(x, y, srid=4326))
        got_grid = household.grid.code if household.grid else None
        got_micro = household.micro_grid.code if household.micro_grid else None
        assert (got_grid, got_micro) == (grid and VILLAGE + grid, micro and VILLAGE + micro)
        cell = household.micro_grid or household.grid
        assert household.territory_path == (cell.path if cell else "")


@pytest.mark.django_db
def test_bulk_and_sql_agree_on_random_points():
    cells = _slanted_territory()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT level, code, parent_code, ST_AsBinary(boundary) FROM territory_unit"
            " WHERE level IN ('grid', 'microgrid') AND valid_to IS NULL ORDER BY code"
        )
        rows = cursor.fetchall()
    grids = [r for r in rows if r[0] == "grid"]
    micros = [r for r in rows if r[0] == "microgrid"]
    assert len(grids) == 4 and len(micros) == len(cells) - 4

    def by_bulk(x, y):
        g, m = place_in_grids(
            np.array([[x, y]]),
            shapely.from_wkb([bytes(r[3]) for r in grids]),
            [r[1] for r in grids],
            shapely.from_wkb([bytes(r[3]) for r in micros]),
            [r[1] for r in micros],
            [r[2] for r in micros],
        )
        return (grids[g[0]][1] if g[0] >= 0 else None, micros[m[0]][1] if m[0] >= 0 else None)

    def by_sql(x, y):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT grid_code, micro_grid_code"
                " FROM territory_place(ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                [x, y],
            )
            return cursor.fetchone()

    # Random points, and points on the lines through the cells' vertices (edges and vertices).
    vertices = sorted({v for polygon in cells.values() for v in polygon.exterior.coords})
    xs = st.sampled_from([v[0] for v in vertices]) | st.floats(112.39, 112.61)
    ys = st.sampled_from([v[1] for v in vertices]) | st.floats(32.39, 32.62)

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(xs, ys)
    def agree(x, y):
        assert by_bulk(x, y) == by_sql(x, y)

    agree()
