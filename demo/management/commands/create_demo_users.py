from django.core.management.base import BaseCommand

from demo.users import DEMO_PASSWORD, demo_users_create


class Command(BaseCommand):
    help = "Create one demo login per role (idempotent) and print them."

    def handle(self, *args, **options):
        rows = demo_users_create()
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, unit in rows:
            self.stdout.write(f"  {username:<20} {role:<18} {unit}")
        self.stdout.write("")
