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
