from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core import backup


def _count(value):
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, one snapshot) and the media files into one dated "
        "archive with a manifest of row counts and checksums (see docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="a directory for the dated archive, or a FILE.tar "
            "(default: WANGGE_BACKUP_DIR, var/backups/)",
        )
        parser.add_argument(
            "--keep", type=_count, help="afterwards, delete dated archives beyond the newest N"
        )
        parser.add_argument(
            "--keep-weekly",
            type=int,
            default=0,
            help="with --keep: also keep the newest archive of each of the last N weeks",
        )
        parser.add_argument(
            "--keep-monthly",
            type=int,
            default=0,
            help="with --keep: also keep the newest archive of each of the last N months",
        )

    def handle(self, *args, output, keep, keep_weekly, keep_monthly, **options):
        if (keep_weekly or keep_monthly) and keep is None:
            raise CommandError("--keep-weekly and --keep-monthly go with --keep")
        try:
            result = backup.backup(
                settings_dict=connections["default"].settings_dict,
                media_root=settings.MEDIA_ROOT,
                output=output or settings.WANGGE_BACKUP_DIR,
                bin_dir=settings.WANGGE_PG_BIN,
                keep=keep,
                keep_weekly=keep_weekly,
                keep_monthly=keep_monthly,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        database, media = result.manifest["database"], result.manifest["media"]
        self.stdout.write(
            f"{result.path} ({result.size:,} bytes): {len(database['tables'])} tables, "
            f"{sum(database['tables'].values()):,} rows; {len(media['files'])} media files "
            f"({len(media['referenced'])} referenced, {len(media['unreferenced'])} unreferenced)"
        )
        if media["missing"]:
            self.stderr.write(
                f"warning: {len(media['missing'])} media files the database names were not on "
                f"disk before this backup, e.g. {media['missing'][0]}"
            )
        for path in result.pruned:
            self.stdout.write(f"pruned {path}")
