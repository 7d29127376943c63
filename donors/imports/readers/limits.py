"""Limits on what an uploaded file may hold once read, from settings.

A file within ``KYOSEI_IMPORT_MAX_BYTES`` can still claim or unpack to far more
(an .xlsx declaring a million rows, a zip member of whitespace, a CSV line of a
million commas). Readers check these limits as they stream, before the data is
held, and refuse the file with :class:`~donors.imports.errors.ImportRefused`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from donors.imports.errors import ImportRefused, RowError


@dataclass(frozen=True)
class Limits:
    max_rows: int  # data rows of a spreadsheet (the header row excluded)
    max_columns: int
    max_cells: int  # rows × columns held, what bounds a sheet's memory
    max_cell_chars: int
    max_uncompressed_bytes: int
    max_seconds: float

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_rows=int(getattr(settings, "KYOSEI_IMPORT_MAX_ROWS", 100_000)),
            max_columns=int(getattr(settings, "KYOSEI_IMPORT_MAX_COLUMNS", 200)),
            max_cells=int(getattr(settings, "KYOSEI_IMPORT_MAX_CELLS", 3_000_000)),
            max_cell_chars=int(
                getattr(settings, "KYOSEI_IMPORT_MAX_CELL_CHARS", 32_767)
            ),
            max_uncompressed_bytes=int(
                getattr(
                    settings, "KYOSEI_IMPORT_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024
                )
            ),
            max_seconds=float(getattr(settings, "KYOSEI_IMPORT_MAX_SECONDS", 300)),
        )


class Deadline:
    """The wall-time limit of one read: :meth:`check` refuses the file once the
    time is up (called every few rows; a clock read costs ~50 ns)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self, row: int = 0) -> None:
        if time.monotonic() > self.ends:
            raise refused(
                row,
                _(
                    "Reading the file took longer than %(s)s seconds "
                    "(KYOSEI_IMPORT_MAX_SECONDS); split it into smaller files."
                )
                % {"s": f"{self.seconds:,g}"},
            )


def refused(row: int, message: str) -> ImportRefused:
    return ImportRefused([RowError(row, message)])


def too_many_rows(row: int, limits: Limits) -> ImportRefused:
    return refused(
        row,
        _(
            "The file has more than %(n)s rows (KYOSEI_IMPORT_MAX_ROWS); split it "
            "into smaller files."
        )
        % {"n": f"{limits.max_rows:,}"},
    )


def too_many_cells(row: int, limits: Limits) -> ImportRefused:
    return refused(
        row,
        _(
            "The file has more than %(n)s cells (KYOSEI_IMPORT_MAX_CELLS); remove "
            "the columns that are not needed or split it into smaller files."
        )
        % {"n": f"{limits.max_cells:,}"},
    )


def too_many_columns(row: int, limits: Limits) -> ImportRefused:
    return refused(
        row,
        _(
            "This row has more than %(n)s columns (KYOSEI_IMPORT_MAX_COLUMNS); "
            "remove the columns that are not needed."
        )
        % {"n": f"{limits.max_columns:,}"},
    )


def cell_too_long(row: int, limits: Limits) -> ImportRefused:
    return refused(
        row,
        _(
            "A cell in this row is longer than %(n)s characters "
            "(KYOSEI_IMPORT_MAX_CELL_CHARS)."
        )
        % {"n": f"{limits.max_cell_chars:,}"},
    )


def too_big_unpacked(limits: Limits) -> ImportRefused:
    return refused(
        0,
        _(
            "The workbook unpacks to more than %(mb)s MB "
            "(KYOSEI_IMPORT_MAX_UNCOMPRESSED_BYTES); save it again without unused "
            "sheets, or as CSV."
        )
        % {"mb": f"{limits.max_uncompressed_bytes / 1048576:,.0f}"},
    )


def width(row: list | tuple, limits: Limits, number: int) -> list | tuple:
    """``row`` without the empty cells after ``max_columns`` (spreadsheets
    often carry formatted blank cells far to the right); refuses a row with
    data beyond the limit. Counting in C keeps this cheap for a 16,384-cell
    row of blanks."""
    if len(row) <= limits.max_columns:
        return row
    tail = row[limits.max_columns :]
    if tail.count(None) + tail.count("") != len(tail):
        raise too_many_columns(number, limits)
    return row[: limits.max_columns]
