import json
from itertools import combinations
from pathlib import Path

import numpy as np
import shapely

from core import coords
from demo import generator

COUNTY = Path(__file__).resolve().parents[2] / "fixtures/boundaries/411381_dengzhou_gcj02.geojson"


def county():
    return coords.geometry_to_wgs84(shapely.geometry.shape(json.loads(COUNTY.read_text())), "gcj02")


def small(seed):
    return generator.build_territory(
        county(),
        county_code="411381",
        county_name="邓州市",
        seed=seed,
        townships=5,
        villages=20,
        grids=120,
        microgrid_grids=1,
    )


def test_apportion_sums_exactly_and_respects_the_minimum():
    assert generator.apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert generator.apportion(7, [5, 1, 1], minimum=2) == [3, 2, 2]
    parts = generator.apportion(578, np.random.default_rng(1).uniform(1, 9, 22), minimum=2)
    assert sum(parts) == 578 and min(parts) >= 2


def test_every_level_tiles_its_parent():
    units = small(3)
    by_code = {u.code: u for u in units}
    children = {}
    for u in units[1:]:
        children.setdefault(u.parent_code, []).append(u.boundary)
    assert {u.level for u in units} == {"county", "township", "village", "grid", "microgrid"}
    for parent_code, kids in children.items():
        parent = by_code[parent_code].boundary
        assert parent.symmetric_difference(shapely.union_all(kids)).area < 1e-12
        for a, b in combinations(kids, 2):
            assert a.intersection(b).area < 1e-12


def test_codes_extend_their_parents():
    for unit in small(3)[1:]:
        assert unit.code.startswith(unit.parent_code)


def test_same_seed_same_territory_and_households():
    a, b = small(5), small(5)
    assert [u.code for u in a] == [u.code for u in b]
    assert all(x.boundary.equals_exact(y.boundary, 0) for x, y in zip(a, b, strict=True))
    grids = [u for u in a if u.level == "grid"][:10]
    ha = list(generator.build_households(grids, scale="demo", seed=5))
    hb = list(generator.build_households(grids, scale="demo", seed=5))
    assert ha == hb
    assert small(6)[1].boundary != a[1].boundary


def test_households_fall_inside_their_grid_and_cluster():
    grids = [u for u in small(3) if u.level == "grid"]
    for code, households in generator.build_households(grids, scale="city", seed=3):
        grid = next(g for g in grids if g.code == code).boundary
        xy = np.array([(h.lon, h.lat) for h in households])
        assert shapely.contains_xy(grid, xy[:, 0], xy[:, 1]).all()
    urban = [g for g in grids if g.urban]
    batches = dict(generator.build_households(urban, scale="city", seed=3))
    sizes = [len(v) for v in batches.values()]
    assert min(sizes) >= 300 and max(sizes) <= 500
    # Apartment buildings: many households share an address point.
    first = next(iter(batches.values()))
    assert len({(h.lon, h.lat) for h in first}) < len(first) / 3
