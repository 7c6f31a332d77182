from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from cases import services
from territory.codes import Level
from territory.models import Unit


class Command(BaseCommand):
    help = (
        "Register a 12345 hotline caller system for one county and print its API key (sent "
        "as X-Api-Key to POST /api/hotline/cases/). The key is shown once and never stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the caller system's name, e.g. 邓州12345")
        parser.add_argument("--county", required=True, help="the county's division code")

    def handle(self, *args, name, county, **options):
        unit = Unit.objects.current().filter(code=county).first()
        if unit is None or unit.level != Level.COUNTY:
            raise CommandError(f"{county} is not a current county")
        try:
            caller, key = services.hotline_caller_create(name=name, county_code=county)
        except IntegrityError as exc:
            raise CommandError(f"a caller system named {name!r} exists already") from exc
        self.stdout.write(key)
        self.stderr.write(f"caller system {caller.name} for {county}: keep the key above safe")
