"""Coordinate systems met in Chinese GIS work, and conversions between them (pure: no database).

- wgs84 (EPSG:4326): GPS, and the storage datum of this project.
- cgcs2000 (EPSG:4490): China's official datum; differs from WGS84 by centimetres (well below
  GPS accuracy), so it is taken as numerically equal, as pyproj's own ballpark transform does.
- gcj02: the obfuscated "Mars" datum of AMap/Gaode and Tencent maps, 100-700 m off WGS84.
- bd09: Baidu's further offset of GCJ-02.

The forward GCJ-02 formula is the published one (Krasovsky ellipsoid). It has no closed-form
inverse; gcj02 -> wgs84 iterates the forward formula to a fixed point, which converges to well
under a millimetre in a few steps, so round trips stay far inside 0.5 m.
"""

import math

import numpy as np
import shapely

WGS84 = "wgs84"
CGCS2000 = "cgcs2000"
GCJ02 = "gcj02"
BD09 = "bd09"
CRS_NAMES = (WGS84, CGCS2000, GCJ02, BD09)
EPSG = {WGS84: 4326, CGCS2000: 4490}

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses it
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


class UnknownCRS(ValueError):
    pass


def check_crs(name: str) -> str:
    key = (name or "").strip().lower().replace("-", "").replace("_", "")
    aliases = {"epsg4326": WGS84, "epsg4490": CGCS2000, "bd09ll": BD09, "gcj": GCJ02}
    key = aliases.get(key, key)
    if key not in CRS_NAMES:
        raise UnknownCRS(f"unknown CRS {name!r}; expected one of {', '.join(CRS_NAMES)}")
    return key


def outside_china(lon, lat):
    """Where GCJ-02 (and BD-09, built on it) is not defined: the published formula's box."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon, lat):
    """GCJ-02 minus WGS84, in degrees, at WGS84 (lon, lat); zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, tolerance_deg=1e-10, max_steps=30):
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_steps):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        ex, ey = flon - glon, flat - glat
        wlon, wlat = wlon - ex, wlat - ey
        if np.all(np.abs(ex) < tolerance_deg) and np.all(np.abs(ey) < tolerance_deg):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    x, y = np.asarray(lon, dtype=float) - 0.0065, np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(lon, lat, crs: str):
    crs = check_crs(crs)
    if crs in (WGS84, CGCS2000):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if crs == GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


class CoordinateError(ValueError):
    pass


def point_to_wgs84(lon, lat, crs: str = WGS84) -> tuple[float, float]:
    """One position given by a user, checked (numbers, known CRS, lon/lat range: metres from a
    projected CRS are refused) and converted to WGS84. Raises UnknownCRS or CoordinateError."""
    crs = check_crs(crs)
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise CoordinateError("longitude and latitude must be numbers") from exc
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinateError(
            "coordinates out of range for longitude/latitude (metres from a projected CRS?)"
        )
    if crs in (WGS84, CGCS2000):
        return lon, lat  # one point: no arrays (every incident comes through here)
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)


def point_from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """One WGS84 position in `crs`, as plain floats."""
    if check_crs(crs) in (WGS84, CGCS2000):
        return float(lon), float(lat)
    x, y = from_wgs84(lon, lat, crs)
    return float(x), float(y)


def from_wgs84(lon, lat, crs: str):
    crs = check_crs(crs)
    if crs in (WGS84, CGCS2000):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if crs == GCJ02:
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _transform_geometry(geometry, func):
    def apply(coords):
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, apply)


def geometry_to_wgs84(geometry, crs: str):
    """A shapely geometry (or array of them) from `crs` to WGS84."""
    if check_crs(crs) in (WGS84, CGCS2000):
        return geometry
    return _transform_geometry(geometry, lambda x, y: to_wgs84(x, y, crs))


def geometry_from_wgs84(geometry, crs: str):
    if check_crs(crs) in (WGS84, CGCS2000):
        return geometry
    return _transform_geometry(geometry, lambda x, y: from_wgs84(x, y, crs))


def distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    r = 6371008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
