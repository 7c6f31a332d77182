"""The micro-grid engine, without a database (first version for the micro-grids issue)."""

import numpy as np
import pytest
import shapely

from gis.partition import Infeasible, divide, feasible_part_counts

GRID = shapely.box(112.0, 32.6, 112.005, 32.604)


def uniform(n, seed=1):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(112.0, 112.005, n), rng.uniform(32.6, 32.604, n)])


@pytest.mark.parametrize("n", [150, 400, 500])
def test_parts_are_in_bounds_contiguous_and_tile_the_grid(n):
    xy = uniform(n)
    result = divide(GRID, xy)
    assert result.all_in_bounds
    assert sum(p.households for p in result.parts) == n
    assert all(p.geometry.geom_type == "Polygon" for p in result.parts)  # one piece each
    union = shapely.union_all([p.geometry for p in result.parts])
    assert union.symmetric_difference(GRID).area < 1e-14
    for i, a in enumerate(result.parts):
        for b in result.parts[i + 1 :]:
            assert a.geometry.intersection(b.geometry).area < 1e-14
    # every household lies in exactly one micro-grid
    inside = np.array([shapely.covers(p.geometry, shapely.points(xy)) for p in result.parts])
    assert (inside.sum(axis=0) == 1).all()  # each address is a cell's site, inside its part
    assert all(0 < p.polsby_popper <= 1 for p in result.parts)


def test_households_at_one_address_stay_together():
    xy = np.vstack([uniform(300), np.tile([[112.0025, 32.602]], (20, 1))])
    result = divide(GRID, xy)
    holding = [p for p in result.parts if p.geometry.covers(shapely.Point(112.0025, 32.602))]
    assert len(holding) == 1 and holding[0].households >= 20 and result.all_in_bounds


def test_deterministic():
    a, b = divide(GRID, uniform(400), seed=3), divide(GRID, uniform(400), seed=3)
    assert [p.geometry.wkb for p in a.parts] == [p.geometry.wkb for p in b.parts]


@pytest.mark.parametrize(
    ("xy", "low", "high", "reason"),
    [
        (uniform(25), 30, 50, "25 households cannot form micro-grids of 30-50"),
        (np.tile([[112.001, 32.601]], (60, 1)), 30, 50, "60 households share one address"),
        (uniform(100), 50, 30, "the minimum (50) is above the maximum (30)"),
        (np.empty((0, 2)), 30, 50, "no households"),
    ],
)
def test_infeasible_inputs_say_why(xy, low, high, reason):
    with pytest.raises(Infeasible) as caught:
        divide(GRID, xy, low=low, high=high)
    assert reason in caught.value.reason and caught.value.suggestion


def test_feasible_part_counts():
    assert list(feasible_part_counts(400, 1, 30, 50)) == list(range(8, 14))
    assert list(feasible_part_counts(60, 1, 30, 50)) == [2]
    with pytest.raises(Infeasible) as caught:
        feasible_part_counts(55, 1, 30, 50)
    assert "1 micro-grid(s) with the maximum raised to 55" in caught.value.suggestion
    assert "2 with the minimum lowered to 27" in caught.value.suggestion
