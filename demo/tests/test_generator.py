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


def test_chinese_numerals():
    named = {
        1: "一",
        10: "十",
        15: "十五",
        16: "十六",
        20: "二十",
        101: "一百零一",
        110: "一百一十",
        1010: "一千零一十",
        10300: "一万零三百",
        100000: "十万",
        100000001: "一亿零一",
    }
    assert {n: generator.chinese_numeral(n) for n in named} == named
    assert len({generator.chinese_numeral(n) for n in range(1, 2000)}) == 1999


def test_grid_names_are_unique_in_their_village_or_community():
    units = small(3)
    grids = [u for u in units if u.level == "grid"]
    by_parent = {}
    for g in grids:
        by_parent.setdefault(g.parent_code, []).append(g.name)
    assert max(len(names) for names in by_parent.values()) > 15  # communities have 20
    for names in by_parent.values():
        assert len(set(names)) == len(names)
    assert any(
        name.endswith("第十六网格")
        for name in by_parent[max(by_parent, key=lambda p: len(by_parent[p]))]
    )


def test_the_flats_of_one_building_share_its_street_address():
    grids = [u for u in small(3) if u.level == "grid" and u.urban][:3]
    for _code, households in generator.build_households(grids, scale="demo", seed=3):
        buildings = {}
        for h in households:
            buildings.setdefault((h.lon, h.lat), set()).add(h.address.split("栋")[0])
        assert all(len(addresses) == 1 for addresses in buildings.values()), buildings
