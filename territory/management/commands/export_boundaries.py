import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.coords import CRS_NAMES
from territory.boundary_io import FORMATS, BoundaryFileError
from territory.codes import Level
from territory.exports import units_export
from territory.models import Unit


class Command(BaseCommand):
    help = "Export the units of one level (optionally below a parent) to GeoJSON or GeoPackage."

    def add_arguments(self, parser):
        parser.add_argument("output")
        parser.add_argument("--level", required=True, choices=Level.ORDER)
        parser.add_argument("--parent", help="only units below this code")
        parser.add_argument("--format", choices=list(FORMATS), help="default: from the file name")
        parser.add_argument("--crs", default="wgs84", choices=CRS_NAMES)
        parser.add_argument("--as-of", type=datetime.date.fromisoformat)

    def handle(self, *args, output, level, parent, format, crs, as_of, **options):
        fmt = format or ("gpkg" if output.endswith(".gpkg") else "geojson")
        units = Unit.objects.as_of(as_of) if as_of else Unit.objects.current()
        if parent:
            root = units.filter(code=parent).first()
            if root is None:
                raise CommandError(f"unknown parent {parent}")
            units = units.in_subtree([root.path])
        try:
            data, count = units_export(units=units.at_level(level), fmt=fmt, crs=crs)
        except BoundaryFileError as exc:
            raise CommandError(str(exc)) from exc
        Path(output).write_bytes(data)
        self.stdout.write(self.style.SUCCESS(f"wrote {count} {level} unit(s) to {output} ({crs})"))
