"""Donor and gift spreadsheets: column mapping, dry-run preview (new / updated /
unchanged / error, duplicates flagged), confirm all-or-nothing, bad input refused
with row and column named, permissions per role."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from wagtail.models import ModelLogEntry

from donors.imports.errors import BatchError
from donors.imports.models import SpreadsheetImport
from donors.imports.spreadsheet_services import (
    spreadsheet_apply,
    spreadsheet_check,
    spreadsheet_map,
    spreadsheet_queue_apply,
    spreadsheet_read,
    spreadsheet_upload,
)
from donors.imports.spreadsheets import SpreadsheetRefused, suggest_mapping
from donors.models import Donor, Gift
from grants.models import LedgerEntry
from kyosei.roles import Role
from tests.factories.donors import DonorFactory, FundFactory, general_fund
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

Status = SpreadsheetImport.Status
DONOR_HEADERS = ["寄附者ID", "姓", "名", "セイ", "メイ", "メール", "電話", "郵便番号"]
GIFT_HEADERS = ["寄附者ID", "金額", "通貨", "受領日", "方法", "基金"]


@pytest.fixture(autouse=True)
def media(tmp_path):
    # Messages are asserted in English: tests/conftest.py activates it. Changing
    # LANGUAGE_CODE here would poison the URL resolver's per-language cache.
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, kind: str, name: str = "sheet.csv", user=None):
    """Upload then read (the task's work), as the screens do; a refused file
    raises SpreadsheetRefused with the reasons the import's page shows."""
    record = spreadsheet_upload(
        upload=SimpleUploadedFile(name, data), kind=kind, user=user
    )
    record = spreadsheet_read(record_id=record.pk)
    if record.status == Status.REFUSED:
        raise SpreadsheetRefused(record.errors)
    return record


def check(record, mapping=None, defaults=None):
    spreadsheet_map(
        record=record,
        mapping=record.mapping if mapping is None else mapping,
        defaults=defaults,
    )
    return spreadsheet_check(record_id=record.pk)


def apply(record, user=None):
    spreadsheet_queue_apply(record=record)
    return spreadsheet_apply(record_id=record.pk, user_id=user.pk if user else None)


def counts(record):
    return {k: record.counts[k] for k in ("new", "updated", "unchanged", "error")}


def test_japanese_headers_are_mapped_to_fields():
    headers = DONOR_HEADERS + ["都道府県", "市区町村", "住所1", "好きな色"]
    assert suggest_mapping("donors", headers) == {
        "寄附者ID": "id",
        "姓": "family_name",
        "名": "given_name",
        "セイ": "family_name_kana",
        "メイ": "given_name_kana",
        "メール": "email",
        "電話": "phone",
        "郵便番号": "postal_code",
        "都道府県": "prefecture",
        "市区町村": "city",
        "住所1": "address_line1",
    }
    # Each field once: "Received On" would match, but 受領日 came first.
    assert suggest_mapping("gifts", GIFT_HEADERS + ["Received On"]) == {
        "寄附者ID": "donor_id",
        "金額": "amount",
        "通貨": "currency",
        "受領日": "received_on",
        "方法": "method",
        "基金": "fund",
    }
    assert suggest_mapping("gifts", ["Received On", "AMOUNT"]) == {
        "Received On": "received_on",
        "AMOUNT": "amount",
    }


def _donor_row(donor: Donor, **changes):
    row = {
        "寄附者ID": donor.pk,
        "姓": donor.family_name,
        "名": donor.given_name,
        "セイ": donor.family_name_kana,
        "メイ": donor.given_name_kana,
        "メール": donor.email,
        "電話": donor.phone,
        "郵便番号": donor.postal_code,
    }
    row.update(changes)
    return [row[h] for h in DONOR_HEADERS]


def _donor_sheet():
    same = DonorFactory(email="same@example.jp")
    moved = DonorFactory(email="old@example.jp")
    existing = DonorFactory(
        family_name="グエン", given_name="アン", email="an@example.jp"
    )
    rows = [
        DONOR_HEADERS,
        _donor_row(same),
        _donor_row(moved, メール="new@example.jp"),
        ["", "佐藤", "一郎", "サトウ", "イチロウ", "ichiro@example.jp", "", ""],
        ["", "グエン", "アン", "", "", "AN@example.jp", "", ""],
    ]
    return rows, same, moved, existing


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_donor_sheet_preview_then_confirm(fmt):
    rows, same, moved, existing = _donor_sheet()
    fundraiser = staff_user(Role.FUNDRAISER)
    data = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    record = upload(data, "donors", f"donors.{fmt}", user=fundraiser)
    assert record.file_format == fmt and record.total_rows == 4

    record = check(record)
    assert record.status == Status.PREVIEW, record.errors
    assert counts(record) == {"new": 2, "updated": 1, "unchanged": 1, "error": 0}
    assert Donor.objects.count() == 3  # the dry run wrote nothing
    by_row = {row["row"]: row for row in record.rows}
    assert [r["status"] for r in record.rows] == [
        "unchanged",
        "updated",
        "new",
        "new",
    ]
    flagged = by_row[5]["duplicates"]
    assert [d["id"] for d in flagged] == [existing.pk]
    assert flagged[0]["email"] == "an@example.jp"
    assert "same email" in flagged[0]["reasons"]
    assert not by_row[4]["duplicates"]
    assert record.counts["duplicates"] == 1

    record = apply(record, fundraiser)
    assert record.status == Status.APPLIED
    assert record.applied_by == fundraiser and record.applied_at
    assert Donor.objects.count() == 5
    moved.refresh_from_db()
    assert moved.email == "new@example.jp"
    ichiro = Donor.objects.get(email="ichiro@example.jp")
    assert ichiro.family_name_kana == "サトウ"
    entry = ModelLogEntry.objects.get(action="donor_imports.spreadsheet.applied")
    assert entry.user_id == fundraiser.pk
    assert entry.data["file_sha256"] == record.file_sha256
    assert entry.data["counts"]["new"] == 2


def test_donor_csv_in_cp932_is_read():
    rows = [["姓", "名", "セイ", "メイ"], ["山本", "太郎", "ﾔﾏﾓﾄ", "ﾀﾛｳ"]]
    record = upload(csv_bytes(rows, "cp932"), "donors")
    assert record.encoding == "cp932"
    record = apply(check(record))
    assert record.status == Status.APPLIED
    donor = Donor.objects.get(family_name="山本")
    assert donor.family_name_kana == "ヤマモト"


def _gift_rows(donor, fund="", **extra):
    row = [donor.pk, "¥10,000", "", "2025/04/01", "銀行振込", fund]
    return [GIFT_HEADERS, row, [donor.pk, "5000", "JPY", "2025年5月1日", "現金", ""]]


def test_gift_sheet_records_gifts_with_ledger_entries_and_reimport_adds_nothing():
    general_fund()
    donor = DonorFactory()
    finance = staff_user(Role.FINANCE)
    data = csv_bytes(_gift_rows(donor))
    defaults = {"fund": "general", "kind": "donation", "currency": "JPY"}

    record = check(upload(data, "gifts", user=finance), defaults=defaults)
    assert record.status == Status.PREVIEW, record.errors
    assert counts(record)["new"] == 2
    assert Gift.objects.count() == 0 and LedgerEntry.objects.count() == 0

    record = apply(record, finance)
    assert record.status == Status.APPLIED
    gifts = list(Gift.objects.order_by("received_on"))
    assert [(g.amount, g.method, g.received_on) for g in gifts] == [
        (10000, "bank_transfer", dt.date(2025, 4, 1)),
        (5000, "cash", dt.date(2025, 5, 1)),
    ]
    assert all(g.donor_id == donor.pk and g.received_by == finance for g in gifts)
    assert all(g.import_fingerprint for g in gifts)
    assert LedgerEntry.objects.count() == 2  # gift_record posted each gift

    again = check(upload(data, "gifts", user=finance), defaults=defaults)
    assert counts(again) == {"new": 0, "updated": 0, "unchanged": 2, "error": 0}
    again = apply(again, finance)
    assert again.status == Status.APPLIED
    assert Gift.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_gift_sheet_applied_all_or_nothing_when_data_changed_after_preview():
    general_fund()
    shelter = FundFactory(code="shelter")
    donor = DonorFactory()
    rows = [
        GIFT_HEADERS,
        [donor.pk, "1000", "JPY", "2025-04-01", "cash", "general"],
        [donor.pk, "2000", "JPY", "2025-04-02", "cash", "shelter"],
    ]
    record = check(upload(csv_bytes(rows), "gifts"), defaults={"kind": "donation"})
    assert record.status == Status.PREVIEW, record.errors
    shelter.closed_on = timezone.localdate()
    shelter.save()

    record = apply(record)
    assert record.status == Status.INVALID
    assert record.errors[0]["row"] == 3
    assert "closed" in record.errors[0]["message"]
    assert Gift.objects.count() == 0 and LedgerEntry.objects.count() == 0


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\r\n\r\n", "empty"),
        ("姓,名\r\n".encode("utf-16"), "UTF-16"),
        ("Müller,café\r\n1,2\r\n".encode("latin-1"), "neither UTF-8 nor Shift_JIS"),
        (b"\xfd\xfe,x\r\n1,2\r\n", "neither UTF-8 nor Shift_JIS"),
        (csv_bytes([["姓", "名"]]), "no data rows"),
        (b"PK\x03\x04garbage", "could not be opened"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_is_imported(data, message):
    with pytest.raises(SpreadsheetRefused) as refused:
        upload(data, "donors")
    assert message in str(refused.value)
    record = SpreadsheetImport.objects.get()
    assert record.status == Status.REFUSED and not record.headers
    assert Donor.objects.count() == 0


def test_a_mapped_column_missing_from_the_file_is_refused():
    record = upload(csv_bytes([["姓", "名"], ["山田", "太郎"]]), "donors")
    with pytest.raises(SpreadsheetRefused) as refused:
        spreadsheet_map(record=record, mapping={"姓": "family_name", "氏名": "notes"})
    assert refused.value.errors[0]["column"] == "氏名"
    assert "not in the file" in refused.value.errors[0]["message"]

    gifts = upload(csv_bytes([["金額"], ["1000"]]), "gifts")
    with pytest.raises(SpreadsheetRefused) as refused:
        spreadsheet_map(record=gifts, mapping={"金額": "amount"})
    assert "Date received" in str(refused.value)


def _bad_gift(cell: str, value: str):
    general_fund()
    donor = DonorFactory()
    good = [donor.pk, "1000", "JPY", "2025-04-01", "cash", "general"]
    bad = list(good)
    bad[GIFT_HEADERS.index(cell)] = value
    return csv_bytes([GIFT_HEADERS, good, bad])


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        ("金額", "abc", "is not an amount in JPY"),
        ("金額", "0", "more than zero"),
        ("受領日", "2025-02-30", "“2025-02-30” is not a real date"),
        ("通貨", "XXX", "Unknown currency “XXX”"),
        ("受領日", "2999-01-01", "2999-01-01 is in the future"),
        ("方法", "小切手", "Unknown method “小切手”"),
        ("基金", "nope", "No fund “nope”"),
        ("寄附者ID", "abc", "No donor “abc”"),
    ],
)
def test_bad_cells_are_named_by_row_and_column_and_nothing_is_written(
    cell, value, message
):
    record = check(
        upload(_bad_gift(cell, value), "gifts"), defaults={"kind": "donation"}
    )
    assert record.status == Status.INVALID
    assert record.counts["error"] == 1 and record.counts["new"] == 1
    [error] = record.errors
    assert error["row"] == 3 and error["column"] == cell, error
    assert message in error["message"]
    bad_row = next(r for r in record.rows if r["row"] == 3)
    assert bad_row["status"] == "error"

    with pytest.raises(BatchError, match="fix them in the file"):
        spreadsheet_queue_apply(record=record)
    assert Gift.objects.count() == 0 and LedgerEntry.objects.count() == 0


def test_a_bad_donor_row_is_refused_with_its_row_and_nothing_is_written():
    rows = [["姓", "メール", "郵便番号"], ["山田", "a@example.jp", ""], ["", "", "12"]]
    record = check(upload(csv_bytes(rows), "donors"))
    assert record.status == Status.INVALID
    assert [e["row"] for e in record.errors] == [3]
    assert "needs a name" in record.errors[0]["message"]
    assert Donor.objects.count() == 0


# -- screens ------------------------------------------------------------------------


def _allowed(response) -> bool:
    """Wagtail answers a denied admin view with a redirect to the dashboard."""
    if response.status_code == 403:
        return False
    return not (response.status_code == 302 and response["Location"] == "/admin/")


@pytest.mark.parametrize(
    ("role", "allowed", "apply"),
    [
        (Role.FUNDRAISER, True, False),  # uploads and previews; applying posts money
        (Role.FINANCE, True, True),
        (Role.BOARD, False, False),
        (Role.CASEWORKER, False, False),
        (Role.EDITOR, False, False),
    ],
)
def test_permissions_by_role(client, role, allowed, apply):
    client.force_login(staff_user(role))
    record = upload(csv_bytes([["姓"], ["山田"]]), "donors")
    urls = [
        reverse("donor_imports:spreadsheet_index"),
        reverse("donor_imports:spreadsheet_upload"),
        reverse("donor_imports:spreadsheet_detail", args=[record.pk]),
        reverse("donor_imports:spreadsheet_progress", args=[record.pk]),
        reverse("donor_imports:spreadsheet_map", args=[record.pk]),
    ]
    for url in urls:
        assert _allowed(client.get(url)) is allowed, url
    confirm = reverse("donor_imports:spreadsheet_confirm", args=[record.pk])
    assert _allowed(client.post(confirm)) is apply


def test_upload_map_preview_confirm_through_the_screens(
    client, django_capture_on_commit_callbacks
):
    rows, _same, _moved, existing = _donor_sheet()
    client.force_login(staff_user(Role.FUNDRAISER))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("donor_imports:spreadsheet_upload"),
            {"kind": "donors", "file": SimpleUploadedFile("d.csv", csv_bytes(rows))},
        )
    # The request only stored the file: the page shows the reading under way.
    record = SpreadsheetImport.objects.get()
    assert record.status == Status.READING and not record.headers
    detail = reverse("donor_imports:spreadsheet_detail", args=[record.pk])
    assert response["Location"] == detail
    assert client.get(response["Location"]).status_code == 200
    # No columns to choose before the file is read.
    mapping_url = reverse("donor_imports:spreadsheet_map", args=[record.pk])
    assert client.get(mapping_url)["Location"] == detail
    for callback in queued:
        callback()  # the read task, eager
    progress = client.get(
        reverse("donor_imports:spreadsheet_progress", args=[record.pk])
    ).json()
    assert progress["done"] and progress["status"] == "mapping"
    assert progress["url"] == reverse("donor_imports:spreadsheet_map", args=[record.pk])
    response = {"Location": progress["url"]}
    record.refresh_from_db()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'value="family_name" selected' in page.content.decode()

    post = {f"col_{i}": record.mapping.get(h, "") for i, h in enumerate(record.headers)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], post)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert f"possible duplicate of #{existing.pk}" in html
    assert "an@example.jp" in html
    # The Fundraiser previews; Finance applies.
    assert "Confirm and import" not in html and "a Finance user confirms" in html
    client.post(reverse("donor_imports:spreadsheet_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == Status.PREVIEW
    client.force_login(staff_user(Role.FINANCE))
    assert (
        "Confirm and import" in client.get(page.request["PATH_INFO"]).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donor_imports:spreadsheet_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == Status.APPLIED and Donor.objects.count() == 5
    history = client.get(reverse("donor_imports:spreadsheet_index")).content.decode()
    assert record.file_sha256[:10] in history


def test_import_page_names_the_problem_of_a_refused_file(
    client, django_capture_on_commit_callbacks
):
    client.force_login(staff_user(Role.FINANCE))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donor_imports:spreadsheet_upload"),
            {
                "kind": "gifts",
                "file": SimpleUploadedFile("g.csv", "x\r\n".encode("utf-16")),
            },
        )
    record = SpreadsheetImport.objects.get()
    assert record.status == Status.REFUSED
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "The file was refused; nothing was recorded" in html
    assert "UTF-16" in html
    assert "Choose the columns" not in html


def test_preview_page_lists_errors_by_row_and_column(client):
    record = check(
        upload(_bad_gift("受領日", "2025-02-30"), "gifts"),
        defaults={"kind": "donation"},
    )
    client.force_login(staff_user(Role.FINANCE))
    html = client.get(
        reverse("donor_imports:spreadsheet_detail", args=[record.pk])
    ).content.decode()
    assert "Row 3, “受領日”" in html
    assert "is not a real date" in html
    assert "Confirm and import" not in html


def test_wrong_encoding_names_the_row():
    data = "姓,名\r\n山田,太郎\r\n".encode("cp932") + b"\xfd\xfe,x\r\n"
    with pytest.raises(SpreadsheetRefused) as refused:
        upload(data, "donors")
    assert refused.value.errors[0]["row"] == 3
    assert "neither UTF-8 nor Shift_JIS" in refused.value.errors[0]["message"]
