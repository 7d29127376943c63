"""The database connection killed (``pg_terminate_backend`` from another
connection, in a thread) at each step of an admin import: reading, storing the
preview, applying, undoing; and of a spreadsheet import: reading, the dry run,
applying. Killed once, the step completes on its retry; killed every time, the
import ends failed with the reason (or back at its preview, or still applied),
never stuck — and a killed apply leaves no gift, ledger entry or donor behind.

The kill happens at the services' named checkpoints, through the test-only
setting ``KYOSEI_IMPORT_TEST_CHECKPOINT``.
"""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import override_settings

from donors.imports.models import ImportBatch, ImportRow, SpreadsheetImport
from donors.imports.services import import_batch_create, import_batch_queue_apply
from donors.imports.spreadsheet_services import (
    spreadsheet_map,
    spreadsheet_queue_apply,
    spreadsheet_upload,
)
from donors.imports.spreadsheet_tasks import (
    apply_spreadsheet,
    check_spreadsheet,
    read_spreadsheet,
)
from donors.imports.tasks import (
    apply_import_batch,
    stage_import_batch,
    undo_import_batch,
)
from donors.models import Donor, Gift, GiftRefund
from grants.models import LedgerEntry
from tests.factories.donors import DonorFactory, general_fund
from tests.factories.transfers import fixture, transfer_donors

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = ImportBatch.Status


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


class Killer:
    """At checkpoint ``step``, terminate this thread's database backend from
    another connection (``times`` times), as a network cut or a database
    restart would."""

    def __init__(self, step: str, times: int = 1) -> None:
        self.step, self.left, self.kills = step, times, 0

    def __call__(self, step: str, pk: int) -> None:
        if step != self.step or not self.left:
            return
        self.left -= 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        done: list[bool] = []

        def kill() -> None:
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    done.append(cursor.fetchone()[0])
            finally:
                connections["default"].close()

        thread = threading.Thread(target=kill)
        thread.start()
        thread.join()
        assert done == [True]
        self.kills += 1


def _batch() -> ImportBatch:
    with open(fixture("zengin_01.txt"), "rb") as handle:
        upload = SimpleUploadedFile("zengin_01.txt", handle.read())
    return import_batch_create(upload=upload, format="zengin", user=None)


def _money():
    return (
        Gift.objects.count(),
        LedgerEntry.objects.count(),
        GiftRefund.objects.count(),
        Donor.objects.count(),
    )


@pytest.mark.parametrize("step", ["stage:matched", "stage:written"])
def test_reading_killed_once_completes_on_retry(step):
    transfer_donors()
    batch = _batch()
    killer = Killer(step)
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        stage_import_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert killer.kills == 1
    assert batch.status == Status.PREVIEW and batch.percent == 100
    assert ImportRow.objects.filter(batch=batch).count() == 7


@pytest.mark.parametrize("step", ["stage:matched", "stage:written"])
def test_reading_killed_every_time_ends_failed_with_the_reason(step):
    batch = _batch()
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=Killer(step, times=99)):
        stage_import_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert "database connection was lost" in batch.errors[0]["message"]
    assert not ImportRow.objects.filter(batch=batch).exists()


def _previewed() -> ImportBatch:
    transfer_donors()
    general_fund()
    batch = _batch()
    stage_import_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    return batch


def test_apply_killed_once_completes_on_retry_with_each_gift_once():
    batch = _previewed()
    before = _money()
    import_batch_queue_apply(batch=batch)
    killer = Killer("apply:written")
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        apply_import_batch.delay(batch.pk, None, {})
    batch.refresh_from_db()
    assert killer.kills == 1 and batch.status == Status.APPLIED
    gifts, entries, _refunds, donors = _money()
    assert (gifts - before[0], entries - before[1], donors - before[3]) == (5, 5, 1)


def test_apply_killed_every_time_leaves_no_money_and_the_preview_again():
    batch = _previewed()
    before = _money()
    import_batch_queue_apply(batch=batch)
    with override_settings(
        KYOSEI_IMPORT_TEST_CHECKPOINT=Killer("apply:written", times=99)
    ):
        apply_import_batch.delay(batch.pk, None, {})
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    assert "Applying stopped" in batch.errors[0]["message"]
    assert _money() == before  # no gift, ledger entry or donor from the kill


def test_undo_killed_once_completes_on_retry_and_every_time_reverses_nothing():
    batch = _previewed()
    import_batch_queue_apply(batch=batch)
    apply_import_batch.delay(batch.pk, None, {})
    applied = _money()

    with override_settings(
        KYOSEI_IMPORT_TEST_CHECKPOINT=Killer("undo:written", times=99)
    ):
        undo_import_batch.delay(batch.pk, None)
    batch.refresh_from_db()
    assert batch.status == Status.APPLIED
    assert "Undoing stopped" in batch.errors[0]["message"]
    assert _money() == applied  # no refund or reversing entry left behind

    killer = Killer("undo:written")
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        undo_import_batch.delay(batch.pk, None)
    batch.refresh_from_db()
    assert killer.kills == 1 and batch.status == Status.UNDONE
    gifts, entries, refunds, _donors = _money()
    assert (entries - applied[1], refunds - applied[2]) == (5, 5)


# -- spreadsheets -------------------------------------------------------------------


def _gift_sheet() -> SpreadsheetImport:
    general_fund()
    donor = DonorFactory()
    text = "寄附者ID,金額,受領日\r\n" + "".join(
        f"{donor.pk},{1000 + n},2025-04-{n + 1:02d}\r\n" for n in range(3)
    )
    return spreadsheet_upload(
        upload=SimpleUploadedFile("gifts.csv", text.encode()), kind="gifts", user=None
    )


def _map(record: SpreadsheetImport) -> SpreadsheetImport:
    return spreadsheet_map(
        record=record,
        mapping=record.mapping,
        defaults={"kind": "donation", "method": "cash", "fund": "general"},
    )


def test_spreadsheet_read_and_check_killed_once_complete_on_retry():
    record = _gift_sheet()
    killer = Killer("read:opened")
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        read_spreadsheet.delay(record.pk)
    record.refresh_from_db()
    assert killer.kills == 1 and record.status == SpreadsheetImport.Status.MAPPING

    _map(record)
    killer = Killer("check:done")
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        check_spreadsheet.delay(record.pk)
    record.refresh_from_db()
    assert killer.kills == 1
    assert record.status == SpreadsheetImport.Status.PREVIEW, record.errors
    assert record.counts["new"] == 3 and Gift.objects.count() == 0


def test_spreadsheet_apply_killed_leaves_no_money_then_completes():
    record = _gift_sheet()
    read_spreadsheet.delay(record.pk)
    record.refresh_from_db()
    _map(record)
    check_spreadsheet.delay(record.pk)
    record.refresh_from_db()
    before = _money()

    spreadsheet_queue_apply(record=record)
    with override_settings(
        KYOSEI_IMPORT_TEST_CHECKPOINT=Killer("apply:written", times=99)
    ):
        apply_spreadsheet.delay(record.pk, None)
    record.refresh_from_db()
    assert record.status == SpreadsheetImport.Status.PREVIEW
    assert "Applying stopped" in record.errors[0]["message"]
    assert _money() == before

    spreadsheet_queue_apply(record=record)
    killer = Killer("apply:written")
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=killer):
        apply_spreadsheet.delay(record.pk, None)
    record.refresh_from_db()
    assert killer.kills == 1 and record.status == SpreadsheetImport.Status.APPLIED
    assert Gift.objects.count() - before[0] == 3
    assert LedgerEntry.objects.count() - before[1] == 3
