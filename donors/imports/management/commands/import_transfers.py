"""Import a bank or postal transfer file from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from donors.imports.errors import ImportRefused
from donors.imports.models import ImportBatch, TransferProfile
from donors.imports.services import refused_counts, transfer_import
from grants.models import Fund

HELP = """Import a 全銀協 file (--format zengin) or a CSV statement (--format csv
--profile NAME). Matched payers and new payers (a donor is created, flagged for
review) become gifts; AMBIGUOUS rows (several donors could be the payer) get NO
gift and are only reported: settle them on the staff screen, or teach a payer
alias, then import the same file again (rows already imported are skipped).
Exit status 0 on success, 1 when the file is refused (nothing written)."""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", choices=["zengin", "csv"], required=True)
        parser.add_argument("--profile", help="CSV profile name (bank-standard, yucho)")
        parser.add_argument(
            "--encoding",
            choices=["auto", "cp932", "utf-8", "utf-8-sig"],
            default="auto",
        )
        parser.add_argument("--fund", help="fund code (default: general)")
        parser.add_argument(
            "--zengin-years",
            choices=["wareki", "gregorian"],
            default="wareki",
            help="how the 全銀 file writes YY (default 和暦)",
        )
        parser.add_argument("--dry-run", action="store_true", help="write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        profile = None
        if options["format"] == ImportBatch.Format.CSV:
            if not options["profile"]:
                raise CommandError("--profile is required with --format csv")
            profile = TransferProfile.objects.filter(name=options["profile"]).first()
            if profile is None:
                names = ", ".join(
                    TransferProfile.objects.values_list("name", flat=True)
                )
                raise CommandError(f"No profile {options['profile']!r} (have: {names})")
        fund = None
        if options["fund"]:
            fund = Fund.objects.filter(code=options["fund"]).first()
            if fund is None:
                raise CommandError(f"No fund with code {options['fund']!r}")
        try:
            result = transfer_import(
                path=options["path"],
                format=options["format"],
                profile=profile,
                encoding=options["encoding"],
                fund=fund,
                user=None,
                dry_run=options["dry_run"],
                years=options["zengin_years"],
            )
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['path']}") from None
        except ImportRefused as exc:
            self._print(refused_counts(exc), options, refused=True)
            raise SystemExit(1) from None
        self._print(result.counts, options, refused=False)

    def _print(self, counts, options, *, refused: bool) -> None:
        public = {
            key: counts[key]
            for key in (
                "rows",
                "gifts_created",
                "duplicates_skipped",
                "matched",
                "ambiguous",
                "new_donors",
                "skipped_not_incoming",
                "errors",
            )
        }
        if options["json"]:
            self.stdout.write(json.dumps(public, ensure_ascii=False))
            return
        if refused:
            self.stderr.write("File refused; nothing was written.")
            for error in public["errors"]:
                self.stderr.write(f"  row {error['row']}: {error['message']}")
            return
        prefix = "Dry run (nothing written): " if options["dry_run"] else ""
        self.stdout.write(
            prefix + ", ".join(f"{k}={v}" for k, v in public.items() if k != "errors")
        )
