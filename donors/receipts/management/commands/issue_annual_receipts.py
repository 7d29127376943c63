"""python manage.py issue_annual_receipts --year 2026 [--dry-run]"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from donors.receipts.batch import BatchProgress, annual_batch_run, annual_print_pdf


class Command(BaseCommand):
    help = (
        "Issue the annual receipts of a calendar year. Restartable: a rerun only "
        "issues what is still missing. Emails donors with an address on file and "
        "merges the rest into one print-ready PDF sorted by postal code."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )
        parser.add_argument(
            "--no-email", action="store_true", help="Do not queue thank-you emails."
        )
        parser.add_argument(
            "--print-output",
            type=Path,
            help="Merged PDF for donors without email "
            "(default var/receipts/annual-YEAR-print.pdf).",
        )

    def handle(self, *args, year: int, dry_run: bool, no_email: bool, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year {year} is not a plausible calendar year.")

        def report(state: BatchProgress) -> None:
            if state.finished:
                return
            self.stdout.write(
                f"[{state.done}/{state.total}] issued {state.issued}, "
                f"skipped {len(state.skipped)}"
            )

        state = annual_batch_run(
            year=year,
            user=None,
            dry_run=dry_run,
            send_email=not no_email,
            progress=report,
        )
        verb = "would issue" if dry_run else "issued"
        self.stdout.write(
            self.style.SUCCESS(
                f"{year}: {state.total} donors, {verb} {state.issued} receipts, "
                f"skipped {len(state.skipped)}."
            )
        )
        for donor_id, reason in state.skipped:
            self.stdout.write(f"  skipped donor #{donor_id}: {reason}")
        if dry_run:
            return
        output = options["print_output"] or (
            Path(settings.VAR_DIR) / "receipts" / f"annual-{year}-print.pdf"
        )
        count = annual_print_pdf(year=year, output=output)
        if count:
            self.stdout.write(f"Print run: {count} receipts for post → {output}")
