"""Export gifts for accounting: ``export_gifts --from 2025-04-01 --to 2026-03-31
--format xlsx --output gifts.xlsx``.

Columns are those of ``donors.exporters.resources.GiftResource``; the file
re-imports through that resource (a dry run reports every row as unchanged).
Rows are streamed in chunks, so large tables export in constant memory.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from donors.exporters.files import FORMATS, write_gifts


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"{option} “{value}” is not a date; use YYYY-MM-DD (e.g. 2025-04-01)."
        ) from None


class Command(BaseCommand):
    help = "Export gifts received in a date range to CSV or XLSX for accounting."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="start",
            metavar="YYYY-MM-DD",
            help="First date received to include (default: the earliest gift).",
        )
        parser.add_argument(
            "--to",
            dest="end",
            metavar="YYYY-MM-DD",
            help="Last date received to include (default: the latest gift).",
        )
        parser.add_argument(
            "--format",
            dest="file_format",
            help="csv or xlsx (default: from the output file's extension, else csv).",
        )
        parser.add_argument("--output", "-o", required=True, help="File to write.")

    def handle(self, *args, start=None, end=None, file_format=None, output, **options):
        first = _date(start, "--from") if start else None
        last = _date(end, "--to") if end else None
        if first and last and first > last:
            raise CommandError(
                f"--from {first.isoformat()} is after --to {last.isoformat()}."
            )
        path = Path(output)
        if file_format is None:
            file_format = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
        file_format = file_format.lower()
        if file_format not in FORMATS:
            raise CommandError(
                f"Unknown format “{file_format}”; use one of: {', '.join(FORMATS)}."
            )
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise CommandError(f"Cannot write {path}: it is a directory.")
        if parent.exists() and not parent.is_dir():
            raise CommandError(f"Cannot write {path}: {parent} is not a folder.")
        if not parent.is_dir():
            raise CommandError(f"Cannot write {path}: folder {parent} does not exist.")
        if not os.access(parent, os.W_OK):
            raise CommandError(f"Cannot write {path}: folder {parent} is not writable.")
        try:
            count = write_gifts(
                path=path, file_format=file_format, start=first, end=last
            )
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from None
        period = f"{first or '…'} – {last or '…'}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {count} gift rows ({period}) to {path} ({file_format})."
            )
        )
