"""Excel workbooks (.xlsx), read without trusting what they claim.

An .xlsx is a zip of XML parts. Before openpyxl sees it, :func:`inspect` checks
every member as it streams the decompressed bytes: the declared sizes and the
bytes actually produced together stay under ``max_uncompressed_bytes`` (a zip
bomb stops at the limit, not after unpacking), no XML part declares a DTD or
entities, no text or tag in an XML part is longer than a cell could be (a
whitespace bomb inside one element would otherwise be built as one string), and
no row holds more cell elements than a sheet can have columns (openpyxl builds
a whole row before returning it).

:func:`rows` then reads the first sheet with openpyxl in read-only mode, after
dropping the sheet's declared dimension (a 1.6 KB file may claim A1:XFD1048576
and openpyxl would pad every row to 16,384 cells): rows are counted as they
stream, including the blank rows openpyxl fills in for gaps, and the file is
refused as soon as one limit is passed.

Everything that goes wrong is :class:`~donors.imports.errors.ImportRefused`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from donors.imports.errors import ImportRefused
from donors.imports.readers.limits import (
    Deadline,
    Limits,
    refused,
    too_big_unpacked,
    too_many_rows,
    width,
)

MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20
MAX_MEMBERS = 10_000
# Excel's own column limit (XFD): a row with more cell elements is not a sheet.
MAX_CELL_ELEMENTS = 16_384
# A row or cell element, with or without a namespace prefix (<x:c ...>).
_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF16_OR_32 = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<")


def unreadable() -> ImportRefused:
    return refused(
        0,
        _(
            "The workbook could not be opened; it may be damaged. Open it in Excel "
            "and save it again as .xlsx, or as CSV UTF-8."
        ),
    )


def _piece_limit(limits: Limits) -> int:
    # A cell's text as XML: up to 3 bytes per character in UTF-8, more where
    # characters are escaped (&amp;), plus the tags around it.
    return 8 * limits.max_cell_chars + 4096


class _XmlScan:
    """Fed an XML part chunk by chunk; refuses a DTD, an over-long text or tag,
    or a row with too many cell elements. Chunks are cut at the last ``<`` so
    every tag is seen whole (UTF-8 never has the byte ``<`` inside a
    character)."""

    def __init__(self, limits: Limits) -> None:
        self.longest = _piece_limit(limits)
        self.carry = b""
        self.cells = 0  # cell elements in the current row

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self.carry + chunk
        cut = len(data) if final else data.rfind(b"<")
        if cut <= 0:
            if len(data) > self.longest:
                raise _too_long()
            self.carry = data
            return
        block, self.carry = data[:cut], data[cut:]
        if len(self.carry) > self.longest:
            raise _too_long()
        if _DTD.search(block):
            raise refused(0, _("The workbook holds a DTD or entities; it is refused."))
        if max(map(len, block.split(b"<"))) > self.longest:
            raise _too_long()
        for found in _ROW_OR_CELL.finditer(block):
            if found.group(1) == b"row":
                self.cells = 0
            else:
                self.cells += 1
                if self.cells > MAX_CELL_ELEMENTS:
                    raise refused(
                        0,
                        _("A row of the workbook has more than %(n)s cells.")
                        % {"n": f"{MAX_CELL_ELEMENTS:,}"},
                    )


def _too_long() -> ImportRefused:
    return refused(
        0,
        _(
            "The workbook holds a text or tag far longer than any cell; it is "
            "damaged or not a real spreadsheet."
        ),
    )


def inspect(archive: zipfile.ZipFile, limits: Limits, deadline: Deadline) -> None:
    """Check every member of ``archive`` within ``limits`` while decompressing
    it in 1 MB chunks (nothing is kept); see the module docstring."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise unreadable()
    if sum(m.file_size for m in members) > limits.max_uncompressed_bytes:
        raise too_big_unpacked(limits)
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names:
        raise refused(
            0,
            _(
                "The file is a zip archive but not an Excel workbook (.xlsx); "
                "save it from Excel as .xlsx or as CSV UTF-8."
            ),
        )
    total = 0
    for member in members:
        if member.is_dir():
            continue
        produced = 0
        scan: _XmlScan | None = None
        with archive.open(member) as stream:
            first = True
            while chunk := stream.read(CHUNK):
                produced += len(chunk)
                total += len(chunk)
                if produced > member.file_size:
                    raise unreadable()  # more than it declared: a forged header
                if total > limits.max_uncompressed_bytes:
                    raise too_big_unpacked(limits)
                if first:
                    first = False
                    head = chunk[:4]
                    if head.startswith(_UTF16_OR_32):
                        raise unreadable()  # Excel writes its XML in UTF-8
                    if chunk.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                        scan = _XmlScan(limits)
                if scan is not None:
                    scan.feed(chunk)
                deadline.check()
        if scan is not None:
            scan.feed(b"", final=True)


def rows(data: bytes, limits: Limits, deadline: Deadline) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows (blank ones included, so row numbers are the
    sheet's), each at most ``max_columns`` wide, at most ``max_rows`` + 1
    (the header) of them; :class:`ImportRefused` for anything else."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inspect(archive, limits, deadline)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001 - zipfile/openpyxl raise many undocumented types on damaged input
        raise unreadable() from None
    try:
        try:
            sheet = book.worksheets[0]
            # Ignore the declared dimension: rows are as wide as their cells.
            sheet.reset_dimensions()
            stream = sheet.iter_rows(values_only=True)
        except Exception:  # noqa: BLE001 - as above
            raise unreadable() from None
        number = 0
        while True:
            try:
                row = next(stream)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 - as above (bad dates, bad cell refs...)
                raise unreadable() from None
            number += 1
            if number > limits.max_rows + 1:
                raise too_many_rows(number, limits)
            if number % 256 == 0:
                deadline.check(number)
            yield width(row, limits, number)
    finally:
        book.close()
