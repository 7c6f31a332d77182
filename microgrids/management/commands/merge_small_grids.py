from django.core.management.base import BaseCommand, CommandError

from microgrids import services
from territory.management.acting import acting_user


class Command(BaseCommand):
    help = (
        "Merge the grids under CODE whose household count fell below MIN into the neighbour "
        "they share the longest border with (plan only, unless --commit)."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="village, community or township code")
        parser.add_argument("--min", type=int, required=True, dest="low")
        parser.add_argument("--commit", action="store_true")
        parser.add_argument("--user", help="act as this user (default: the first superuser)")

    def handle(self, *args, code, low, commit, user, **options):
        acting = acting_user(user)
        try:
            plan = services.grids_merge_small(user=acting, unit_code=code, low=low, commit=commit)
        except services.TerritoryError as exc:
            raise CommandError(str(exc)) from exc
        for merge in plan:
            self.stdout.write(
                f"{', '.join(merge.absorbed)} -> {merge.into} ({merge.households} households)"
            )
        state = "merged" if commit else "to merge (run again with --commit)"
        self.stdout.write(f"{len(plan)} group(s) {state}.")
