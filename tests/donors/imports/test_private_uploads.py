"""Uploaded bank statements and spreadsheets are private files: random names in
the private storage, nothing under MEDIA_ROOT, no URL, still read by the import."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from donors.imports.models import ImportBatch, SpreadsheetImport
from donors.imports.services import import_batch_create, import_batch_stage
from donors.imports.spreadsheet_services import spreadsheet_upload
from kyosei.private_files import private_files_deleted_on_error, private_storage
from tests.factories.transfers import fixture, transfer_donors
from tests.kyosei.test_private_files import stored_files

pytestmark = pytest.mark.django_db


def _statement(name="依頼人_山田_2026-05.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, Path(fixture("zengin_01.txt")).read_bytes())


def test_transfer_upload_is_private_and_still_staged(settings):
    transfer_donors()
    batch = import_batch_create(upload=_statement(), format="zengin", user=None)
    assert re.fullmatch(r"imports/transfers/\d{4}/[0-9a-f]{32}\.txt", batch.upload.name)
    assert batch.file_name == "依頼人_山田_2026-05.txt"  # shown to staff, not stored
    assert "山田" not in batch.upload.name
    with pytest.raises(ValueError, match="no URL"):
        batch.upload.url  # noqa: B018
    assert private_storage().exists(batch.upload.name)
    assert stored_files(Path(settings.MEDIA_ROOT)) == []
    batch = import_batch_stage(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEW and batch.counts["rows"] == 7


def test_spreadsheet_upload_is_private(settings):
    record = spreadsheet_upload(
        upload=SimpleUploadedFile("寄附者一覧.csv", "姓,名\n山田,花子\n".encode()),
        kind=SpreadsheetImport.Kind.DONORS,
        user=None,
    )
    assert re.fullmatch(
        r"imports/spreadsheets/\d{4}/[0-9a-f]{32}\.csv", record.upload.name
    )
    assert private_storage().open(record.upload.name).read().startswith("姓".encode())
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_upload_of_a_rolled_back_transaction_is_deleted(_private_files):
    with pytest.raises(RuntimeError):
        with private_files_deleted_on_error(), transaction.atomic():
            batch = import_batch_create(upload=_statement(), format="zengin", user=None)
            assert private_storage().exists(batch.upload.name)
            raise RuntimeError("the request failed after the upload was stored")
    assert stored_files(_private_files) == []
    assert not ImportBatch.objects.exists()
