"""What every reader produces: one :class:`Transfer` per statement line."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from donors.imports.errors import ImportRefused, RowError
from donors.imports.readers.limits import (
    Deadline,
    Limits,
    cell_too_long,
    refused,
    too_many_columns,
    width,
)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
MAX_ERRORS = 50  # enough to fix a file; a wrong encoding would list every row


@dataclass
class Transfer:
    row: int
    received_on: dt.date | None
    amount_yen: int
    payer_name: str
    incoming: bool
    skip_reason: str = ""
    reference: str = ""
    raw: str = ""
    # The bank's identifying fields; their SHA-256 is the gift's import_fingerprint.
    ref_parts: tuple[str, ...] = field(default_factory=tuple)
    fingerprint: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Computed once here: a cached_property takes a lock on every first
        # read, which costs more than the hash over a 100,000-line statement.
        self.set_ref_parts(self.ref_parts)

    def set_ref_parts(self, parts: tuple[str, ...]) -> None:
        self.ref_parts = parts
        self.fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def max_bytes() -> int:
    return int(getattr(settings, "KYOSEI_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def read_limited(path: str | os.PathLike) -> bytes:
    """The file's bytes, refusing an empty file or one over the size limit before
    reading it into memory."""
    size = os.stat(path).st_size
    limit = max_bytes()
    if size > limit:
        raise ImportRefused(
            [
                RowError(
                    0,
                    _(
                        "The file is %(size)s MB; the limit is %(limit)s MB "
                        "(KYOSEI_IMPORT_MAX_BYTES). Split the statement by period."
                    )
                    % {
                        "size": f"{size / 1048576:,.1f}",
                        "limit": f"{limit / 1048576:,.0f}",
                    },
                )
            ]
        )
    if size == 0:
        raise ImportRefused([RowError(0, _("The file is empty."))])
    with open(path, "rb") as handle:
        return handle.read()


class ErrorList(list):
    """Collects row errors; ``refuse_if_any`` raises them all at once (the first
    :data:`MAX_ERRORS`, then a line counting the rest)."""

    more = 0

    def add(self, row: int, message: str) -> None:
        if len(self) < MAX_ERRORS:
            self.append(RowError(row, message))
        else:
            self.more += 1

    def refuse_if_any(self) -> None:
        if self:
            errors = list(self)
            if self.more:
                errors.append(
                    RowError(0, _("… and %(n)s more errors.") % {"n": self.more})
                )
            raise ImportRefused(errors)


# -- text and CSV, read within the limits --------------------------------------------

# PostgreSQL cannot store NUL in text, nor UTF-8 encode a lone surrogate.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable(text: str) -> None:
    """Refuse text holding a character the database cannot store (NUL, a lone
    surrogate), naming its line: the dry run and the import refuse it alike,
    before anything is written."""
    found = UNSTORABLE.search(text)
    if found is not None:
        raise refused(
            text.count("\n", 0, found.start()) + 1,
            _(
                "the file holds a NUL or other control character that is not "
                "text (binary data?); save it again as CSV text."
            ),
        )


def csv_records(
    text: str,
    *,
    limits: Limits,
    delimiter: str = ",",
    deadline: Deadline | None = None,
) -> Iterator[list[str]]:
    """The CSV records of ``text``, one list of cells each, streamed and checked
    against ``limits`` as they come: a record with more than ``max_columns``
    cells holding data, a cell longer than ``max_cell_chars``, a line break
    (CR) outside quotes, or a field the csv module refuses is refused with
    :class:`ImportRefused` naming the record (1-based).

    A record's width is bounded *before* the csv module splits it: the lines
    fed to it are counted for delimiters, so a line of a million commas is
    refused without building a million cells. The guard is generous (quoted
    cells may hold delimiters); the exact check is on the cells.

    A file with no LF at all is read with CR line ends (Excel's "CSV
    (Macintosh)"); in any other file a bare CR outside quotes is refused
    rather than guessed at, since it would shift the rest of the row.
    """
    guard = max(50 * limits.max_columns, 10_000)
    fed = [0]  # delimiters in the lines of the record being read

    def lines() -> Iterator[str]:
        handle = io.StringIO(text) if "\n" in text else io.StringIO(text, newline="")
        for line in handle:
            fed[0] += line.count(delimiter)
            if fed[0] > guard:
                raise _TooWide
            yield line

    try:
        reader = csv.reader(lines(), delimiter=delimiter or ",")
    except (TypeError, ValueError):
        raise refused(
            0, _("The delimiter “%(d)s” cannot be used for CSV.") % {"d": delimiter}
        ) from None
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _TooWide:
            raise too_many_columns(number + 1, limits) from None
        except csv.Error as exc:
            raise _csv_refused(number + 1, str(exc), limits) from None
        number += 1
        fed[0] = 0
        if cells and max(map(len, cells)) > limits.max_cell_chars:
            raise cell_too_long(number, limits)
        cells = width(cells, limits, number)
        if deadline is not None and number % 256 == 0:
            deadline.check(number)
        yield cells


class _TooWide(Exception):
    pass


def _csv_refused(row: int, detail: str, limits: Limits) -> ImportRefused:
    if "field limit" in detail:
        return cell_too_long(row, limits)
    if "new-line" in detail:
        return refused(
            row,
            _(
                "a line break (CR) inside a cell that is not in quotes; save the "
                "file again as CSV, or put the cell in double quotes."
            ),
        )
    return refused(row, _("this row is not valid CSV (%(e)s).") % {"e": detail})
