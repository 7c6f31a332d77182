from pathlib import Path

import pyogrio
import shapely
from django.core.management.base import BaseCommand, CommandError

from core import coords
from patrols import services

# OSM ways people walk along (not rivers, power lines, ...).
WALKABLE = {
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "living_street",
    "pedestrian",
    "footway",
    "path",
    "track",
    "steps",
    "cycleway",
    "trunk",
    "road",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}


class Command(BaseCommand):
    help = (
        "Import a walkable road network for today's routes: OpenStreetMap XML/PBF (ways with a "
        "walkable highway=*) or GeoJSON/GeoPackage lines."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--crs", default="wgs84", choices=coords.CRS_NAMES)
        parser.add_argument("--source", help="a name for this import (default: the file name)")
        parser.add_argument("--replace", action="store_true", help="drop this source's roads first")

    def handle(self, *args, file, crs, source, replace, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        is_osm = path.suffix.lower() in (".osm", ".pbf")
        try:
            frame = pyogrio.read_dataframe(path, layer="lines" if is_osm else None)
        except Exception as exc:  # pyogrio's errors for unreadable files vary by driver
            raise CommandError(f"{file}: not a readable road file ({exc})") from exc
        if is_osm:
            frame = frame[frame["highway"].isin(WALKABLE)]
        lines, names, kinds = [], [], []
        for index, row in frame.iterrows():
            geometry = row.geometry
            if geometry is None or geometry.is_empty:
                continue
            if geometry.geom_type not in ("LineString", "MultiLineString"):
                raise CommandError(f"feature {index}: {geometry.geom_type}, expected lines")
            geometry = coords.geometry_to_wgs84(geometry, crs)
            minx, miny, maxx, maxy = geometry.bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise CommandError(f"feature {index}: coordinates out of range (wrong --crs?)")
            for part in getattr(geometry, "geoms", [geometry]):
                lines.append(shapely.LineString(part.coords))
                names.append(_text(row.get("name")))
                kinds.append(_text(row.get("highway")) or _text(row.get("kind")))
        if not lines:
            raise CommandError(f"{file}: no walkable lines")
        count = services.road_network_import(
            lines=lines, source=source or path.name, names=names, kinds=kinds, replace=replace
        )
        self.stdout.write(f"{count} road segments imported from {path.name}.")


def _text(value) -> str:
    return "" if value is None or value != value else str(value)  # NaN != NaN
