"""Reading an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2...) with pyosmium into the basemap's
layers: rows of (layer, osm id, kind, name, WKB in WGS84). Reads the whole file before anything
is written, so a broken file changes nothing (services.osm_layers_replace)."""

import osmium
import osmium.geom

ROAD_KINDS = {
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "service", "track", "footway", "path", "cycleway", "steps", "pedestrian",
}  # fmt: skip
WATER_LINES = {"river", "stream", "canal", "drain", "ditch"}
WATER_AREAS = {"water", "riverbank"}
LANDUSE_TAGS = ("landuse", "leisure", "natural")
LANDUSE_KINDS = {
    "farmland", "meadow", "orchard", "residential", "commercial", "retail", "industrial",
    "park", "grass", "wood", "forest", "cemetery",
}  # fmt: skip
PLACE_KINDS = {"city", "town", "suburb", "village", "hamlet", "neighbourhood", "quarter"}
POI_TAGS = ("amenity", "shop", "tourism", "office")


class OsmFileError(Exception):
    pass


def _name(tags) -> str:
    # zh first: a Chinese extract has name in Chinese already; a name:zh wins where both exist.
    return (tags.get("name:zh") or tags.get("name") or "")[:200]


def read_layers(path) -> dict[str, list[tuple]]:
    layers = {k: [] for k in ("roads", "buildings", "water", "landuse", "places", "pois")}
    wkb = osmium.geom.WKBFactory()
    try:
        processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
        for obj in processor:
            tags = obj.tags
            if obj.is_node():
                place, poi = tags.get("place"), next((tags[t] for t in POI_TAGS if t in tags), None)
                if place in PLACE_KINDS and _name(tags):
                    layers["places"].append((obj.id, place, _name(tags), wkb.create_point(obj)))
                elif poi:
                    layers["pois"].append((obj.id, poi[:40], _name(tags), wkb.create_point(obj)))
            elif obj.is_way():
                highway, waterway = tags.get("highway"), tags.get("waterway")
                if highway in ROAD_KINDS or waterway in WATER_LINES:
                    try:
                        line = wkb.create_linestring(obj)
                    except (RuntimeError, osmium.InvalidLocationError):
                        continue  # a way whose nodes the extract cut off
                    layer = "roads" if highway in ROAD_KINDS else "water"
                    layers[layer].append((obj.id, highway or waterway, _name(tags), line))
            elif obj.is_area():
                try:
                    shape = None
                    if "building" in tags:
                        shape = ("buildings", tags["building"])
                    elif tags.get("natural") in WATER_AREAS or tags.get("waterway") in WATER_AREAS:
                        shape = ("water", tags.get("water") or "water")
                    else:
                        kind = next((tags[t] for t in LANDUSE_TAGS if t in tags), None)
                        if kind in LANDUSE_KINDS:
                            shape = ("landuse", kind)
                    if shape:
                        layer, kind = shape
                        layers[layer].append(
                            (obj.orig_id(), kind[:40], _name(tags), wkb.create_multipolygon(obj))
                        )
                except RuntimeError:
                    continue  # a broken multipolygon: left out, as renderers do
    except (RuntimeError, OSError, ValueError) as error:
        raise OsmFileError(str(error)) from error
    return layers
