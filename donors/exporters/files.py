"""Streaming CSV / XLSX writers for resource exports.

``tablib`` builds a whole dataset in memory before writing; these writers take
rows from a queryset iterator in chunks and write them as they come, so an
export of a million gifts needs the memory of one chunk. The files are the same
columns and values as the resource's own export and re-import through it.

CSV is UTF-8 with a byte-order mark (Excel in Japanese opens it without
mojibake). Every cell goes through :mod:`kyosei.spreadsheets`: text that a
spreadsheet would run as a formula gets a leading apostrophe in CSV and is a
quote-prefixed string cell in XLSX; numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from import_export.resources import ModelResource
from openpyxl import Workbook

from donors.exporters.resources import GiftResource
from donors.models import Gift
from kyosei.spreadsheets import csv_row, xlsx_row

FORMATS = ("csv", "xlsx")


def gifts_for_export(
    *, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[Gift]:
    """Gifts received within [start, end] (either may be open), oldest first."""
    gifts = Gift.objects.select_related("donor", "fund").order_by("received_on", "id")
    if start is not None:
        gifts = gifts.filter(received_on__gte=start)
    if end is not None:
        gifts = gifts.filter(received_on__lte=end)
    return gifts


def export_rows(
    resource: ModelResource, queryset: QuerySet, *, native: bool, chunk_size: int
) -> Iterator[list[Any]]:
    """The header row, then one row per object, fetched ``chunk_size`` at a time.

    The values are as the resource exports them, not yet escaped: the writer of
    each format escapes them its own way (:mod:`kyosei.spreadsheets`).
    """
    yield resource.get_export_headers()
    kwargs = {"force_native_type": True} if native else {}
    for obj in queryset.iterator(chunk_size=chunk_size):
        yield resource.export_resource(obj, escape_formulas=False, **kwargs)


def _write_csv(rows: Iterable[list[Any]], handle) -> int:
    writer = csv.writer(handle)
    count = -1
    for row in rows:
        writer.writerow(csv_row(row))
        count += 1
    return count


def _write_xlsx(rows: Iterable[list[Any]], path: Path, title: str) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    count = -1
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
        count += 1
    book.save(path)
    return count


def write_export(
    *,
    resource: ModelResource,
    queryset: QuerySet,
    path: str | os.PathLike[str],
    file_format: str,
    sheet_title: str = "export",
    chunk_size: int = 2000,
) -> int:
    """Write ``queryset`` through ``resource`` to ``path``; return the row count.

    The file is written next to ``path`` under a temporary name and moved into
    place when complete, so a failed export never leaves half a file behind.
    Raises ``ValueError`` for an unknown format and ``OSError`` when the path
    cannot be written.
    """
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use csv or xlsx.")
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent or "."
    )
    tmp = Path(tmp_name)
    try:
        rows = export_rows(
            resource, queryset, native=file_format == "xlsx", chunk_size=chunk_size
        )
        if file_format == "csv":
            with open(fd, "w", encoding="utf-8-sig", newline="") as handle:
                count = _write_csv(rows, handle)
        else:
            os.close(fd)
            count = _write_xlsx(rows, tmp, sheet_title)
        os.chmod(tmp, 0o644)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def write_gifts(
    *,
    path: str | os.PathLike[str],
    file_format: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> int:
    """Export the gifts received within [start, end] to ``path``."""
    return write_export(
        resource=GiftResource(),
        queryset=gifts_for_export(start=start, end=end),
        path=path,
        file_format=file_format,
        sheet_title="gifts",
    )
