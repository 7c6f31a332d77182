"""Vector tiles made in the database: one SQL statement per tile, each layer cut with
ST_AsMVTGeom and encoded with ST_AsMVT, the layers' bytes concatenated (a valid MVT: a tile is
a sequence of layers).

What a tile carries depends on its zoom, so that a county-wide tile stays small: the main roads
from z8, the town streets from z13, lanes and footpaths from z14, buildings from z14, points
of interest from z15. Lines and areas are simplified to about a quarter of a screen pixel before
they are cut, and each layer takes at most MAX_FEATURES features (the biggest first for areas)
so that no tile can grow without bound."""

MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
MAX_FEATURES = 8000
# Half the equator in web-Mercator metres: a tile at zoom z is 2 * HALF / 2**z wide.
HALF = 20037508.342789244

ROAD_MIN_ZOOM = {
    "motorway": 6,
    "trunk": 7,
    "primary": 8,
    "secondary": 10,
    "tertiary": 11,
}
# Everything else (residential, unclassified, living_street...) from 13; these from 14.
ROAD_LATE = ("service", "track", "footway", "path", "cycleway", "steps", "pedestrian")
PLACE_MIN_ZOOM = {"city": 6, "town": 8, "suburb": 10, "village": 11}  # others (hamlet...) 13

# Per layer: the model's table, the columns it carries, the lowest zoom it appears at, and a
# filter by zoom (SQL over %(z)s). Order is drawing order: areas under lines under labels.
LAYERS = [
    ("landuse", "basemap_landuse", "kind, name", 9, "TRUE"),
    ("water", "basemap_water", "kind, name", 7, "TRUE"),
    (
        "roads",
        "basemap_road",
        "kind, name",
        6,
        "(CASE kind "
        + " ".join(f"WHEN '{k}' THEN {z}" for k, z in ROAD_MIN_ZOOM.items())
        + " WHEN "
        + " WHEN ".join(f"'{k}' THEN 14" for k in ROAD_LATE)
        + " ELSE 13 END) <= %(z)s",
    ),
    ("buildings", "basemap_building", "kind, name", 14, "TRUE"),
    (
        "places",
        "basemap_place",
        "kind, name",
        6,
        "(CASE kind "
        + " ".join(f"WHEN '{k}' THEN {z}" for k, z in PLACE_MIN_ZOOM.items())
        + " ELSE 13 END) <= %(z)s",
    ),
    ("pois", "basemap_poi", "kind, name", 15, "TRUE"),
]


def valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tolerance(z: int) -> float:
    """A quarter of a 256-px screen pixel at zoom z, in metres."""
    return 2 * HALF / 2**z / 256 / 4


def _layer_sql(name, table, columns, min_zoom, zoom_filter, z):
    areas = table in ("basemap_landuse", "basemap_building") or table == "basemap_water"
    simplified = (
        "geom" if table in ("basemap_place", "basemap_poi") else "ST_Simplify(geom, %(tol)s)"
    )
    # Areas smaller than about a pixel are left out (they would be dropped by ST_AsMVTGeom
    # anyway, after costing their encoding); the biggest come first under the cap.
    small = " AND ST_Area(ST_Envelope(geom)) > %(min_area)s" if areas else ""
    order = " ORDER BY ST_Area(ST_Envelope(geom)) DESC" if areas else ""
    return f"""(SELECT COALESCE(ST_AsMVT(t, '{name}', {EXTENT}, 'geom'), '')
        FROM (SELECT {columns},
                     ST_AsMVTGeom({simplified}, b.env, {EXTENT}, {BUFFER}, true) AS geom
              FROM {table}, b
              WHERE geom && b.wide AND {zoom_filter}{small}{order}
              LIMIT {MAX_FEATURES}) AS t
        WHERE t.geom IS NOT NULL)"""


def tile_sql(z: int) -> str:
    """The one statement that makes tile z/x/y (parameters z, x, y, tol, margin, min_area)."""
    parts = [_layer_sql(*layer, z) for layer in LAYERS if layer[3] <= z]
    if not parts:
        return "SELECT ''::bytea"
    return (
        "WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,"
        " ST_Expand(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(margin)s) AS wide) SELECT "
        + " || ".join(parts)
    )


def tile_params(z: int, x: int, y: int) -> dict:
    size = 2 * HALF / 2**z
    pixel = size / 256
    return {
        "z": z,
        "x": x,
        "y": y,
        "tol": tolerance(z),
        "margin": size * BUFFER / EXTENT,
        "min_area": pixel * pixel,
    }


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The x, y of the zoom-z tile holding a WGS84 point (the slippy-map numbering)."""
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
