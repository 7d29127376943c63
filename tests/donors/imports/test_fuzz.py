"""Hypothesis fuzzing of the import readers and upload screens: random and
mutated files (the fixtures cut short, bytes inserted or replaced, NULs, long
lines, other encodings, damaged XML inside a real workbook) never produce
anything but the readers' documented refusal — ``ImportRefused`` from the
transfer readers, ``SpreadsheetRefused`` from the spreadsheet reader — and
the screens answer 200/302 with a message, never a 500, writing no gift or
ledger entry for a refused or dry-run import.

Bounded: a few dozen to a few hundred examples each, so the whole module runs
in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from donors.imports.errors import ImportRefused
from donors.imports.models import ImportBatch, SpreadsheetImport, TransferProfile
from donors.imports.readers import csvfile, zengin
from donors.imports.spreadsheets import SpreadsheetRefused, read_sheet
from donors.models import Gift
from grants.models import LedgerEntry
from kyosei.roles import Role
from tests.conftest import Client
from tests.factories import hostile
from tests.factories.transfers import FIXTURES
from tests.factories.users import staff_user

FAST = settings(
    max_examples=150,
    deadline=dt.timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCREENS = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ZENGIN = [
    (FIXTURES / name).read_bytes()
    for name in ("zengin_01.txt", "zengin_01_nonewline.dat", "zengin_03.txt")
]
CSV = [(FIXTURES / name).read_bytes() for name in ("bank.csv", "yucho.csv")] + [
    (FIXTURES / "bank_utf8_bom.csv").read_bytes()
]
SHIPPED = importlib.import_module("donors.imports.migrations.0002_profiles_roles")
PROFILES = [TransferProfile(**fields) for fields in SHIPPED.PROFILES] + [
    TransferProfile(
        **{**SHIPPED.PROFILES[0], "name": "no-header", "has_header": False},
    ),
    TransferProfile(
        **{
            **SHIPPED.PROFILES[0],
            "name": "signed",
            "skip_rows": 1,
            "credit_column": "",
            "debit_column": "",
            "amount_column": "入金金額",
        }
    ),
]
ENCODINGS = [None, "auto", "cp932", "utf-8", "utf-8-sig"]


def _xlsx_parts() -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(hostile.plain_xlsx()))
    return {name: archive.read(name) for name in archive.namelist()}


XLSX_PARTS = _xlsx_parts()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


@st.composite
def mutated(draw, bases: list[bytes]) -> bytes:
    """One of ``bases`` with up to five mutations."""
    data = bytearray(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(data)))
        kind = draw(
            st.sampled_from(
                [
                    "cut", "insert", "replace", "delete", "nul", "long", "repeat",
                    "newline", "reencode", "digits",
                ]
            )
        )  # fmt: skip
        if kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 300))]
        elif kind == "nul":
            data[at:at] = b"\0" * draw(st.integers(1, 4))
        elif kind == "long":
            data[at:at] = draw(st.sampled_from([b"x", b",", b" ", b'"', b"9"])) * (
                draw(st.integers(1000, 200_000))
            )
        elif kind == "repeat":
            data[at:at] = bytes(data[at : at + 250]) * draw(st.integers(2, 50))
        elif kind == "newline":
            data[at:at] = draw(st.sampled_from([b"\r", b"\n", b"\r\n", b"\r\r"]))
        elif kind == "digits":
            data[at:at] = b"9" * draw(st.integers(10, 40))
        elif kind == "reencode":
            text = bytes(data).decode(
                draw(st.sampled_from(["cp932", "utf-8", "latin-1"])), "replace"
            )
            data = bytearray(
                text.encode(
                    draw(st.sampled_from(["utf-8", "utf-16", "cp932", "euc-jp"])),
                    "replace",
                )
            )
    return bytes(data)


@st.composite
def mutated_workbooks(draw) -> bytes:
    """The plain workbook with one XML part damaged, or its zip bytes damaged."""
    if draw(st.booleans()):
        return draw(mutated([hostile.plain_xlsx()]))
    parts = dict(XLSX_PARTS)
    name = draw(st.sampled_from(sorted(parts)))
    parts[name] = draw(mutated([parts[name]]))
    if draw(st.booleans()):
        del parts[draw(st.sampled_from(sorted(parts)))]
    return _zip(parts)


# -- the readers --------------------------------------------------------------------


@FAST
@given(
    data=st.one_of(mutated(ZENGIN), st.binary(max_size=2000)),
    years=st.sampled_from(["wareki", "gregorian"]),
)
def test_zengin_reader_only_refuses(data, years):
    try:
        transfers = zengin.read(data, years=years, today=dt.date(2026, 6, 1))
    except ImportRefused as exc:
        assert exc.errors and all(e.message for e in exc.errors)
    else:
        assert all(t.amount_yen >= 0 and "\0" not in t.payer_name for t in transfers)


@FAST
@given(
    data=st.one_of(mutated(CSV), st.binary(max_size=2000)),
    profile=st.sampled_from(PROFILES),
    encoding=st.sampled_from(ENCODINGS),
)
def test_csv_reader_only_refuses(data, profile, encoding):
    try:
        transfers = csvfile.read(data, profile=profile, encoding=encoding)
    except ImportRefused as exc:
        assert exc.errors and all(e.message for e in exc.errors)
    else:
        for transfer in transfers:
            assert 0 <= transfer.amount_yen <= 10**12
            assert "\0" not in transfer.payer_name + transfer.raw


@FAST
@given(
    data=st.one_of(mutated(CSV), st.binary(max_size=2000)),
    name=st.sampled_from(["sheet.csv", "sheet.xlsx", "sheet"]),
)
def test_spreadsheet_reader_only_refuses_csv(data, name):
    _read(data, name)


@settings(FAST, max_examples=60)
@given(data=mutated_workbooks())
def test_spreadsheet_reader_only_refuses_xlsx(data):
    _read(data, "sheet.xlsx")


def _read(data: bytes, name: str) -> None:
    try:
        sheet = read_sheet(data, name)
    except SpreadsheetRefused as exc:
        assert exc.errors and all(e["message"] for e in exc.errors)
    else:
        assert sheet.headers and sheet.rows
        assert all(len(row) == len(sheet.headers) for row in sheet.rows)


# -- the screens --------------------------------------------------------------------


class TestUploadScreens(TestCase):
    """Each example runs in its own transaction, rolled back after it (so
    each signs its Finance user in afresh)."""

    def setUp(self):
        self.media = override_settings(MEDIA_ROOT=str(Path(self._tmp())))
        self.media.enable()

    def _sign_in(self) -> None:
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en")
        self.client.force_login(staff_user(Role.FINANCE))

    def tearDown(self):
        self.media.disable()

    def _tmp(self) -> str:
        import tempfile

        if not hasattr(type(self), "_media_dir"):
            type(self)._media_dir = tempfile.mkdtemp(prefix="kyosei-fuzz-")
        return type(self)._media_dir

    def _money(self):
        return Gift.objects.count(), LedgerEntry.objects.count()

    @SCREENS
    @given(
        data=st.one_of(mutated(ZENGIN + CSV), st.binary(max_size=1000)),
        fmt=st.sampled_from(["zengin", "csv"]),
        profile=st.sampled_from(["bank-standard", "yucho"]),
        encoding=st.sampled_from(["auto", "cp932", "utf-8", "utf-8-sig"]),
    )
    def test_transfer_upload_preview_and_apply(self, data, fmt, profile, encoding):
        self._sign_in()
        before = self._money()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("donor_imports:upload"),
                {
                    "file": SimpleUploadedFile("statement", data),
                    "format": fmt,
                    "profile": TransferProfile.objects.get(name=profile).pk,
                    "encoding": encoding,
                },
            )
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:  # the form names the problem
            assert b"error" in response.content
            return
        batch = ImportBatch.objects.latest("pk")
        page = self.client.get(response["Location"])
        assert page.status_code == 200
        assert self._money() == before  # reading and the preview write no money
        if batch.status == ImportBatch.Status.REFUSED:
            assert batch.errors and b"nothing was recorded" in page.content
            return
        assert batch.status == ImportBatch.Status.PREVIEW
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("donor_imports:apply", args=[batch.pk]))
        assert response.status_code == 302
        batch.refresh_from_db()
        if batch.status != ImportBatch.Status.APPLIED:  # refused: nothing written
            assert batch.status == ImportBatch.Status.PREVIEW and batch.errors
            assert self._money() == before
        else:
            gifts = batch.counts["gifts_created"]
            assert self._money() == (before[0] + gifts, before[1] + gifts)
        assert self.client.get(response["Location"]).status_code == 200

    @SCREENS
    @given(
        data=st.one_of(mutated(CSV), mutated_workbooks(), st.binary(max_size=1000)),
        kind=st.sampled_from(["donors", "gifts"]),
        name=st.sampled_from(["sheet.csv", "sheet.xlsx"]),
    )
    def test_spreadsheet_upload_map_and_dry_run(self, data, kind, name):
        self._sign_in()
        before = self._money()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("donor_imports:spreadsheet_upload"),
                {"kind": kind, "file": SimpleUploadedFile(name, data)},
            )
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:
            assert b"error" in response.content
            return
        record = SpreadsheetImport.objects.latest("pk")
        page = self.client.get(response["Location"])
        assert page.status_code == 200
        if record.status == SpreadsheetImport.Status.REFUSED:
            assert record.errors
            return
        assert record.status == SpreadsheetImport.Status.MAPPING
        # Map every column to the field suggested, or to none: the dry run.
        post = {
            f"col_{i}": record.mapping.get(header, "")
            for i, header in enumerate(record.headers)
        }
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("donor_imports:spreadsheet_map", args=[record.pk]), post
            )
        assert response.status_code in (200, 302)
        record.refresh_from_db()
        assert record.status in (
            SpreadsheetImport.Status.MAPPING,  # the mapping form named a problem
            SpreadsheetImport.Status.PREVIEW,
            SpreadsheetImport.Status.INVALID,
        )
        detail = reverse("donor_imports:spreadsheet_detail", args=[record.pk])
        assert self.client.get(detail).status_code == 200
        assert self._money() == before  # a dry run writes nothing
