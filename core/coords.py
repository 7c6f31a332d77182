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
    # Each point stops on its own: a point's result must not depend on the others converted
    # with it, or the vertices two neighbours share would come out a few bits apart.
    active = np.ones(np.shape(wlon), dtype=bool)
    for _ in range(max_steps):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        ex, ey = flon - glon, flat - glat
        wlon, wlat = np.where(active, wlon - ex, wlon), np.where(active, wlat - ey, wlat)
        active &= (np.abs(ex) >= tolerance_deg) | (np.abs(ey) >= tolerance_deg)
        if not active.any():
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


# A straight edge between two vertices in one CRS is a curve in another: converting only the
# vertices leaves the stored edge off the true one by up to kappa * L^2 / 8 at its middle (L its
# length). Measured on 200,000 random edges over China, kappa is 1.6e-6 /m for GCJ-02 (either
# way: 4.7 m off at the middle of a 5 km edge) and 2.9e-5 /m for BD-09 (its rotation term has a
# period of 0.12 degrees). So long edges are cut before converting, where they cross the lines
# of a lattice of this spacing (lon and lat, in degrees of this many metres), not into equal
# parts: a parent's edge and its children's edges along it (a T-junction) then share their cut
# points and stay together, off each other only beside the children's corners. A piece is at
# most sqrt(2) * spacing long (S): the edge is at most kappa * S^2 / 8 off the true one (0.4 mm
# for GCJ-02, 1 mm for BD-09) and a sliver beside a corner at most kappa * S^3 / 12 (0.01 m²,
# the topology check's tolerance).
DENSIFY_STEP_M = {GCJ02: 30.0, BD09: 11.0}
_M_PER_DEGREE = 6371008.8 * math.pi / 180
# A converted piece is up to 0.3 % longer or shorter than before (the offset's gradient): edges
# within this slack of the longest piece are not cut again, so a round trip adds no vertices.
_STEP_SLACK = 1.01


def _lattice_cuts(a: np.ndarray, b: np.ndarray, delta: float) -> np.ndarray:
    """The points where segment a-b crosses the lines lon = k * delta and lat = k * delta, in
    order from a to b. Computed from the lower endpoint (lexicographic lon, lat), so the same
    edge walked either way gets bit-identical points; a cut's lattice coordinate is k * delta
    itself, so collinear edges that share a lattice line agree on it exactly."""
    swap = (a[0], a[1]) > (b[0], b[1])
    low, high = (b, a) if swap else (a, b)
    ts, points = [], []
    for axis in (0, 1):
        lo, hi = low[axis], high[axis]
        if lo == hi:
            continue
        k = np.arange(math.floor(min(lo, hi) / delta) + 1, math.ceil(max(lo, hi) / delta))
        lines = k * delta
        t = (lines - lo) / (hi - lo)
        cut = np.empty((len(k), 2))
        cut[:, axis] = lines
        cut[:, 1 - axis] = low[1 - axis] + t * (high[1 - axis] - low[1 - axis])
        ts.append(t)
        points.append(cut)
    t = np.concatenate(ts)
    cuts = np.concatenate(points)
    order = np.argsort(t, kind="stable")
    t, cuts = t[order], cuts[order]
    keep = (t > 0) & (t < 1) & np.concatenate([[True], np.diff(t) > 1e-12])  # lattice nodes once
    cuts = cuts[keep]
    return cuts[::-1] if swap else cuts


def _densified_line(xy: np.ndarray, step_m: float) -> np.ndarray:
    """The points of a line (or ring) with each edge longer than a lattice piece cut at the
    lattice lines (_lattice_cuts); shorter edges are kept whole."""
    if len(xy) < 2:
        return xy
    a, b = xy[:-1], xy[1:]
    metres_x = (b[:, 0] - a[:, 0]) * _M_PER_DEGREE * np.cos(np.radians((a[:, 1] + b[:, 1]) / 2))
    metres_y = (b[:, 1] - a[:, 1]) * _M_PER_DEGREE
    longest_piece = math.sqrt(2) * step_m * _STEP_SLACK
    long_edges = np.nonzero(np.hypot(metres_x, metres_y) > longest_piece)[0]
    if not len(long_edges):
        return xy
    delta = step_m / _M_PER_DEGREE
    pieces, start = [], 0
    for i in long_edges:
        pieces.append(xy[start : i + 1])
        pieces.append(_lattice_cuts(a[i], b[i], delta))
        start = i + 1
    pieces.append(xy[start:])
    return np.vstack(pieces)


def densify(geometry, step_m: float):
    """A 2D geometry with its long edges cut on the lattice of step_m metres (_densified_line);
    points and 3D geometries are returned unchanged."""
    if geometry is None or geometry.is_empty or shapely.has_z(geometry):
        return geometry
    kind = geometry.geom_type
    if kind == "Polygon":
        return shapely.Polygon(
            _densified_line(np.asarray(geometry.exterior.coords), step_m),
            [_densified_line(np.asarray(r.coords), step_m) for r in geometry.interiors],
        )
    if kind in ("LineString", "LinearRing"):
        return type(geometry)(_densified_line(np.asarray(geometry.coords), step_m))
    if kind in ("MultiPolygon", "MultiLineString", "GeometryCollection"):
        return type(geometry)([densify(g, step_m) for g in geometry.geoms])
    return geometry


def _each(geometry, func):
    if isinstance(geometry, shapely.Geometry) or geometry is None:
        return func(geometry)
    return np.array([func(g) for g in geometry], dtype=object)


def geometry_to_wgs84(geometry, crs: str, *, densify_edges: bool = True):
    """A shapely geometry (or array of them) from `crs` to WGS84. From GCJ-02/BD-09 its edges are
    first cut on the lattice of DENSIFY_STEP_M, so the stored edges follow the converted ones
    within a millimetre and neighbours stay neighbours."""
    crs = check_crs(crs)
    if crs in (WGS84, CGCS2000):
        return geometry

    def convert(g):
        if g is None:
            return None
        if densify_edges:
            g = densify(g, DENSIFY_STEP_M[crs])
        return _transform_geometry(g, lambda x, y: to_wgs84(x, y, crs))

    return _each(geometry, convert)


def geometry_from_wgs84(geometry, crs: str, *, densify_edges: bool = True):
    """A WGS84 geometry (or array of them) in `crs`, edges cut as in geometry_to_wgs84."""
    crs = check_crs(crs)
    if crs in (WGS84, CGCS2000):
        return geometry

    def convert(g):
        if g is None:
            return None
        if densify_edges:
            g = densify(g, DENSIFY_STEP_M[crs])
        return _transform_geometry(g, lambda x, y: from_wgs84(x, y, crs))

    return _each(geometry, convert)


def distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    r = 6371008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
