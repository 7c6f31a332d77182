from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core import backup


class Command(BaseCommand):
    help = (
        "Restore an archive of `manage.py backup` into an EMPTY database and media folder, "
        "and check its checksums and row counts (see docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--database-url",
            help="postgis://user:pass@host:port/db to restore into (default: the settings' "
            "database); it must exist and be empty (createdb -T template1)",
        )
        parser.add_argument(
            "--media-root", help="the media folder to fill (default: MEDIA_ROOT); empty"
        )
        parser.add_argument(
            "--media-overwrite",
            action="store_true",
            help="write the archive's media files into a folder that is not empty",
        )

    def handle(self, *args, archive, database_url, media_root, media_overwrite, **options):
        try:
            params = (
                backup.params_from_url(database_url)
                if database_url
                else backup.connection_params(connections["default"].settings_dict)
            )
            result = backup.restore(
                archive=archive,
                params=params,
                media_root=media_root or settings.MEDIA_ROOT,
                media_overwrite=media_overwrite,
                bin_dir=settings.WANGGE_PG_BIN,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restored {archive} into {result.database!r}: {result.tables} tables, "
            f"{result.rows:,} rows and {result.media_files} media files, all matching the "
            "manifest"
        )
        if result.unknown_migrations:
            self.stderr.write(
                f"warning: the archive comes from newer code ({len(result.unknown_migrations)} "
                f"migrations this code does not know, e.g. {result.unknown_migrations[0]}): "
                "deploy that version before serving this database"
            )
        elif result.pending_migrations:
            self.stdout.write(
                f"{len(result.pending_migrations)} migrations of this code are not applied "
                "yet: run `manage.py migrate`"
            )
