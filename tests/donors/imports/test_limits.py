"""Uploads that used to take the server down are refused quickly, in bounded
memory, with a clear message: a tiny XLSX claiming a huge sheet, XML and zip
bombs, a CSV of a million columns, over-long cells and stray control bytes.

Memory is measured with tracemalloc (every Python allocation, zlib's and
expat's buffers included); each case must stay far below what the old code
used (750 MB for the whitespace bomb, 5.5 GB for the wide CSV's mapping page).
Time is the CPU time of the test's thread, so a busy machine does not fail
them; the old code took minutes of it (7 for the huge sheet, 3 for the CSV).
"""

from __future__ import annotations

import time
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from donors.imports.errors import ImportRefused
from donors.imports.models import ImportBatch, SpreadsheetImport, TransferProfile
from donors.imports.readers import csvfile
from donors.imports.spreadsheets import SpreadsheetRefused, read_sheet
from donors.models import Donor, Gift
from kyosei.roles import Role
from tests.factories import hostile
from tests.factories.users import staff_user

MB = 1024 * 1024


def refused_within(data: bytes, name: str, *, seconds: float, megabytes: float):
    """Read ``data`` as a spreadsheet; it must be refused within the budget."""
    tracemalloc.start()
    started = time.thread_time()
    try:
        with pytest.raises(SpreadsheetRefused) as refused:
            read_sheet(data, name)
        elapsed = time.thread_time() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"{elapsed:.2f} s"
    assert peak < megabytes * MB, f"{peak / MB:.1f} MB"
    return str(refused.value)


def test_tiny_xlsx_claiming_a_huge_sheet():
    data = hostile.xlsx_huge_dimension()
    assert len(data) < 8000
    message = refused_within(data, "huge.xlsx", seconds=5, megabytes=20)
    assert "more than 100,000 rows" in message


def test_whitespace_bomb_over_the_unpacked_limit():
    data = hostile.xlsx_whitespace_bomb()  # 300 MB of spaces, ~300 KB zipped
    assert len(data) < 400_000
    message = refused_within(data, "bomb.xlsx", seconds=2, megabytes=10)
    assert "unpacks to more than 100 MB" in message


def test_whitespace_bomb_within_the_unpacked_limit_is_caught_while_streaming():
    data = hostile.xlsx_whitespace_bomb(40 * MB)
    message = refused_within(data, "bomb.xlsx", seconds=5, megabytes=10)
    assert "far longer than any cell" in message


@override_settings(KYOSEI_IMPORT_MAX_UNCOMPRESSED_BYTES=10 * MB)
def test_zip_bomb_is_refused_from_its_declared_size():
    data = hostile.zip_bomb()
    message = refused_within(data, "bomb.xlsx", seconds=2, megabytes=10)
    assert "unpacks to more than 10 MB" in message


def test_zip_bomb_lying_about_its_size_is_never_inflated():
    data = hostile.lying_zip_bomb()
    message = refused_within(data, "bomb.xlsx", seconds=2, megabytes=10)
    assert "could not be opened" in message


def test_xlsx_row_of_a_million_cells():
    data = hostile.xlsx_wide_row()
    message = refused_within(data, "wide.xlsx", seconds=5, megabytes=40)
    assert "more than 16,384 cells" in message


def test_csv_of_a_million_columns():
    message = refused_within(hostile.csv_wide(), "wide.csv", seconds=2, megabytes=30)
    assert "more than 200 columns" in message


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (hostile.csv_long_field(), "long.csv", "longer than 32,767 characters"),
        (b"a,b\r\nx\ry,z\r\n", "cr.csv", "line break (CR) inside a cell"),
        (b"a,b\r\n" + b"x,y\r\n" * 2000 + b"x,y\x00z\r\n", "nul.csv", "NUL"),
        (b"not a zip at all", "x.xlsx", "not an .xlsx workbook"),
        (hostile.plain_xlsx()[:900], "cut.xlsx", "could not be opened"),
        (b"PK\x03\x04" + b"\0" * 100, "x.xlsx", "could not be opened"),
    ],
)
def test_malformed_files_get_a_clear_message(data, name, message):
    assert message in refused_within(data, name, seconds=2, megabytes=20)


def test_zip_without_a_workbook():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    message = refused_within(out.getvalue(), "x.xlsx", seconds=2, megabytes=5)
    assert "not an Excel workbook" in message


def test_a_csv_with_old_mac_line_ends_is_read():
    sheet = read_sheet("姓,名\r山田,太郎\r".encode(), "mac.csv")
    assert sheet.headers == ["姓", "名"] and sheet.rows == [["山田", "太郎"]]


@override_settings(
    KYOSEI_IMPORT_MAX_ROWS=3, KYOSEI_IMPORT_MAX_COLUMNS=2, KYOSEI_IMPORT_MAX_CELLS=7
)
def test_limits_come_from_settings():
    with pytest.raises(SpreadsheetRefused, match="more than 3 rows"):
        read_sheet(b"a\r\n1\r\n2\r\n3\r\n4\r\n", "rows.csv")
    with pytest.raises(SpreadsheetRefused, match="more than 2 columns"):
        read_sheet(b"a,b,c\r\n1,2,3\r\n", "cols.csv")
    with pytest.raises(SpreadsheetRefused, match="more than 7 cells"):
        read_sheet(b"a,b\r\n1,2\r\n3,4\r\n5,6\r\n", "cells.csv")
    # Blank cells past the limit (a formatted but empty column) are dropped.
    assert read_sheet(b"a,b,,\r\n1,2,,\r\n", "blank.csv").headers == ["a", "b"]


@override_settings(KYOSEI_IMPORT_MAX_SECONDS=0.001)
def test_reading_stops_at_the_time_limit():
    rows = b"a,b\r\n" + b"1,2\r\n" * 50_000
    with pytest.raises(SpreadsheetRefused, match=r"longer than 0\.001 seconds"):
        read_sheet(rows, "slow.csv")


# -- the transfer readers ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a," * 1_000_000 + b"\r\n", "more than 200 columns"),
        (b"\xe5\x8f\x96\xe5\xbc\x95\xe6\x97\xa5,x\r\n" + b"y" * 200_000, "longer"),
        (b"a,b\r\nx\ry,z\r\n", "line break (CR)"),
        ("取引日,入金金額\r\n2025/04/01,1\x00\r\n".encode(), "NUL"),
    ],
)
def test_transfer_csv_reader_refuses_hostile_files(data, message):
    profile = TransferProfile.objects.get(name="bank-standard")
    started = time.thread_time()
    with pytest.raises(ImportRefused) as refused:
        csvfile.read(data, profile=profile, encoding="utf-8")
    assert time.thread_time() - started < 2
    assert message in str(refused.value)


# -- through the screens: never a 500, nothing read in the request -----------------


@pytest.fixture
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("builder", "name"),
    [
        (hostile.xlsx_huge_dimension, "huge.xlsx"),
        (hostile.xlsx_whitespace_bomb, "bomb.xlsx"),
        (hostile.csv_wide, "wide.csv"),
    ],
)
def test_hostile_spreadsheet_uploads_are_refused_on_the_import_page(
    client, media, django_capture_on_commit_callbacks, builder, name
):
    client.force_login(staff_user(Role.FINANCE))
    started = time.thread_time()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("donor_imports:spreadsheet_upload"),
            {"kind": "donors", "file": SimpleUploadedFile(name, builder())},
        )
    assert time.thread_time() - started < 3  # the request only stores the file
    record = SpreadsheetImport.objects.get()
    assert record.status == SpreadsheetImport.Status.READING
    for callback in queued:
        callback()  # the read task
    record.refresh_from_db()
    assert record.status == SpreadsheetImport.Status.REFUSED
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "The file was refused; nothing was recorded" in page.content.decode()
    # The mapping page of a refused file is not offered (it was the 5.5 GB one).
    mapping = client.get(reverse("donor_imports:spreadsheet_map", args=[record.pk]))
    assert mapping.status_code == 302
    assert Donor.objects.count() == 0


@pytest.mark.django_db
def test_hostile_transfer_upload_is_refused_on_the_batch_page(
    client, media, django_capture_on_commit_callbacks
):
    client.force_login(staff_user(Role.FINANCE))
    profile = TransferProfile.objects.get(name="bank-standard")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donor_imports:upload"),
            {
                "file": SimpleUploadedFile("wide.csv", hostile.csv_wide()),
                "format": "csv",
                "profile": profile.pk,
                "encoding": "auto",
            },
        )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REFUSED
    page = client.get(response["Location"]).content.decode()
    assert "more than 200 columns" in page
    assert Gift.objects.count() == 0
