"""Reading boundary files and writing exports (GeoJSON, GeoPackage, Shapefile) with pyogrio."""

import json
import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS

from core import coords


class BoundaryFileError(ValueError):
    pass


@dataclass
class RawFeature:
    index: int
    properties: dict
    geometry: object  # shapely geometry or None
    problem: str | None = None  # why the geometry could not be read, when it is None


GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def _unread_geometry_reason(geometry) -> str | None:
    """Why GDAL read a GeoJSON geometry as NULL (it only warns): an unknown type or coordinates
    that are not numbers."""
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    if kind not in GEOJSON_TYPES:
        return f"unknown geometry type {kind!r}; expected Polygon or MultiPolygon"

    def numbers(value):
        if isinstance(value, list):
            return all(numbers(v) for v in value)
        return isinstance(value, int | float) and not isinstance(value, bool)

    if not numbers(geometry.get("coordinates", [])):
        return "coordinates must be numbers (are some given as strings?)"
    return None


def _geojson_features(path: Path) -> list | None:
    """The features of a GeoJSON file as plain JSON (None if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        raw = data["features"] if data.get("type") == "FeatureCollection" else [data]
    except (ValueError, KeyError, AttributeError, TypeError, UnicodeDecodeError):
        return None
    return raw if isinstance(raw, list) else None


def _has_non_finite(feature) -> bool:
    def walk(value):
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return isinstance(value, float) and not math.isfinite(value)

    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    return isinstance(geometry, dict) and walk(geometry.get("coordinates"))


def _geojson_reasons(path: Path, count: int) -> list[str | None]:
    """For each feature of a GeoJSON file, why its geometry was not read (or None)."""
    raw = _geojson_features(path)
    if raw is None or len(raw) != count:
        return [None] * count
    return [
        _unread_geometry_reason(f.get("geometry")) if isinstance(f, dict) else None for f in raw
    ]


GEOGRAPHIC_EPSG = {4326, 4490, 4214}  # WGS84, CGCS2000, Beijing 1954 (lon/lat degrees)
# Their 3D forms (lon/lat degrees and a height), which GDAL declares for a GeoJSON file with
# heights: still lon/lat, so a 3D file is refused for its heights, feature by feature.
GEOGRAPHIC_3D_EPSG = {4979, 4480}


def read_boundary_file(path, *, crs: str) -> list[RawFeature]:
    """Features of a GeoJSON / GeoPackage / Shapefile, with geometries still in the file's
    coordinates. A file that declares a projected CRS is reprojected to lon/lat by pyproj, which
    only makes sense when `crs` is wgs84/cgcs2000 (GCJ-02 and BD-09 are never declared)."""
    path = Path(path)
    if not path.exists():
        raise BoundaryFileError(f"{path}: no such file")
    try:
        frame = pyogrio.read_dataframe(path)
    except shapely.errors.GEOSException as exc:  # one geometry GEOS cannot build
        raise BoundaryFileError(_unbuildable_features(path) or f"{path}: {exc}") from exc
    except Exception as exc:  # pyogrio raises several DataSourceError kinds
        raise BoundaryFileError(
            f"{path}: cannot be read as GeoJSON/GeoPackage/Shapefile: {exc}"
        ) from exc
    declared = frame.crs
    epsg = CRS.from_user_input(declared).to_epsg() if declared is not None else None
    if declared is not None and epsg not in GEOGRAPHIC_EPSG | GEOGRAPHIC_3D_EPSG:
        if coords.check_crs(crs) not in (coords.WGS84, coords.CGCS2000):
            raise BoundaryFileError(
                f"{path}: the file declares {declared.to_string()}, which cannot be {crs}"
            )
        frame = frame.to_crs(4326)
    features = []
    columns = [c for c in frame.columns if c != "geometry"]
    reasons = [None] * len(frame)
    if path.suffix.lower() in (".geojson", ".json") and frame.geometry.isna().any():
        reasons = _geojson_reasons(path, len(frame))
    for i, row in enumerate(frame.itertuples(index=False)):
        props = {c: _plain(getattr(row, c)) for c in columns}
        features.append(
            RawFeature(index=i, properties=props, geometry=row.geometry, problem=reasons[i])
        )
    return features


def _geos_reason(exc: Exception) -> str:
    message = str(exc).split(": ", 1)[-1]
    if "closed linestring" in message:
        return "a ring is not closed (its last point must repeat its first)"
    return f"the geometry cannot be built: {message}"


def _unbuildable_features(path: Path) -> str | None:
    """Which features of a file GEOS cannot build (e.g. an unclosed ring), and why."""
    try:
        meta, _, wkbs, fields = pyogrio.raw.read(path)
    except Exception:
        return None
    names = list(meta["fields"])
    codes = fields[names.index("code")] if "code" in names else [None] * len(wkbs)
    raw = _geojson_features(path) if path.suffix.lower() in (".geojson", ".json") else None
    if raw is not None and len(raw) != len(wkbs):
        raw = None
    lines = []
    for i, (wkb, code) in enumerate(zip(wkbs, codes, strict=False)):
        try:
            shapely.from_wkb(wkb) if wkb is not None else None
        except shapely.errors.GEOSException as exc:
            label = f"feature {i} ({str(code)[:20]})" if code else f"feature {i}"
            reason = _geos_reason(exc)
            if raw is not None and _has_non_finite(raw[i]):
                # A NaN first or last point leaves the ring "unclosed" to GEOS.
                reason = "coordinates contain NaN or infinity"
            lines.append(f"  {label}.geometry: {reason}")
    if not lines:
        return None
    return f"{path}: nothing imported; {len(lines)} problem(s):\n" + "\n".join(lines)


def features_from_geojson(data) -> tuple[list[RawFeature], list[tuple[str, str]]]:
    """Parse a GeoJSON object (FeatureCollection, Feature or bare geometry) into features.
    Returns (features, problems) where problems are (JSON path, message)."""
    problems: list[tuple[str, str]] = []
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            return [], [("", f"malformed JSON: {exc}")]
    if not isinstance(data, dict) or "type" not in data:
        return [], [("", "expected a GeoJSON object with a 'type'")]
    if data["type"] == "FeatureCollection":
        raw = data.get("features")
        if not isinstance(raw, list):
            return [], [("features", "a FeatureCollection needs a list of features")]
        items = [(f"features.{i}", f) for i, f in enumerate(raw)]
    elif data["type"] == "Feature":
        items = [("", data)]
    else:
        items = [("", {"type": "Feature", "properties": {}, "geometry": data})]
    features = []
    for i, (where, item) in enumerate(items):
        prefix = f"{where}." if where else ""
        if not isinstance(item, dict) or item.get("type") != "Feature":
            problems.append((where or "type", "expected a GeoJSON Feature"))
            continue
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            problems.append((f"{prefix}properties", "properties must be an object"))
            continue
        try:
            geometry = shapely.geometry.shape(item["geometry"]) if item.get("geometry") else None
        except Exception as exc:
            problems.append((f"{prefix}geometry", f"malformed GeoJSON geometry: {exc}"))
            continue
        features.append(RawFeature(index=i, properties=props, geometry=geometry))
    return features, problems


FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
}


def write_units(rows: list[dict], *, fmt: str, crs: str, layer: str = "units") -> bytes:
    """rows: dicts with a shapely 'geometry' in WGS84 and plain attributes."""
    if fmt not in FORMATS:
        raise BoundaryFileError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    driver, suffix, _ = FORMATS[fmt]
    crs = coords.check_crs(crs)
    epsg = 4490 if crs == coords.CGCS2000 else 4326
    if rows:
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=epsg)
    else:  # an empty layer still has its columns
        frame = gpd.GeoDataFrame({"code": [], "name": []}, geometry=gpd.GeoSeries([], crs=epsg))
    if crs in (coords.GCJ02, coords.BD09):
        frame["geometry"] = coords.geometry_from_wgs84(frame.geometry.values, crs)
        # GCJ-02/BD-09 have no EPSG code: the layer carries no CRS, the file name says it.
        frame = frame.set_crs(None, allow_override=True)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{layer}{suffix}"
        with warnings.catch_warnings():
            # Deliberate for GCJ-02/BD-09, which no EPSG code describes.
            warnings.filterwarnings("ignore", message="'crs' was not provided")
            pyogrio.write_dataframe(frame, target, driver=driver, layer=layer)
        return target.read_bytes()


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if value != value:  # NaN from empty columns
        return None
    return value
