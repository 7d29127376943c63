"""Operations: delete private files that no row names (rolled-back or killed
writes), once they are old enough that no running transaction can still commit
a row naming them."""

import datetime as dt

from django.core.management.base import BaseCommand

from kyosei.private_files import private_orphans_delete

DEFAULT_HOURS = 24


class Command(BaseCommand):
    help = (
        "Delete files in the private storage that no receipt, import or setting "
        "names and that are older than --hours (default 24)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=DEFAULT_HOURS)
        parser.add_argument(
            "--dry-run", action="store_true", help="list the orphans, delete nothing"
        )

    def handle(self, *args, hours: float, dry_run: bool, **options):
        result = private_orphans_delete(
            older_than=dt.timedelta(hours=hours), dry_run=dry_run
        )
        for name in result.deleted:
            self.stdout.write(name)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{result.scanned} private files; {verb} {len(result.deleted)} orphans "
            f"older than {hours:g} h; {result.recent} newer files left alone."
        )
