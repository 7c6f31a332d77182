"""manage.py freeze_ratings [--year Y --quarter Q]: freeze a quarter's star ratings (the last
ended quarter by default). Freezing an already frozen quarter adds nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.indicators import IndicatorError
from command import ratings, services


class Command(BaseCommand):
    help = "Freeze the star ratings (双评) of an ended quarter."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))

    def handle(self, *args, year=None, quarter=None, **options):
        if (year is None) != (quarter is None):
            raise CommandError("give both --year and --quarter, or neither")
        if year is None:
            year, quarter = ratings.last_ended_quarter(timezone.localdate())
        try:
            created = services.ratings_freeze(year=year, quarter=quarter)
        except IndicatorError as exc:
            raise CommandError("; ".join(p.message for p in exc.problems)) from None
        self.stdout.write(f"{year}Q{quarter}: {created} ratings frozen")
