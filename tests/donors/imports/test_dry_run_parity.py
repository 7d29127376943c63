"""The dry run catches everything the import would refuse: ``import_transfers
--dry-run``, the staff preview of a transfer import and the spreadsheet dry run
refuse a NUL, a 23-digit amount or a payer name no donor can be made from with
the same message as the real import, and nothing is written. (On PostgreSQL,
which cannot store NUL or an amount beyond BIGINT, the real import used to fail
after a clean dry run.)"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from wagtail.models import ModelLogEntry

from donors.imports.models import ImportBatch, ImportRow, SpreadsheetImport
from donors.imports.services import import_batch_create, import_batch_stage
from donors.imports.spreadsheet_services import (
    spreadsheet_check,
    spreadsheet_map,
    spreadsheet_read,
    spreadsheet_upload,
)
from donors.models import Donor, Gift
from grants.models import LedgerEntry
from tests.factories.donors import DonorFactory, general_fund
from tests.factories.transfers import fixture, transfer_donors

pytestmark = pytest.mark.django_db

HEADER = "取引日,入金金額,出金金額,残高,摘要,振込依頼人名,取引番号\r\n"


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def _written():
    return (
        Gift.objects.count(),
        LedgerEntry.objects.count(),
        Donor.objects.count(),
        ImportBatch.objects.count(),
        ImportRow.objects.count(),
        ModelLogEntry.objects.count(),
    )


def _command(path: Path, fmt: str, *extra: str):
    out = StringIO()
    args = [str(path), "--format", fmt, "--json", *extra]
    if fmt == "csv":
        args += ["--profile", "bank-standard"]
    try:
        call_command("import_transfers", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def _zengin_with_nul() -> bytes:
    lines = Path(fixture("zengin_01.txt")).read_bytes().split(b"\r\n")
    record = bytearray(lines[1])  # the first data record
    record[60] = 0  # inside the payer name (48 bytes from position 49)
    lines[1] = bytes(record)
    return b"\r\n".join(lines)


CASES = {
    "csv NUL in the payer": (
        "csv",
        (HEADER + "2025/04/01,1000,,1000,ﾌﾘｺﾐ,ﾔﾏﾀﾞ\x00ﾀﾛｳ,A1\r\n").encode(),
        "NUL",
    ),
    "csv 23-digit amount": (
        "csv",
        (HEADER + "2025/04/01,12345678901234567890123,,1,ﾌﾘｺﾐ,ﾔﾏﾀﾞ ﾀﾛｳ,A1\r\n").encode(),
        "largest amount",
    ),
    "csv payer name too long for a donor": (
        "csv",
        (HEADER + "2025/04/01,1000,,1000,ﾌﾘｺﾐ," + "ｱ" * 150 + ",A1\r\n").encode(),
        "payer name",
    ),
    "zengin NUL in the payer": ("zengin", None, "NUL"),
}


@pytest.mark.parametrize("case", CASES)
def test_command_dry_run_refuses_what_the_import_refuses(case, tmp_path):
    fmt, data, message = CASES[case]
    transfer_donors()
    general_fund()
    path = tmp_path / ("statement.csv" if fmt == "csv" else "statement.txt")
    path.write_bytes(data if data is not None else _zengin_with_nul())
    before = _written()

    dry_status, dry = _command(path, fmt, "--dry-run")
    real_status, real = _command(path, fmt)

    assert dry_status == real_status == 1
    assert dry["errors"] and dry["errors"] == real["errors"]
    assert message in dry["errors"][0]["message"]
    assert dry["errors"][0]["row"] == 2
    assert _written() == before


@pytest.mark.parametrize("case", CASES)
def test_staff_preview_refuses_what_the_import_refuses(case):
    from donors.imports.models import TransferProfile

    fmt, data, message = CASES[case]
    general_fund()
    data = data if data is not None else _zengin_with_nul()
    batch = import_batch_create(
        upload=SimpleUploadedFile("statement", data),
        format=fmt,
        profile=TransferProfile.objects.get(name="bank-standard")
        if fmt == "csv"
        else None,
        user=None,
    )
    batch = import_batch_stage(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.REFUSED
    assert message in batch.errors[0]["message"] and batch.errors[0]["row"] == 2
    assert not batch.rows.exists()
    assert Gift.objects.count() == LedgerEntry.objects.count() == 0


def test_a_clean_file_gives_the_same_counts_dry_and_real(tmp_path):
    transfer_donors()
    path = tmp_path / "statement.csv"
    path.write_bytes(
        (HEADER + "2025/04/01,999999999999,,1,ﾌﾘｺﾐ,ﾔﾏﾀﾞ ﾀﾛｳ,A1\r\n").encode()
    )
    dry_status, dry = _command(path, "csv", "--dry-run")
    real_status, real = _command(path, "csv")
    assert dry_status == real_status == 0
    assert dry == real and real["gifts_created"] == 1
    assert Gift.objects.get().amount_yen == 999_999_999_999


# -- spreadsheets -------------------------------------------------------------------


def _sheet(text: str) -> SpreadsheetImport:
    record = spreadsheet_upload(
        upload=SimpleUploadedFile("gifts.csv", text.encode()), kind="gifts", user=None
    )
    return spreadsheet_read(record_id=record.pk)


def test_spreadsheet_dry_run_refuses_a_23_digit_amount_on_its_cell():
    general_fund()
    donor = DonorFactory()
    record = _sheet(
        "寄附者ID,金額,受領日\r\n"
        f"{donor.pk},1000,2025-04-01\r\n"
        f"{donor.pk},12345678901234567890123,2025-04-02\r\n"
    )
    spreadsheet_map(
        record=record,
        mapping=record.mapping,
        defaults={"kind": "donation", "method": "cash", "fund": "general"},
    )
    record = spreadsheet_check(record_id=record.pk)
    assert record.status == SpreadsheetImport.Status.INVALID
    [error] = record.errors
    assert (error["row"], error["column"]) == (3, "金額")
    assert "largest amount Kyosei records" in error["message"]
    assert Gift.objects.count() == LedgerEntry.objects.count() == 0


def test_spreadsheet_with_a_nul_is_refused_when_read_with_its_row():
    record = _sheet("姓,名\r\n" + "山田,太郎\r\n" * 300 + "佐藤,花\x00子\r\n")
    assert record.status == SpreadsheetImport.Status.REFUSED
    assert record.errors[0]["row"] == 302
    assert "NUL" in record.errors[0]["message"]
    assert Donor.objects.count() == 0
