"""Writes to the basemap's layers."""

from django.db import connection, transaction

from .models import LAYERS


@transaction.atomic
def osm_layers_replace(*, area: str, layers: dict[str, list[tuple]]) -> dict[str, int]:
    """Replace one area's rows of every layer with `layers` (rows of osm id, kind, name, WGS84
    WKB in hex, as pyosmium makes it), all or nothing. Geometries arrive in 4326 and are stored in 3857 (models.SRID)."""
    counts = {}
    with connection.cursor() as cursor:
        for layer, model in LAYERS.items():
            table = model._meta.db_table
            cursor.execute(f"DELETE FROM {table} WHERE area = %s", [area])
            rows = layers.get(layer, [])
            # Areas and lines come as multi/linestrings; buildings and land use are multipolygons.
            geom = "ST_Transform(ST_GeomFromWKB(%s, 4326), 3857)"
            if layer in ("buildings", "landuse"):
                geom = f"ST_Multi({geom})"
            cursor.executemany(
                f"INSERT INTO {table} (area, osm_id, kind, name, geom) VALUES (%s, %s, %s, %s, {geom})",
                [
                    (area, osm_id, kind, name, bytes.fromhex(wkb))
                    for osm_id, kind, name, wkb in rows
                ],
            )
            counts[layer] = len(rows)
            cursor.execute(f"ANALYZE {table}")
    return counts
