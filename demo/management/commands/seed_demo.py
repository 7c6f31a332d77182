from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo.cases import DEMO_CASES, demo_cases_create
from demo.departments import demo_departments_create
from demo.seeding import demo_seed
from demo.users import demo_users_create
from territory.models import Unit


class Command(BaseCommand):
    help = "Seed the demo territory from the real Dengzhou boundary (deterministic)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["demo", "city"], default="demo")
        parser.add_argument("--seed", type=int, default=411381)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if units exist")
        parser.add_argument(
            "--cases",
            type=int,
            default=DEMO_CASES,
            help=f"cases over the last two years, with their histories (default {DEMO_CASES}; "
            "0 for none); only into a database without cases",
        )

    def handle(self, *args, scale, seed, if_empty, cases, **options):
        if Unit.objects.exists():
            if if_empty:
                # A demo seeded before the departments (or the cases) existed gets them now.
                added = demo_departments_create()
                made = self._cases(cases, seed)
                self.stdout.write(
                    "seed_demo: the database already has a territory; kept it"
                    + (f" (added {added} demo departments)" if added else "")
                    + (f" (seeded {made:,} demo cases)" if made else "")
                    + "."
                )
                return
            raise CommandError("the database already has a territory; seed an empty database")

        def progress(items, desc):
            return tqdm(
                items,
                desc=desc,
                unit=" units" if desc == "dividing" else " grids",
                # No bars when the output is a log file, not a terminal.
                disable=True if options["verbosity"] == 0 else None,
            )

        figures = demo_seed(scale=scale, seed=seed, progress=progress)
        figures["cases"] = self._cases(cases, seed)
        self.stdout.write(
            self.style.SUCCESS("seed_demo: " + ", ".join(f"{v:,} {k}" for k, v in figures.items()))
        )

    @staticmethod
    def _cases(n: int, seed: int) -> int:
        """The demo cases need their people: the demo logins first (create_demo_users, which
        `make run` calls next, finds them made)."""
        if n <= 0:
            return 0
        demo_users_create()
        return demo_cases_create(n=n, seed=seed).get("cases", 0)
