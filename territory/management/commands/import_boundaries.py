import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from core.coords import CRS_NAMES
from territory.boundary_io import BoundaryFileError, read_boundary_file
from territory.codes import Level
from territory.services import TerritoryError, boundaries_import


class Command(BaseCommand):
    help = (
        "Import units of one level from GeoJSON, GeoPackage or Shapefile. Features carry `code`, "
        "`name` (and optionally `name_en`, `parent_code`) properties. Each unit must lie within "
        "its parent (WANGGE_CONTAINMENT_TOLERANCE_M2). All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--level", required=True, choices=Level.ORDER)
        parser.add_argument("--parent", help="parent code for every feature")
        parser.add_argument(
            "--crs",
            default="wgs84",
            choices=CRS_NAMES,
            help="the coordinates' datum (files from Chinese web maps: gcj02/bd09)",
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="repair invalid polygons (make_valid) instead of rejecting them",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="version units whose code exists: retire the old, add the new",
        )
        parser.add_argument(
            "--valid-from",
            type=datetime.date.fromisoformat,
            help="date the new boundaries take effect (default now), from its start: from "
            "1949-10-01 to a year ahead, not before the parent began nor before the version it "
            "replaces. A date after today is checked now and scheduled: the task worker makes "
            "the change at the start of that day",
        )
        parser.add_argument(
            "--allow-orphans",
            action="store_true",
            help="import even if households a replaced grid held would be left in no grid",
        )
        parser.add_argument("--code", help="code of a lone feature without properties")
        parser.add_argument("--name", help="name of a lone feature without properties")

    def handle(self, *args, **o):
        try:
            features = read_boundary_file(o["file"], crs=o["crs"])
            result = boundaries_import(
                features=features,
                level=o["level"],
                crs=o["crs"],
                parent_code=o["parent"],
                repair=o["repair"],
                replace=o["replace"],
                valid_from=o["valid_from"],
                allow_orphans=o["allow_orphans"],
                code=o["code"],
                name=o["name"],
                progress=lambda items: tqdm(
                    items, desc="checking", unit=" features", disable=o["verbosity"] == 0
                ),
            )
        except BoundaryFileError as exc:
            raise CommandError(str(exc)) from exc
        except TerritoryError as exc:
            lines = [
                f"  {p.where}: {p.message}"
                + (f" at {p.location} in {p.location_crs or 'wgs84'}" if p.location else "")
                for p in exc.problems
            ]
            raise CommandError(
                f"nothing imported; {len(exc.problems)} problem(s):\n" + "\n".join(lines)
            ) from exc
        for code in result.repaired:
            self.stdout.write(self.style.WARNING(f"repaired invalid geometry of {code}"))
        if result.scheduled is not None:
            when = timezone.localtime(result.scheduled.effective_at)
            self.stdout.write(
                self.style.SUCCESS(
                    f"scheduled change {result.scheduled.pk}: {len(result.created)} new and "
                    f"{len(result.replaced)} replaced {o['level']} unit(s) take effect at "
                    f"{when:%Y-%m-%d %H:%M %Z}; nothing changes before then (cancel it with "
                    f"POST /api/scheduled-changes/{result.scheduled.pk}/cancel/)"
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {len(result.created)} new and {len(result.replaced)} replaced {o['level']} unit(s)"
            )
        )
