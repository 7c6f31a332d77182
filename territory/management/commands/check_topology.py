import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from territory.models import Unit
from territory.topology import topology_check


class Command(BaseCommand):
    help = "Check that the children of every unit below CODE tile it exactly (gaps, overlaps)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat)
        parser.add_argument("--tolerance-m2", type=float)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, code, as_of, tolerance_m2, **options):
        units = Unit.objects.as_of(as_of) if as_of else Unit.objects.current()
        unit = units.filter(code=code).first()
        if unit is None:
            raise CommandError(f"unknown unit {code}")
        report = topology_check(unit=unit, as_of=as_of, tolerance_m2=tolerance_m2)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(
                f"{unit}: {report.parents_checked} parents, {report.children_checked} children; "
                f"{len(report.gaps)} gaps, {len(report.overlaps)} overlaps, {len(report.spills)} "
                f"spills (pieces under {report.tolerance_m2} m² ignored: {report.noise_pieces})"
            )
            for d in report.defects:
                self.stdout.write(
                    f"  {d.kind:<8} {d.area_m2:>14,.2f} m²  at {d.location[0]:.6f},"
                    f"{d.location[1]:.6f}  {' / '.join(d.units)}"
                )
        if not report.ok:
            raise CommandError(f"{len(report.defects)} topology defect(s)")
