"""Reads for the spreadsheet-import screens."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse

from donors.imports.models import SpreadsheetImport
from donors.imports.spreadsheet_services import progress_key
from donors.imports.spreadsheets import SpreadsheetRefused, read_sheet

RUNNING = (SpreadsheetImport.Status.CHECKING, SpreadsheetImport.Status.APPLYING)


def spreadsheet_list() -> QuerySet[SpreadsheetImport]:
    return SpreadsheetImport.objects.select_related("created_by", "applied_by")


def spreadsheet_progress(record: SpreadsheetImport) -> dict[str, Any]:
    running = record.status in RUNNING
    total = record.total_rows
    processed = (cache.get(progress_key(record.pk)) or 0) if running else total
    return {
        "status": record.status,
        "status_display": str(record.get_status_display()),
        "processed": processed,
        "total": total,
        "percent": 100 if not running else min(100, processed * 100 // max(total, 1)),
        "done": not running,
        "url": reverse("donor_imports:spreadsheet_detail", args=[record.pk]),
    }


def spreadsheet_sample(record: SpreadsheetImport, rows: int = 3) -> list[list[str]]:
    """The first data rows, column by column, to help staff map them."""
    try:
        with record.upload.open("rb") as handle:
            sheet = read_sheet(handle.read(), record.file_name)
    except (SpreadsheetRefused, OSError):
        return []
    return [
        ["" if value is None else str(value) for value in row]
        for row in sheet.rows[:rows]
    ]


def spreadsheet_same_file_applied(
    record: SpreadsheetImport,
) -> SpreadsheetImport | None:
    """An earlier applied import of the very same file (same SHA-256)."""
    return (
        spreadsheet_list()
        .filter(
            file_sha256=record.file_sha256,
            kind=record.kind,
            status=SpreadsheetImport.Status.APPLIED,
        )
        .exclude(pk=record.pk)
        .first()
    )
