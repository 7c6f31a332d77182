"""The demo territory (pure: shapely and numpy, no database).

From the real county boundary it draws townships/streets, villages/communities, grids and a few
micro-grids as clipped Voronoi cells (so every level tiles its parent exactly), and households
clustered the way real places are: apartment buildings in the town streets (many households at
one address), hamlets around each villagers' group in the countryside, empty fields between.
Deterministic for a given seed.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point

from core.geometry import as_multipolygon

STREETS = ["古城街道", "花洲街道", "新华街道", "湍河街道", "东城街道", "团结路街道"]
TOWNS = [
    "罗庄镇",
    "汲滩镇",
    "穰东镇",
    "孟楼镇",
    "林扒镇",
    "构林镇",
    "十林镇",
    "张村镇",
    "都司镇",
    "赵集镇",
    "刘集镇",
    "桑庄镇",
    "彭桥镇",
    "白牛镇",
    "腰店镇",
    "九龙镇",
    "文渠镇",
    "高集镇",
    "夏集镇",
    "小杨营镇",
    "裴营乡",
    "陶营乡",
]
TOWN_PINYIN = {
    "古城街道": "Gucheng Subdistrict",
    "花洲街道": "Huazhou Subdistrict",
    "新华街道": "Xinhua Subdistrict",
    "湍河街道": "Tuanhe Subdistrict",
    "东城街道": "Dongcheng Subdistrict",
    "团结路街道": "Tuanjielu Subdistrict",
}
COMMUNITY_WORDS = [
    "和平",
    "幸福",
    "建设",
    "光明",
    "人民",
    "新华",
    "团结",
    "文化",
    "健康",
    "花园",
    "春晖",
    "丹江",
    "湍北",
    "城南",
    "城北",
    "北京路",
    "南京路",
    "新城",
    "解放",
    "育才",
    "向阳",
    "振兴",
    "前进",
    "朝阳",
]
VILLAGE_SUFFIXES = ["庄", "营", "楼", "集", "湾", "岗", "寨", "店", "岭", "桥", "洼", "坡"]
ROADS = [
    "新华路",
    "仲景路",
    "三贤路",
    "团结路",
    "人民路",
    "南京路",
    "北京路",
    "雷锋路",
    "湍河路",
    "文化路",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"

SCALES = {
    # urban: households per community grid; rural: per villagers' group grid;
    # full_communities: communities per street kept at full urban density even at demo scale.
    "demo": {"urban": (28, 40), "rural": (3, 5), "full_communities": 1},
    "city": {"urban": (300, 500), "rural": (30, 46), "full_communities": 99},
}


@dataclass
class DemoUnit:
    level: str
    code: str
    name: str
    parent_code: str
    boundary: MultiPolygon
    name_en: str = ""
    urban: bool = False
    full_density: bool = False


@dataclass
class DemoHousehold:
    lon: float
    lat: float
    address: str
    members: int
    flags: dict = field(default_factory=dict)


_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """A whole number in Chinese numerals as in names: 十, 十六, 二十, 一百零五, 一千零一十,
    一万零三百, 一亿零一."""
    if n < 0:
        return "负" + chinese_numeral(-n)
    if n == 0:
        return "零"
    groups = []  # 4-digit groups, lowest first
    while n:
        n, group = divmod(n, 10_000)
        groups.append(group)
    if len(groups) > 3:
        raise ValueError("numbers from 10^12 up are not named")
    out = ""
    zero_pending = False
    for position in range(len(groups) - 1, -1, -1):
        group = groups[position]
        if group == 0:
            zero_pending = bool(out)
            continue
        if out and (zero_pending or group < 1000):
            out += "零"
        out += _group_numeral(group) + ("", "万", "亿")[position]
        zero_pending = False
    if out.startswith("一十"):
        out = out[1:]  # 十六, not 一十六 (but 一百一十)
    return out


def _group_numeral(n: int) -> str:
    """1..9999 without leading 零; 零 once for any run of inner zeros."""
    out = ""
    zero = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
    return out


def apportion(total: int, weights, minimum: int = 1) -> list[int]:
    """Split `total` into integers proportional to `weights`, each at least `minimum`, summing
    exactly to `total` (largest remainders)."""
    weights = np.asarray(weights, dtype=float)
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError(f"cannot give {len(weights)} parts at least {minimum} from {total}")
    exact = spare * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    short = spare - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return (counts + minimum).tolist()


def random_points_in(polygon, n, rng, *, centre=None, spread=None, max_rounds=60):
    """n points inside `polygon`: uniform, or normal around `centre` with `spread` degrees."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    for _ in range(max_rounds):
        want = max(16, (n - len(found)) * 3)
        if centre is None:
            xy = np.column_stack([rng.uniform(minx, maxx, want), rng.uniform(miny, maxy, want)])
        else:
            xy = rng.normal(centre, spread, size=(want, 2))
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        found = np.vstack([found, xy[inside]])
        if len(found) >= n:
            return found[:n]
    if centre is not None:  # a centre near a thin edge: fall back to uniform sampling
        return np.vstack([found, random_points_in(polygon, n - len(found), rng)])[:n]
    raise ValueError("could not place points inside the polygon")


def voronoi_partition(polygon, seeds, *, relax=0):
    """Cells of `seeds` clipped to `polygon`, in seed order; with Lloyd relaxation rounds."""
    polygon = shapely.make_valid(polygon)
    seeds = np.asarray(seeds, dtype=float)
    for round_ in range(relax + 1):
        diagram = shapely.voronoi_polygons(
            shapely.MultiPoint(seeds), extend_to=shapely.envelope(polygon).buffer(1.0)
        )
        cells = list(diagram.geoms)
        # voronoi_polygons does not keep input order: match each cell to its seed.
        ordered = [None] * len(seeds)
        tree = shapely.STRtree(cells)
        for i, (x, y) in enumerate(seeds):
            hits = tree.query(Point(x, y), predicate="intersects")
            ordered[i] = cells[hits[0]]
        clipped = [shapely.intersection(cell, polygon) for cell in ordered]
        if round_ < relax:
            seeds = np.array(
                [
                    [c.centroid.x, c.centroid.y] if not c.is_empty else s
                    for c, s in zip(clipped, seeds, strict=True)
                ]
            )
    return [as_multipolygon(c) for c in clipped]


def _split(parent: MultiPolygon, count: int, rng, *, relax=2, centre=None, spread=None):
    seeds = random_points_in(parent, count, rng, centre=centre, spread=spread)
    cells = voronoi_partition(parent, seeds, relax=relax)
    return [c for c in cells if not c.is_empty]


def build_territory(
    county: MultiPolygon,
    *,
    county_code: str,
    county_name: str,
    seed: int,
    townships: int = 28,
    villages: int = 626,
    grids: int = 6125,
    microgrid_grids: int = 12,
    progress=iter,
):
    """All units from county to micro-grid, as DemoUnit rows in parent-before-child order."""
    rng = np.random.default_rng(seed)
    county = as_multipolygon(county)
    units = [DemoUnit("county", county_code, county_name, "", county, "Dengzhou")]
    n_streets = min(len(STREETS), max(1, round(townships * 6 / 28)))
    names = STREETS[:n_streets] + TOWNS[: townships - n_streets]
    centre = county.representative_point()
    # Street seeds crowd around the town centre, so streets come out small and urban.
    core = random_points_in(county, n_streets, rng, centre=(centre.x, centre.y), spread=0.025)
    rural = random_points_in(county, townships - n_streets, rng)
    town_cells = voronoi_partition(county, np.vstack([core, rural]), relax=0)
    town_units = []
    for i, (name, cell) in enumerate(zip(names, town_cells, strict=True)):
        urban = i < n_streets
        code = f"{county_code}{(i + 1) if urban else (100 + i - n_streets + 1):03d}"
        unit = DemoUnit("township", code, name, county_code, cell, TOWN_PINYIN.get(name, ""), urban)
        town_units.append(unit)
    units += town_units

    # Villages in proportion to area, communities (fewer, denser in grids) in the streets.
    n_communities = 8 * n_streets
    rural_towns = [u for u in town_units if not u.urban]
    rural_counts = dict(
        zip(
            (u.code for u in rural_towns),
            apportion(villages - n_communities, [u.boundary.area for u in rural_towns], minimum=2),
            strict=True,
        )
    )
    village_units = []
    for town in progress(town_units):
        count = n_communities // n_streets if town.urban else rural_counts[town.code]
        cells = _split(town.boundary, count, rng)
        for j, cell in enumerate(cells):
            if town.urban:
                name = f"{COMMUNITY_WORDS[(j + 3 * len(village_units)) % len(COMMUNITY_WORDS)]}社区"
                code = f"{town.code}{j + 1:03d}"
            else:
                name = f"{SURNAMES[rng.integers(len(SURNAMES))]}{VILLAGE_SUFFIXES[rng.integers(len(VILLAGE_SUFFIXES))]}村"
                code = f"{town.code}{200 + j + 1:03d}"
            village_units.append(
                DemoUnit(
                    "village",
                    code,
                    name,
                    town.code,
                    cell,
                    urban=town.urban,
                    full_density=town.urban and j == 0,
                )
            )
    units += village_units

    urban_villages = [v for v in village_units if v.urban]
    rural_villages = [v for v in village_units if not v.urban]
    per_community = 20
    remaining = max(len(rural_villages) * 2, grids - per_community * len(urban_villages))
    rural_counts = dict(
        zip(
            (v.code for v in rural_villages),
            apportion(remaining, [v.boundary.area for v in rural_villages], minimum=2),
            strict=True,
        )
    )
    grid_units = []
    for village in progress(village_units):
        count = per_community if village.urban else rural_counts[village.code]
        for k, cell in enumerate(_split(village.boundary, count, rng)):
            label = (
                f"第{chinese_numeral(k + 1)}网格"
                if village.urban
                else f"第{chinese_numeral(k + 1)}村民小组"
            )
            grid_units.append(
                DemoUnit(
                    "grid",
                    f"{village.code}{k + 1:03d}",
                    f"{village.name}{label}",
                    village.code,
                    cell,
                    urban=village.urban,
                    full_density=village.full_density,
                )
            )
    units += grid_units

    # A few micro-grids, so the map drills down to the bottom level (issue: re-division).
    dense = [g for g in grid_units if g.full_density][:microgrid_grids]
    for grid in dense:
        for m, cell in enumerate(_split(grid.boundary, 8, rng, relax=3)):
            units.append(
                DemoUnit(
                    "microgrid",
                    f"{grid.code}{m + 1:02d}",
                    f"{grid.name}{m + 1}号微网格",
                    grid.code,
                    cell,
                    urban=True,
                )
            )
    return units


def build_households(grids: list[DemoUnit], *, scale: str, seed: int, progress=iter):
    """Households for each grid, yielded grid by grid as (grid code, [DemoHousehold])."""
    rng = np.random.default_rng(seed + 1)
    settings = SCALES[scale]
    for grid in progress(grids):
        if grid.urban and (grid.full_density or scale == "city"):
            low, high = SCALES["city"]["urban"]
        elif grid.urban:
            low, high = settings["urban"]
        else:
            low, high = settings["rural"]
        n = int(rng.integers(low, high + 1))
        yield grid.code, list(_households_in(grid, n, rng))


def _households_in(grid: DemoUnit, n: int, rng):
    polygon = grid.boundary
    if grid.urban:
        # Apartment buildings: 6-30 households per address.
        buildings = max(1, n // int(rng.integers(6, 31)))
        spots = random_points_in(polygon, buildings, rng)
        road = ROADS[int(rng.integers(len(ROADS)))]
        per = np.full(buildings, n // buildings)
        per[: n % buildings] += 1
        for b, ((x, y), count) in enumerate(zip(spots, per, strict=True)):
            number = None
            for unit_no in range(count):
                # Drawn for every flat, as it always was (a seed keeps giving the same town),
                # but the building's first draw is its street number: flats share an address.
                drawn = int(rng.integers(1, 400))
                number = number or drawn
                address = f"邓州市{road}{number}号{b + 1}栋{unit_no // 12 + 1}单元{(unit_no % 12) // 2 + 1}0{unit_no % 2 + 1}室"
                yield _household(x, y, address, rng)
    else:
        # One or two hamlets per villagers' group, ~60-120 m across, houses 1 per point.
        centre = polygon.representative_point()
        hamlets = [(centre.x, centre.y)]
        if n > 20 and rng.random() < 0.5:
            hamlets.append(tuple(random_points_in(polygon, 1, rng)[0]))
        shares = np.array_split(np.arange(n), len(hamlets))
        for (cx, cy), idx in zip(hamlets, shares, strict=True):
            spread = 0.0006 + 0.0002 * math.sqrt(len(idx))
            for x, y in random_points_in(polygon, len(idx), rng, centre=(cx, cy), spread=spread):
                yield _household(x, y, f"{grid.name}{int(rng.integers(1, 200))}号", rng)


def _household(x, y, address, rng) -> DemoHousehold:
    members = int(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6]))
    flags = {
        "elderly_living_alone": members == 1 and rng.random() < 0.45,
        "left_behind_children": members >= 3 and rng.random() < 0.08,
        "low_income": rng.random() < 0.04,
        "disabled": rng.random() < 0.03,
        "party_member": rng.random() < 0.07,
        "key_attention": rng.random() < 0.02,
    }
    return DemoHousehold(round(float(x), 7), round(float(y), 7), address, members, flags)
