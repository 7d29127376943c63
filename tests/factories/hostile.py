"""Hostile upload files, built the way an attacker would: small on disk, huge
once read. Each builder is cached (the bombs take a fraction of a second of
zlib to make) and returns bytes."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
MB = 1024 * 1024


@functools.cache
def plain_xlsx() -> bytes:
    book = Workbook()
    book.active.append(["姓", "名"])
    book.active.append(["山田", "太郎"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with_member(
    name: str, write: Callable[[io.BufferedWriter], None], *, level: int = 9
) -> bytes:
    """The plain workbook with member ``name`` replaced (or added) by what
    ``write`` streams into it."""
    source = zipfile.ZipFile(io.BytesIO(plain_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for info in source.infolist():
            if info.filename != name:
                zf.writestr(info.filename, source.read(info.filename))
        with zf.open(name, "w") as handle:
            write(handle)
    return out.getvalue()


def _repeat(handle, piece: bytes, total: int) -> None:
    block = piece * max(1, MB // len(piece))
    written = 0
    while written < total:
        handle.write(block)
        written += len(block)


@functools.cache
def xlsx_huge_dimension() -> bytes:
    """~1.6 KB: claims A1:XFD1048576 and has a cell in the last row and
    column, so a reader trusting either pads a million rows to 16,384 cells."""

    def write(handle):
        handle.write(
            SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
            b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
            b"</sheetData></worksheet>"
        )

    return xlsx_with_member(SHEET, write)


@functools.cache
def xlsx_whitespace_bomb(size: int = 300 * MB) -> bytes:
    """An inline-string cell of ``size`` bytes of spaces (~300 KB zipped for
    300 MB): an XML parser builds it as one string."""

    def write(handle):
        handle.write(
            SHEET_HEAD + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
            b'<t xml:space="preserve">'
        )
        _repeat(handle, b" ", size)
        handle.write(b"</t></is></c></row></sheetData></worksheet>")

    return xlsx_with_member(SHEET, write)


@functools.cache
def xlsx_wide_row(cells: int = 1_000_000) -> bytes:
    """One row of a million cells (~16 MB of XML, ~50 KB zipped)."""

    def write(handle):
        handle.write(SHEET_HEAD + b'<sheetData><row r="1">')
        _repeat(handle, b"<c><v>1</v></c>", cells * 15)
        handle.write(b"</row></sheetData></worksheet>")

    return xlsx_with_member(SHEET, write)


@functools.cache
def zip_bomb(size: int = 200 * MB) -> bytes:
    """A workbook carrying a member of ``size`` zero bytes (~1 MB zipped for
    200 MB at zlib's fastest level), honestly declared."""
    return xlsx_with_member(
        "xl/media/image1.bin", lambda h: _repeat(h, b"\0", size), level=1
    )


@functools.cache
def lying_zip_bomb(size: int = 200 * MB) -> bytes:
    """As :func:`zip_bomb`, but the zip's headers claim the member unpacks to
    1 KB: a reader trusting the data instead would inflate all of it."""
    data = bytearray(zip_bomb(size))
    name = b"xl/media/image1.bin"
    # Central directory entries: "PK\1\2", the 32-bit uncompressed size at +24,
    # the name's length at +28 and the name at +46.
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", data, at + 24, 1024)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def csv_wide(columns: int = 1_000_000) -> bytes:
    """A CSV whose header row has a million columns (2 MB)."""
    return b"a," * (columns - 1) + b"a\r\n" + b"1\r\n"


def csv_long_field(chars: int = 200_000) -> bytes:
    return b"name,notes\r\nx," + b"y" * chars + b"\r\n"
