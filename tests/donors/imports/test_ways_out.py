"""No import stays stuck: a lost database connection is retried, a step that
cannot finish leaves the import failed with the reason (or back at its
preview), a stalled one is detected, and staff can retry or abandon it —
permission-checked and audited. (The same with the connection really killed
on PostgreSQL: test_killed_connection_postgres.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from donors.imports.errors import BatchError
from donors.imports.models import ImportBatch, SpreadsheetImport
from donors.imports.selectors import batch_is_stale
from donors.imports.services import (
    import_batch_abandon,
    import_batch_create,
    import_batch_queue_apply,
    import_batch_retry,
)
from donors.imports.spreadsheet_services import spreadsheet_upload
from donors.imports.tasks import (
    apply_import_batch,
    stage_import_batch,
    sweep_stale_imports,
    undo_import_batch,
)
from donors.models import Gift
from grants.models import LedgerEntry
from kyosei.audit import audit_entries
from kyosei.roles import Role
from tests.factories.transfers import fixture, transfer_donors
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db
Status = ImportBatch.Status
LONG_AGO = dt.timedelta(hours=2)


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def _batch(name="zengin_01.txt") -> ImportBatch:
    with open(fixture(name), "rb") as handle:
        upload = SimpleUploadedFile(name, handle.read())
    return import_batch_create(upload=upload, format="zengin", user=None)


def _stall(obj, status):
    """As a task that died: in ``status``, no sign of life for two hours."""
    type(obj).objects.filter(pk=obj.pk).update(
        status=status, heartbeat_at=timezone.now() - LONG_AGO
    )
    obj.refresh_from_db()
    return obj


class Flaky:
    """A test checkpoint that fails ``times`` times at ``step`` as a lost
    connection does (the real kill is in the PostgreSQL test)."""

    def __init__(self, step: str, times: int) -> None:
        self.step, self.left, self.hits = step, times, 0

    def __call__(self, step: str, pk: int) -> None:
        if step == self.step:
            self.hits += 1
            if self.left:
                self.left -= 1
                raise OperationalError("server closed the connection unexpectedly")


# -- tasks: transient errors are retried, then reported ---------------------------


def test_reading_retries_a_lost_connection_then_completes():
    transfer_donors()
    batch = _batch()
    flaky = Flaky("stage:written", times=2)
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=flaky):
        stage_import_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert flaky.hits == 3
    assert batch.status == Status.PREVIEW and batch.errors == []
    assert batch.rows.count() == 7  # stored once, not once per attempt


def test_reading_that_keeps_failing_ends_failed_with_the_reason():
    batch = _batch()
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=Flaky("stage:matched", 9)):
        assert stage_import_batch.delay(batch.pk).get() == "stopped"
    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert "database connection was lost" in batch.errors[0]["message"]
    assert not batch.rows.exists()


def _previewed():
    transfer_donors()
    batch = _batch()
    stage_import_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    return batch


def test_applying_retries_a_lost_connection_and_records_each_gift_once():
    batch = _previewed()
    import_batch_queue_apply(batch=batch)
    flaky = Flaky("apply:written", times=1)
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=flaky):
        apply_import_batch.delay(batch.pk, None, {})
    batch.refresh_from_db()
    assert flaky.hits == 2 and batch.status == Status.APPLIED
    assert Gift.objects.count() == LedgerEntry.objects.count() == 5


def test_applying_that_keeps_failing_goes_back_to_the_preview_with_nothing_written():
    batch = _previewed()
    import_batch_queue_apply(batch=batch)
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=Flaky("apply:written", 9)):
        apply_import_batch.delay(batch.pk, None, {})
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    assert "Applying stopped" in batch.errors[0]["message"]
    assert Gift.objects.count() == LedgerEntry.objects.count() == 0
    # ...and can be confirmed again.
    import_batch_queue_apply(batch=batch)
    apply_import_batch.delay(batch.pk, None, {})
    batch.refresh_from_db()
    assert batch.status == Status.APPLIED and batch.errors == []


def test_undo_that_keeps_failing_leaves_the_import_applied_with_the_reason():
    batch = _previewed()
    import_batch_queue_apply(batch=batch)
    apply_import_batch.delay(batch.pk, None, {})
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=Flaky("undo:written", 9)):
        undo_import_batch.delay(batch.pk, None)
    batch.refresh_from_db()
    assert batch.status == Status.APPLIED
    assert "Undoing stopped" in batch.errors[0]["message"]
    assert not Gift.objects.exclude(status=Gift.Status.RECEIVED).exists()
    assert LedgerEntry.objects.count() == 5  # no reversing entry left behind
    undo_import_batch.delay(batch.pk, None)
    batch.refresh_from_db()
    assert batch.status == Status.UNDONE and batch.errors == []


# -- stale imports: detected, swept, retried, abandoned ---------------------------


def test_a_running_batch_with_a_recent_heartbeat_is_not_stale():
    batch = _batch()
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.PARSING)
    batch.refresh_from_db()
    assert not batch_is_stale(batch)
    with pytest.raises(BatchError, match="Only a failed or stopped import"):
        import_batch_retry(batch=batch, user=None)
    with pytest.raises(BatchError, match="not running can be abandoned"):
        import_batch_abandon(batch=batch, user=None)


def test_sweep_marks_stalled_batches_with_the_reason():
    reading = _stall(_batch(), Status.PARSING)
    applying = _stall(_previewed(), Status.APPLYING)
    fresh = _batch()
    spreadsheet = spreadsheet_upload(
        upload=SimpleUploadedFile("s.csv", b"a\r\n1\r\n"), kind="donors", user=None
    )
    _stall(spreadsheet, SpreadsheetImport.Status.CHECKING)
    assert batch_is_stale(reading) and batch_is_stale(applying)

    assert sweep_stale_imports.delay().get() == 3
    for obj in (reading, applying, fresh, spreadsheet):
        obj.refresh_from_db()
    assert reading.status == Status.FAILED
    assert "no sign of life for 15 minutes" in reading.errors[0]["message"]
    assert applying.status == Status.PREVIEW
    assert "Applying stopped" in applying.errors[0]["message"]
    assert fresh.status == Status.PENDING
    assert spreadsheet.status == SpreadsheetImport.Status.FAILED


def test_stalled_batch_page_offers_retry_and_abandon(client):
    batch = _stall(_batch(), Status.PARSING)
    client.force_login(staff_user(Role.FINANCE))
    url = reverse("donor_imports:detail", args=[batch.pk])
    html = client.get(url).content.decode()
    assert "has given no sign of progress" in html
    assert reverse("donor_imports:retry", args=[batch.pk]) in html
    assert reverse("donor_imports:abandon", args=[batch.pk]) in html
    progress = client.get(reverse("donor_imports:progress", args=[batch.pk])).json()
    assert progress["stale"] and progress["done"]  # the page stops polling


def test_staff_retry_reads_a_stalled_batch_again_and_is_audited(
    client, django_capture_on_commit_callbacks
):
    transfer_donors()
    batch = _stall(_batch(), Status.PARSING)
    fundraiser = staff_user(Role.FUNDRAISER)
    client.force_login(fundraiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("donor_imports:retry", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    entry = audit_entries(batch).get(action="donor_imports.batch.retried")
    assert entry.user == fundraiser
    assert entry.data["from"] == Status.PARSING


def test_staff_retry_of_a_stalled_apply_goes_back_to_the_preview(client):
    batch = _stall(_previewed(), Status.APPLYING)
    client.force_login(staff_user(Role.FINANCE))
    client.post(reverse("donor_imports:retry", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEW
    assert "Nothing was recorded" in batch.errors[0]["message"]
    html = client.get(reverse("donor_imports:detail", args=[batch.pk])).content
    assert b"Confirm and record the gifts" in html
    assert Gift.objects.count() == 0


def test_staff_abandon_is_audited_and_final(client):
    batch = _previewed()
    finance = staff_user(Role.FINANCE)
    client.force_login(finance)
    client.post(reverse("donor_imports:abandon", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == Status.ABANDONED
    entry = audit_entries(batch).get(action="donor_imports.batch.abandoned")
    assert entry.user == finance and entry.data["from"] == Status.PREVIEW
    with pytest.raises(BatchError):
        import_batch_queue_apply(batch=batch)
    assert Gift.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.FINANCE, True),
        (Role.FUNDRAISER, True),
        (Role.BOARD, False),
        (Role.CASEWORKER, False),
        (Role.EDITOR, False),
    ],
)
def test_retry_and_abandon_are_permission_checked(client, role, allowed):
    batch = _stall(_batch(), Status.FAILED)
    client.force_login(staff_user(role))
    client.post(reverse("donor_imports:abandon", args=[batch.pk]))
    batch.refresh_from_db()
    assert (batch.status == Status.ABANDONED) is allowed
    assert client.get(reverse("donor_imports:retry", args=[batch.pk])).status_code in (
        302,
        403,
        405,
    )


# -- spreadsheets -------------------------------------------------------------------


def test_spreadsheet_reading_that_keeps_failing_ends_failed_then_retries(
    client, django_capture_on_commit_callbacks
):
    from donors.imports.spreadsheet_tasks import read_spreadsheet

    record = spreadsheet_upload(
        upload=SimpleUploadedFile("s.csv", "姓\r\n山田\r\n".encode()),
        kind="donors",
        user=None,
    )
    with override_settings(KYOSEI_IMPORT_TEST_CHECKPOINT=Flaky("read:opened", 9)):
        read_spreadsheet.delay(record.pk)
    record.refresh_from_db()
    assert record.status == SpreadsheetImport.Status.FAILED
    assert "Reading stopped" in record.errors[0]["message"]

    fundraiser = staff_user(Role.FUNDRAISER)
    client.force_login(fundraiser)
    page = client.get(reverse("donor_imports:spreadsheet_detail", args=[record.pk]))
    assert b"Retry" in page.content and b"Abandon" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donor_imports:spreadsheet_retry", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == SpreadsheetImport.Status.MAPPING
    assert record.headers == ["姓"] and record.sample == [["山田"]]
    entry = audit_entries(record).get(action="donor_imports.spreadsheet.retried")
    assert entry.user == fundraiser

    client.post(reverse("donor_imports:spreadsheet_abandon", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == SpreadsheetImport.Status.ABANDONED
    assert audit_entries(record).filter(
        action="donor_imports.spreadsheet.abandoned", user=fundraiser
    )
