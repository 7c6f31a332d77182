"""Reading boundary files and writing exports (GeoJSON, GeoPackage, Shapefile) with pyogrio."""

import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

from core import coords


class BoundaryFileError(ValueError):
    pass


@dataclass
class RawFeature:
    index: int
    properties: dict
    geometry: object  # shapely geometry or None
    problem: str | None = None  # why the geometry could not be read, when it is None


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
    if path.suffix.lower() in GEOJSON_SUFFIXES:
        return _read_geojson_file(path, crs)
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
    for i, row in enumerate(frame.itertuples(index=False)):
        props = {c: _plain(getattr(row, c)) for c in columns}
        features.append(RawFeature(index=i, properties=props, geometry=row.geometry))
    return features


def _read_geojson_file(path: Path, crs: str) -> list[RawFeature]:
    """A GeoJSON file goes through features_from_geojson, as an upload to the API does: GDAL
    would close an unclosed ring or read string coordinates as NULL with only a warning."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BoundaryFileError(f"{path}: cannot be read as GeoJSON: {exc}") from exc
    features, problems = features_from_geojson(data, crs=crs)
    if problems:
        lines = [f"  {where or 'file'}: {message}" for where, message in problems]
        raise BoundaryFileError(
            f"{path}: nothing imported; {len(problems)} problem(s):\n" + "\n".join(lines)
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
    lines = []
    for i, (wkb, code) in enumerate(zip(wkbs, codes, strict=False)):
        try:
            shapely.from_wkb(wkb) if wkb is not None else None
        except shapely.errors.GEOSException as exc:
            label = f"feature {i} ({str(code)[:20]})" if code else f"feature {i}"
            reason = _geos_reason(exc)
            lines.append(f"  {label}.geometry: {reason}")
    if not lines:
        return None
    return f"{path}: nothing imported; {len(lines)} problem(s):\n" + "\n".join(lines)


GEOJSON_SUFFIXES = (".geojson", ".json")
GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}
# How deep positions sit in each type's coordinates (0: the position itself).
_POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
MALFORMED = "malformed GeoJSON geometry"

# The marker of an export in a CRS no EPSG code names (docs/crs.md). GDAL reads an unknown
# URN in a GeoJSON `crs` member as WGS84 without a word, so the member names a WKT geographic
# CRS of its own datum instead: GDAL, QGIS and pyproj then show "GCJ-02 (urn:wangge:crs:gcj02)"
# and take it for no EPSG code. The plain member `wangge:crs` says the same to other readers.
CRS_URN = "urn:wangge:crs:{}"
CRS_MEMBER = "wangge:crs"
_CRS_TITLE = {coords.GCJ02: "GCJ-02", coords.BD09: "BD-09"}


def crs_marker_wkt(crs: str) -> str:
    title = _CRS_TITLE[crs]
    degree = 'ANGLEUNIT["degree",0.0174532925199433]'
    return (
        f'GEOGCRS["{title} ({CRS_URN.format(crs)})",'
        f'DATUM["{title}: an offset of WGS 84, not WGS 84",'
        'ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],'
        f'AXIS["longitude",east,{degree}],AXIS["latitude",north,{degree}],'
        f'ID["wangge","{crs}"]]'
    )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position_problem(value) -> str | None:
    if not isinstance(value, list):
        return f"{MALFORMED}: expected a position [lon, lat], got {type(value).__name__}"
    if not all(_is_number(v) for v in value):
        if any(isinstance(v, str) for v in value):
            return "coordinates must be numbers (are some given as strings?)"
        return "coordinates must be numbers"
    if len(value) < 2:
        return f"{MALFORMED}: a position needs a longitude and a latitude"
    if len(value) > 3:
        return f"{MALFORMED}: a position holds lon, lat and at most a height"
    if not all(math.isfinite(v) for v in value):
        return "coordinates contain NaN or infinity"
    return None


def _positions_problem(value, depth: int, kind: str) -> str | None:
    if depth == 0:
        return _position_problem(value)
    if not isinstance(value, list):
        return f"{MALFORMED}: the coordinates of a {kind} must be nested lists of positions"
    for item in value:
        problem = _positions_problem(item, depth - 1, kind)
        if problem:
            return problem
    return None


def geometry_problem(geometry) -> str | None:
    """Why a GeoJSON geometry (plain JSON) cannot be read as it is written, or None. Checked
    before shapely sees it, which would read string coordinates as numbers and GDAL, which
    would close an unclosed ring: the file must say what it means."""
    if not isinstance(geometry, dict):
        return f"{MALFORMED}: expected an object with a type"
    kind = geometry.get("type")
    if kind not in GEOJSON_TYPES:
        return f"unknown geometry type {kind!r}; expected Polygon or MultiPolygon"
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            return f"{MALFORMED}: a GeometryCollection needs a list of geometries"
        return next(filter(None, map(geometry_problem, parts)), None)
    coordinates = geometry.get("coordinates")
    problem = _positions_problem(coordinates, _POSITION_DEPTH[kind], kind)
    if problem:
        return problem
    polygons = {"Polygon": [coordinates], "MultiPolygon": coordinates}.get(kind, [])
    for polygon in polygons:
        for ring in polygon:
            if len(ring) < 4:
                return "a ring needs at least 4 positions (its corners, then the first again)"
            if ring[0] != ring[-1]:
                return "a ring is not closed (its last point must repeat its first)"
    return None


def _declared_crs(data: dict, crs: str):
    """What a FeatureCollection's own CRS says: (transformer to WGS84 lon/lat or None, problem
    or None). A Wangge marker must match `crs`; a projected CRS is reprojected when `crs` is
    wgs84/cgcs2000 and refused otherwise (GCJ-02 and BD-09 are never projected)."""
    marked = data.get(CRS_MEMBER)
    member = data.get("crs")
    name = None
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        name = member["properties"].get("name")
    elif member is not None:
        return None, "expected a named CRS: {'type': 'name', 'properties': {'name': ...}}"
    if isinstance(name, str) and not isinstance(marked, str):
        found = re.search(r"urn:wangge:crs:(\w+)", name, re.IGNORECASE)
        marked = found.group(1) if found else None
    if isinstance(marked, str):
        try:
            marked = coords.check_crs(marked)
        except coords.UnknownCRS as exc:
            return None, f"the file is marked with {exc}"
        if marked != coords.check_crs(crs):
            return None, f"the file is marked as {marked}, but its import names {crs}"
        return None, None
    if not name:
        return None, None
    try:
        declared = CRS.from_user_input(name)
    except Exception:
        return None, f"unknown CRS {str(name)[:80]!r}"
    if declared.is_geographic:
        return None, None
    if coords.check_crs(crs) not in (coords.WGS84, coords.CGCS2000):
        return None, f"the file declares {name}, which cannot be {crs}"
    return Transformer.from_crs(declared, 4326, always_xy=True), None


def features_from_geojson(
    data, *, crs: str = coords.WGS84
) -> tuple[list[RawFeature], list[tuple[str, str]]]:
    """The one reading of GeoJSON, for the API's uploads and the import command's files: a
    FeatureCollection, Feature or bare geometry, as text or parsed JSON. Returns (features,
    problems): a feature whose geometry cannot be read carries geometry None and the reason
    (boundaries_import reports it under the feature's name); problems are (JSON path, message)
    for what is not a feature at all (and then nothing should be imported)."""
    problems: list[tuple[str, str]] = []
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            return [], [("", f"malformed JSON: {exc}")]
    if not isinstance(data, dict) or "type" not in data:
        return [], [("", "expected a GeoJSON object with a 'type'")]
    transformer, crs_problem = _declared_crs(data, crs)
    if crs_problem:
        return [], [("crs", crs_problem)]
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
        raw_geometry = item.get("geometry")
        geometry, problem = None, geometry_problem(raw_geometry) if raw_geometry else None
        if raw_geometry and not problem:
            try:
                geometry = shapely.geometry.shape(raw_geometry)
            except Exception as exc:
                problem = f"{MALFORMED}: {exc}"
            if geometry is not None and transformer is not None:
                geometry = shapely.transform(
                    geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
                )
        features.append(RawFeature(index=i, properties=props, geometry=geometry, problem=problem))
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
    marked = crs in (coords.GCJ02, coords.BD09)
    if marked:
        # Edges densified (coords.DENSIFY_STEP_M): they stay within 1 cm of the true ones.
        frame["geometry"] = list(coords.geometry_from_wgs84(frame.geometry.values, crs))
        # No EPSG code names GCJ-02/BD-09: the layer carries the marker CRS (docs/crs.md).
        frame = frame.set_crs(crs_marker_wkt(crs), allow_override=True)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{layer}{suffix}"
        pyogrio.write_dataframe(frame, target, driver=driver, layer=layer)
        data = target.read_bytes()
    if marked and driver == "GeoJSON":
        data = _marked_geojson(data, crs)
    return data


def _marked_geojson(data: bytes, crs: str) -> bytes:
    """The GeoJSON GDAL wrote, with the marker of `crs` first (GDAL writes no `crs` member for
    a CRS without an EPSG code)."""
    collection = json.loads(data)
    collection.pop("crs", None)
    marked = {
        "type": collection.pop("type"),
        "name": collection.pop("name", None),
        "crs": {"type": "name", "properties": {"name": crs_marker_wkt(crs)}},
        CRS_MEMBER: crs,
    }
    return json.dumps({**marked, **collection}, ensure_ascii=False).encode()


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if value != value:  # NaN from empty columns
        return None
    return value
