import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from microgrids import services
from territory.management.acting import acting_user


class Command(BaseCommand):
    help = (
        "Re-divide every grid under a village or township into micro-grids of MIN-MAX "
        "households, with a progress bar and a report of what could not be divided and why."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="village, community or township code")
        parser.add_argument("--min", type=int, default=30, dest="low")
        parser.add_argument("--max", type=int, default=50, dest="high")
        parser.add_argument(
            "--commit", action="store_true", help="commit (default: preview and report only)"
        )
        parser.add_argument("--user", help="act as this user (default: the first superuser)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, code, low, high, commit, user, **options):
        acting = acting_user(user)
        try:
            job = services.microgrid_job_create(
                user=acting, unit_code=code, low=low, high=high, commit=commit, start=False
            )
        except services.TerritoryError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # Http404 from the scoped selector
            raise CommandError(f"unknown unit {code} (or outside {acting}'s territory)") from exc
        job = services.microgrid_job_run(
            job_id=job.pk,
            progress=lambda grids: tqdm(grids, desc="dividing", unit="grid", disable=None),
        )
        if options["json"]:
            self.stdout.write(json.dumps(job.report, ensure_ascii=False))
            return
        failed = [r for r in job.report if r["status"] == "not divided"]
        for r in failed:
            self.stdout.write(f"{r['grid']} {r['name']}: not divided: {r['reason']}")
        verb = "divided" if commit else "previewed"
        self.stdout.write(
            f"{job.total - len(failed)} of {job.total} grids {verb}; {len(failed)} not divided."
        )
