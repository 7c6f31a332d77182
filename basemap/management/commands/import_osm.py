from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from basemap import services
from basemap.osm import OsmFileError, read_layers


class Command(BaseCommand):
    help = (
        "Load roads, buildings, water, land use, place names and points of interest from an "
        "OpenStreetMap extract (.osm.pbf) into the basemap, replacing that area's rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--area", help="name of the area the rows replace (default: the file's name)"
        )

    def handle(self, *args, file, area=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        area = area or path.name.split(".")[0]
        try:
            layers = read_layers(path)
        except OsmFileError as error:
            raise CommandError(f"{file}: not a readable OpenStreetMap file ({error})") from error
        if not any(layers.values()):
            raise CommandError(f"{file}: no roads, buildings, water, land use or places in it")
        counts = services.osm_layers_replace(area=area, layers=layers)
        self.stdout.write(
            self.style.SUCCESS(
                f"import_osm {area}: " + ", ".join(f"{n:,} {k}" for k, n in counts.items())
            )
        )
