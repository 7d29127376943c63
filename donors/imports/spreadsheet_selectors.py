"""Reads for the spreadsheet-import screens."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse

from donors.imports.models import SpreadsheetImport
from donors.imports.spreadsheet_services import progress_key, spreadsheet_is_stale

RUNNING = (
    SpreadsheetImport.Status.READING,
    SpreadsheetImport.Status.CHECKING,
    SpreadsheetImport.Status.APPLYING,
)


def spreadsheet_list() -> QuerySet[SpreadsheetImport]:
    return SpreadsheetImport.objects.select_related("created_by", "applied_by")


def spreadsheet_progress(record: SpreadsheetImport) -> dict[str, Any]:
    """Where a running import is (rows read, checked or applied so far); once
    done, ``url`` is the next page (the mapping step after reading)."""
    running = record.status in RUNNING
    stale = running and spreadsheet_is_stale(record)
    total = record.total_rows
    processed = (cache.get(progress_key(record.pk)) or 0) if running else total
    if record.status == SpreadsheetImport.Status.READING:
        percent = 0  # the number of rows is known once the file is read
    else:
        percent = min(100, processed * 100 // max(total, 1)) if running else 100
    page = (
        "donor_imports:spreadsheet_map"
        if record.status == SpreadsheetImport.Status.MAPPING
        else "donor_imports:spreadsheet_detail"
    )
    return {
        "status": record.status,
        "status_display": str(record.get_status_display()),
        "processed": processed,
        "total": total,
        "percent": percent,
        "stale": stale,
        "done": stale or not running,
        "url": reverse(page, args=[record.pk]),
    }


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
