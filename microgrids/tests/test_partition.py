"""The micro-grid engine and a planner's adjustments, without a database."""

import re

import numpy as np
import pytest
import shapely

from microgrids import partition
from microgrids.partition import (
    AdjustmentError,
    Infeasible,
    adjust_lock,
    adjust_merge,
    adjust_move_area,
    adjust_move_households,
    adjust_rerun,
    adjust_split,
    divide,
    feasible_part_counts,
    join_small,
)

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
    assert sorted(m for p in result.parts for m in p.members) == list(range(n))


def assert_tiles(result, grid, xy):
    union = shapely.union_all([p.geometry for p in result.parts])
    assert union.symmetric_difference(grid).area < 1e-14
    for i, a in enumerate(result.parts):
        assert a.geometry.geom_type == "Polygon"
        for b in result.parts[i + 1 :]:
            assert a.geometry.intersection(b.geometry).area < 1e-14
        points = shapely.points(np.asarray(xy)[a.members])
        assert shapely.covers(a.geometry, points).all()
    assert sorted(m for p in result.parts for m in p.members) == list(range(len(xy)))


def test_straight_cuts_are_compact():
    result = divide(GRID, uniform(500))
    scores = [p.polsby_popper for p in result.parts]
    assert np.mean(scores) >= 0.6 and min(scores) > 0.5


def test_parts_do_not_cross_a_barrier():
    road = shapely.LineString([(112.0025, 32.599), (112.0025, 32.605)])
    xy = uniform(400)
    result = divide(GRID, xy, barriers=[road])
    assert result.all_in_bounds and not result.notes
    assert_tiles(result, GRID, xy)
    west, east = shapely.box(111.9, 32.5, 112.0025, 32.7), shapely.box(112.0025, 32.5, 112.1, 32.7)
    for part in result.parts:
        assert min(part.geometry.difference(west).area, part.geometry.difference(east).area) == 0


def test_a_side_too_small_for_a_micro_grid_joins_across_the_barrier_and_says_so():
    road = shapely.LineString([(112.0004, 32.599), (112.0004, 32.605)])
    rng = np.random.default_rng(4)
    west = np.column_stack([rng.uniform(112.0, 112.0004, 12), rng.uniform(32.6, 32.604, 12)])
    east = np.column_stack([rng.uniform(112.0005, 112.005, 300), rng.uniform(32.6, 32.604, 300)])
    xy = np.vstack([west, east])
    result = divide(GRID, xy, barriers=[road])
    assert result.all_in_bounds
    assert_tiles(result, GRID, xy)
    assert result.notes and "12 households between barriers" in result.notes[0]


def test_locked_micro_grids_are_kept_and_the_rest_re_divided():
    xy = uniform(400)
    first = divide(GRID, xy)
    kept = adjust_lock(adjust_lock(first, 0), 3)
    again = adjust_rerun(kept, GRID, xy, seed=5)
    locked = [p for p in again.parts if p.locked]
    assert [p.geometry.wkb for p in locked] == [
        first.parts[0].geometry.wkb,
        first.parts[3].geometry.wkb,
    ]
    assert [p.members for p in locked] == [first.parts[0].members, first.parts[3].members]
    assert again.all_in_bounds
    assert_tiles(again, GRID, xy)


def test_the_graph_fallback_tiles_when_no_straight_cut_works(monkeypatch):
    monkeypatch.setattr(partition, "_cuts", lambda *args: iter(()))
    xy = uniform(300)
    result = divide(GRID, xy)
    assert result.all_in_bounds
    assert_tiles(result, GRID, xy)


def test_merge_and_split():
    xy = uniform(300)
    result = divide(GRID, xy)
    a = 0
    b = next(
        i
        for i in range(1, len(result.parts))
        if result.parts[0].geometry.intersection(result.parts[i].geometry).length > 0
    )
    merged = adjust_merge(result, a, b)
    assert len(merged.parts) == len(result.parts) - 1
    assert merged.parts[0].households == result.parts[a].households + result.parts[b].households
    assert_tiles(merged, GRID, xy)
    split = adjust_split(merged, xy, 0)
    assert len(split.parts) == len(result.parts)
    assert abs(split.parts[0].households - split.parts[1].households) <= 1
    assert_tiles(split, GRID, xy)


def test_merge_refuses_micro_grids_without_a_common_border():
    strip = shapely.box(112.0, 32.6, 112.02, 32.6008)
    rng = np.random.default_rng(2)
    xy = np.column_stack([rng.uniform(112.0, 112.02, 200), rng.uniform(32.6, 32.6008, 200)])
    result = divide(strip, xy)
    west = min(range(len(result.parts)), key=lambda i: result.parts[i].geometry.centroid.x)
    east = max(range(len(result.parts)), key=lambda i: result.parts[i].geometry.centroid.x)
    with pytest.raises(AdjustmentError, match="do not share a border"):
        adjust_merge(result, west, east)


def test_move_area_gives_land_and_its_households():
    xy = np.array([[112.001, 32.601], [112.004, 32.601], [112.0035, 32.6012]])
    halves = partition.Partition(
        parts=[
            partition.MicroGrid(shapely.box(112.0, 32.6, 112.0025, 32.604), [0], 0.0),
            partition.MicroGrid(shapely.box(112.0025, 32.6, 112.005, 32.604), [1, 2], 0.0),
        ],
        low=1,
        high=5,
    )
    moved = adjust_move_area(halves, xy, shapely.box(112.0025, 32.6, 112.0038, 32.604), 0)
    assert moved.parts[0].members == [0, 2] and moved.parts[1].members == [1]
    assert_tiles(moved, GRID, xy)
    with pytest.raises(AdjustmentError, match="passes through a household"):
        adjust_move_area(halves, xy, shapely.box(112.0025, 32.6, 112.004, 32.604), 0)
    with pytest.raises(AdjustmentError, match="no land"):
        adjust_move_area(halves, xy, shapely.box(112.002, 32.599, 112.006, 32.605), 0)
    with pytest.raises(AdjustmentError, match="fall apart"):
        adjust_move_area(halves, xy, shapely.box(112.0026, 32.6015, 112.0045, 32.6025), 0)


def test_move_households_redraws_the_border():
    xy = uniform(300)
    result = divide(GRID, xy)
    b = next(
        i
        for i in range(1, len(result.parts))
        if result.parts[0].geometry.intersection(result.parts[i].geometry).length > 0
    )
    target = result.parts[b].geometry.centroid
    nearest = min(
        result.parts[0].members,
        key=lambda m: shapely.Point(xy[m]).distance(target),
    )
    moved = adjust_move_households(result, xy, [nearest], b)
    assert nearest in moved.parts[b].members and nearest not in moved.parts[0].members
    assert moved.parts[b].households == result.parts[b].households + 1
    assert_tiles(moved, GRID, xy)
    far = [
        p
        for i, p in enumerate(result.parts)
        if i != b and not p.geometry.touches(result.parts[b].geometry)
    ]
    with pytest.raises(AdjustmentError, match="does not share a border"):
        adjust_move_households(result, xy, [far[-1].members[0]], b)


def test_join_small_joins_the_neighbour_with_the_longest_border():
    # 0 touches 1 along 0.5 and 2 along 1: it joins 2; 1 fits alone.
    shapes = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 3, 0.5), shapely.box(-1, 1, 2, 2)]
    assert join_small(shapes, [10, 40, 50], lambda w: w >= 30) == [[1], [0, 2]]
    # nothing fits and nobody touches: left alone
    apart = [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)]
    assert join_small(apart, [1, 1], lambda w: w >= 30) == [[0], [1]]


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


def test_when_addresses_make_the_bounds_impossible_the_closest_bounds_are_proposed():
    # 17 buildings of 20 households: pairs hold 40, a building alone 20, three 60. No grouping
    # into 30-50 exists; 30-60 does.
    rng = np.random.default_rng(5)
    sites = np.column_stack([rng.uniform(112.0, 112.005, 17), rng.uniform(32.6, 32.604, 17)])
    xy = np.repeat(sites, 20, axis=0)
    with pytest.raises(Infeasible) as caught:
        divide(GRID, xy)
    assert caught.value.proved
    assert "Nearest bounds that work: 30-60 households" in caught.value.suggestion
    result = divide(GRID, xy, low=30, high=60)
    assert result.all_in_bounds


@pytest.mark.parametrize(
    "grid, xy, message",
    [
        (GRID, np.vstack([uniform(100), [[112.01, 32.602]]]), "1 household(s) lie outside"),
        (GRID, np.vstack([uniform(100), [[112.001, np.nan]]]), "no valid position"),
        (shapely.Polygon(), uniform(100), "boundary is empty"),
        (shapely.Polygon([(112, 32.6), (112.001, 32.601), (112, 32.6)]), [], "encloses no area"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_guess(grid, xy, message):
    with pytest.raises(partition.BadInput, match=re.escape(message)) as caught:
        divide(grid, xy)
    if len(xy) == 101:
        assert caught.value.households == [100]
        assert "(households 101)" in str(caught.value)


def addresses(columns, rows, households, dx=0.001, dy=0.001):
    return np.array(
        [
            [112.0005 + i * dx, 32.6005 + j * dy]
            for i in range(columns)
            for j in range(rows)
            for _ in range(households)
        ]
    )


def test_equal_addresses_that_pair_up_are_divided_not_called_infeasible():
    grid = shapely.box(112.0, 32.6, 112.006, 32.604)
    xy = addresses(6, 4, 17)  # 408 households: 12 contiguous pairs of 34
    result = divide(grid, xy)
    assert [p.households for p in result.parts] == [34] * 12
    assert_tiles(result, grid, xy)


def test_infeasible_only_when_proved_and_the_nearest_bounds_to_the_household():
    grid = shapely.box(112.0, 32.6, 112.006, 32.004 + 0.6)
    xy = addresses(5, 5, 17, dx=0.0012, dy=0.0007)  # 25 addresses: pairs cannot cover them
    with pytest.raises(Infeasible) as caught:
        divide(grid, xy)
    assert caught.value.proved and str(caught.value).startswith("infeasible:")
    assert "30-51 households (11 micro-grids)" in caught.value.suggestion
    assert "17-50 households" in caught.value.suggestion
    with pytest.raises(Infeasible, match="every address holds 17 households: no sum"):
        divide(grid, xy, low=30, high=33)


def test_too_few_households_are_told_to_lower_the_minimum_not_to_raise_the_maximum():
    with pytest.raises(Infeasible) as caught:
        feasible_part_counts(29, 1, 30, 50)
    assert caught.value.suggestion == (
        "Closest feasible: 1 micro-grid(s) with the minimum lowered to 29."
    )


def test_a_detached_piece_that_cannot_form_micro_grids_is_named_with_its_way_out():
    main = shapely.box(112.0, 32.6, 112.004, 32.604)
    enclave = shapely.box(112.006, 32.601, 112.0065, 32.6015)
    xy = np.vstack([uniform(120), np.repeat([[112.0062, 32.6012]], 18, axis=0)])
    xy[:120, 0] = 112.0 + (xy[:120, 0] - 112.0) * 0.8
    with pytest.raises(Infeasible) as caught:
        divide(shapely.MultiPolygon([main, enclave]), xy)
    message = str(caught.value)
    assert "the piece of the grid around 112.006" in message and "(18 households" in message
    assert "minimum lowered to 18" in message and "give the piece to the grid around it" in message


def towers_and_houses(seed):
    """Six towers of 40-48 households among 150 houses: straight cuts leave slivers by them."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(40, 49, 6)
    towers = np.column_stack([rng.uniform(112.0, 112.006, 6), rng.uniform(32.6, 32.604, 6)])
    houses = np.column_stack([rng.uniform(112.0, 112.006, 150), rng.uniform(32.6, 32.604, 150)])
    return np.vstack([np.repeat(towers, sizes, axis=0), houses])


def test_the_worst_micro_grid_beside_towers_is_not_a_sliver():
    grid = shapely.box(112.0, 32.6, 112.006, 32.604)
    xy = towers_and_houses(3)  # the straight cuts alone left a part of Polsby-Popper 0.13
    result = divide(grid, xy)
    assert result.all_in_bounds
    assert_tiles(result, grid, xy)
    assert min(p.polsby_popper for p in result.parts) > 0.3


def test_another_seed_gives_another_division_and_the_same_seed_the_same():
    grid, xy = GRID, uniform(200)
    first, again, other = (divide(grid, xy, seed=s) for s in (0, 0, 1))
    shapes = [[p.geometry.wkb for p in r.parts] for r in (first, again, other)]
    assert shapes[0] == shapes[1] and shapes[0] != shapes[2]
    assert other.all_in_bounds
    assert_tiles(other, grid, xy)


def test_a_corner_cut_off_by_a_barrier_joins_one_micro_grid_not_two():
    # A road cuts off a corner holding 12 households, too few for a micro-grid: one micro-grid
    # must cross the road to take them, and one is enough (the straight cuts used to run
    # through the corner and make two cross it).
    rng = np.random.default_rng(2)
    corner = shapely.Polygon([(112.0, 32.6), (112.0013, 32.6), (112.0, 32.6011)])
    road = shapely.LineString([(111.9999, 32.60118), (112.0014, 32.5999)])
    houses, in_corner = [], []
    while len(houses) < 338:
        p = [rng.uniform(112.0, 112.005), rng.uniform(32.6, 32.604)]
        if not corner.buffer(0.0001).contains(shapely.Point(p)):
            houses.append(p)
    while len(in_corner) < 12:
        p = [rng.uniform(112.0, 112.0013), rng.uniform(32.6, 32.6011)]
        if corner.buffer(-0.00003).contains(shapely.Point(p)):
            in_corner.append(p)
    xy = np.array(houses + in_corner)
    result = divide(GRID, xy, barriers=[road])
    assert result.all_in_bounds
    assert_tiles(result, GRID, xy)
    plane = partition._Plane(GRID)
    crossing = [
        p
        for p in result.parts
        if shapely.intersection(plane.to_m(road), plane.to_m(p.geometry).buffer(-0.5)).length > 1
    ]
    assert len(crossing) == 1
    assert shapely.covers(crossing[0].geometry, shapely.points(in_corner)).all()


def test_a_search_stopped_at_its_limit_says_none_found_not_infeasible(monkeypatch):
    from microgrids import exact

    monkeypatch.setattr(exact, "WORK_LIMIT", 1e-9)  # no time to prove anything
    grid = shapely.box(112.0, 32.6, 112.006, 32.604)
    with pytest.raises(Infeasible) as caught:
        divide(grid, addresses(5, 5, 17, dx=0.0012, dy=0.0007), suggest=False)
    assert not caught.value.proved
    assert (
        caught.value.reason.startswith("none found:") and "may still exist" in caught.value.reason
    )
