import numpy as np
import pytest
import shapely

from core import coords

# Published reference points: the eviltransform project's test vectors.
WGS_GCJ = [
    # wgs lat, wgs lon, gcj lat, gcj lon
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wlat, wlon, glat, glon):
    lon, lat = coords.wgs84_to_gcj02(wlon, wlat)
    assert coords.distance_m(lon, lat, glon, glat) < 0.01


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), WGS_GCJ)
def test_gcj02_to_wgs84_matches_reference(wlat, wlon, glat, glon):
    lon, lat = coords.gcj02_to_wgs84(glon, glat)
    assert coords.distance_m(lon, lat, wlon, wlat) < 0.01


def test_bd09_to_gcj02_and_wgs84_match_reference():
    # gcoord's test vectors (5 decimals, i.e. within about half a metre).
    lon, lat = coords.bd09_to_gcj02(123.0, 45.0)
    assert (lon, lat) == (
        pytest.approx(122.99363304, abs=5e-6),
        pytest.approx(44.9936543, abs=5e-6),
    )
    lon, lat = coords.to_wgs84(123.0, 45.0, "bd09")
    assert (lon, lat) == (pytest.approx(122.9876221, abs=5e-6), pytest.approx(44.9917154, abs=5e-6))
    lon, lat = coords.to_wgs84(123.0, 45.0, "gcj02")
    assert (lon, lat) == (
        pytest.approx(122.99395597, abs=5e-6),
        pytest.approx(44.99804071, abs=5e-6),
    )


def test_gcj02_to_bd09_matches_reference():
    lon, lat = coords.gcj02_to_bd09(123.0, 45.0)
    assert lon == pytest.approx(123.00636499, abs=1e-6)
    assert lat == pytest.approx(45.00636899, abs=1e-6)


def test_offsets_are_hundreds_of_metres_in_china_and_nil_outside():
    lon, lat = coords.wgs84_to_gcj02(112.09, 32.68)  # Dengzhou
    assert 100 < coords.distance_m(112.09, 32.68, lon, lat) < 700
    assert coords.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris: identity


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "wgs84", "cgcs2000"])
def test_round_trip_stays_within_half_a_metre(crs):
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    there = coords.from_wgs84(lon, lat, crs)
    back = coords.to_wgs84(*there, crs)
    assert np.max(coords.distance_m(lon, lat, *back)) < 0.5


def test_geometry_conversion_moves_every_vertex():
    square = shapely.box(112.0, 32.6, 112.1, 32.7)
    moved = coords.geometry_from_wgs84(square, "gcj02")
    assert not moved.equals(square)
    back = coords.geometry_to_wgs84(moved, "gcj02")
    assert shapely.hausdorff_distance(back, square) < 1e-8


def test_unknown_crs_is_refused():
    with pytest.raises(coords.UnknownCRS, match="expected one of"):
        coords.check_crs("epsg3857")
    assert coords.check_crs("GCJ-02") == "gcj02"


# --- issue 10 §3: long edges are cut before a conversion -------------------------------------


def _distance_to_line_m(point, line) -> float:
    """Distance in metres from a lon/lat point to a lon/lat line, in a plane scaled at the
    point's latitude (exact enough over a few metres)."""
    scale = np.cos(np.radians(point[1]))
    squash = lambda xy: np.column_stack([xy[:, 0] * scale, xy[:, 1]])  # noqa: E731
    flat_line = shapely.transform(line, squash)
    flat_point = shapely.Point(point[0] * scale, point[1])
    return flat_line.distance(flat_point) * 6371008.8 * np.pi / 180


def _random_edges(count, seed):
    """Edges of 5-10 km in any direction, anywhere in China's GCJ-02 box."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(75, 134, count), rng.uniform(20, 52, count)
    length, heading = rng.uniform(5000, 10000, count), rng.uniform(0, np.pi, count)
    dlon = length * np.cos(heading) / (111195 * np.cos(np.radians(lat)))
    dlat = length * np.sin(heading) / 111195
    return np.column_stack([lon, lat, lon + dlon, lat + dlat])


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
@pytest.mark.parametrize("direction", ["to_wgs84", "from_wgs84"])
def test_a_converted_edge_stays_within_a_centimetre_of_the_true_one(crs, direction):
    """Converting only the vertices left the middle of a 5 km edge metres off the converted
    edge (up to 4.7 m in GCJ-02, 63 m in BD-09); the true edge is the converted straight one."""
    geometry = getattr(coords, f"geometry_{direction}")
    point = coords.to_wgs84 if direction == "to_wgs84" else coords.from_wgs84
    worst = 0.0
    for x0, y0, x1, y1 in _random_edges(300, seed=10):
        converted = geometry(shapely.LineString([(x0, y0), (x1, y1)]), crs)
        for t in (0.5, 0.25, 0.8):
            true = point(x0 + t * (x1 - x0), y0 + t * (y1 - y0), crs)
            worst = max(worst, _distance_to_line_m((float(true[0]), float(true[1])), converted))
    assert worst < 0.01


def test_an_edge_two_neighbours_share_is_cut_into_the_same_points_either_way():
    west = shapely.box(112.0, 32.6, 112.06, 32.66)
    east = shapely.box(112.06, 32.6, 112.12, 32.66)  # walks the shared edge the other way
    for crs in ("gcj02", "bd09"):
        a, b = coords.geometry_to_wgs84(west, crs), coords.geometry_to_wgs84(east, crs)
        shared = set(map(tuple, shapely.get_coordinates(a))) & set(
            map(tuple, shapely.get_coordinates(b))
        )
        assert len(shared) > 100  # the cut points of the shared edge, bit for bit
        assert a.touches(b) and a.intersection(b).area == 0


def test_a_parent_and_its_children_along_its_edge_stay_together():
    """A 4-corner parent 18 km wide and 3 x 3 children whose corners lie on its edges (a
    T-junction at each): converted vertex by vertex they were 10^5 m² apart; cut on the same
    lattice, the pieces between them stay under the topology check's 0.01 m²."""
    x0, y0, d = 112.3, 32.8, 0.06
    parent = shapely.box(x0, y0, x0 + 3 * d, y0 + 3 * d)
    children = [
        shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
        for i in range(3)
        for j in range(3)
    ]
    for crs in ("gcj02", "bd09"):
        whole = coords.geometry_to_wgs84(parent, crs)
        parts = shapely.union_all([coords.geometry_to_wgs84(c, crs) for c in children])
        pieces = shapely.get_parts(shapely.symmetric_difference(whole, parts))
        m2 = [p.area * 111195**2 * np.cos(np.radians(32.9)) for p in pieces if not p.is_empty]
        assert max(m2, default=0) < 0.01


def test_a_round_trip_adds_no_vertices():
    square = shapely.box(112.0, 32.6, 112.05, 32.65)
    for crs in ("gcj02", "bd09"):
        moved = coords.geometry_from_wgs84(square, crs)
        assert shapely.get_num_coordinates(moved) > 100
        back = coords.geometry_to_wgs84(moved, crs)
        assert shapely.get_num_coordinates(back) == shapely.get_num_coordinates(moved)


def test_a_point_converts_the_same_alone_or_among_others():
    """gcj02_to_wgs84 iterates; each point stops on its own, so the vertices two neighbours
    share come out bit-identical whatever else is converted with them."""
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(75, 134, 500), rng.uniform(20, 52, 500)
    together = coords.gcj02_to_wgs84(lon, lat)
    for i in range(0, 500, 50):
        alone = coords.gcj02_to_wgs84(lon[i : i + 1], lat[i : i + 1])
        assert alone[0][0] == together[0][i] and alone[1][0] == together[1][i]
