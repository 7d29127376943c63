"""Export the donor register (寄附者名簿) of one business year as XLSX or CSV."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from donors.register import EXPORTERS, donor_register, register_export


class Command(BaseCommand):
    help = (
        "Write the donor register of business year --fy (named by its start year) "
        "with the absolute-PST column, as XLSX or CSV (UTF-8 with BOM)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fy", type=int, required=True, help="e.g. 2025")
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="xlsx")
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument(
            "--no-count-overseas",
            action="store_true",
            help="do not count donors with an overseas address (default: counted)",
        )
        parser.add_argument("--language", default="ja", choices=["ja", "en", "vi"])

    def handle(self, *args, fy, format, output, no_count_overseas, language, **opts):
        started = time.perf_counter()
        with translation.override(language):
            register = donor_register(fy, count_overseas=not no_count_overseas)
            data = register_export(register, format)
        path = Path(output)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"FY{fy} ({register.start} – {register.end}): {len(register.rows)} gifts, "
            f"¥{register.total_yen:,}; donors counted for the absolute test: "
            f"{register.counted_donors} (overseas {register.counted_overseas_donors}; "
            f"without overseas {register.counted_donors_without_overseas})."
        )
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {path} ({len(data):,} bytes) in {elapsed:.2f}s.")
        )
