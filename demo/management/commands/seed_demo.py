from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo.departments import demo_departments_create
from demo.seeding import demo_seed
from territory.models import Unit


class Command(BaseCommand):
    help = "Seed the demo territory from the real Dengzhou boundary (deterministic)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["demo", "city"], default="demo")
        parser.add_argument("--seed", type=int, default=411381)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if units exist")

    def handle(self, *args, scale, seed, if_empty, **options):
        if Unit.objects.exists():
            if if_empty:
                # A demo seeded before the departments existed gets them now.
                added = demo_departments_create()
                self.stdout.write(
                    "seed_demo: the database already has a territory; kept it"
                    + (f" (added {added} demo departments)." if added else ".")
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
        self.stdout.write(
            self.style.SUCCESS("seed_demo: " + ", ".join(f"{v:,} {k}" for k, v in figures.items()))
        )
