"""Donor and gift spreadsheets: upload → map columns → dry run → confirm.

- :func:`spreadsheet_upload` stores the file (SHA-256 kept) and suggests a column
  mapping; nothing is imported.
- :func:`spreadsheet_map` saves the mapping; the task then runs
  :func:`spreadsheet_check`, a dry run of every row through the resources (and
  so through ``donor_create`` / ``donor_update`` / ``gift_record``) inside a
  transaction that is rolled back.
- :func:`spreadsheet_queue_apply` (refused while any row has an error) and the
  task's :func:`spreadsheet_apply` import the file for real in ONE transaction:
  a row that fails then rolls everything back, so there is never half an import.

Progress of a running dry run or import is kept in the cache (it cannot live in
the database row: the work runs inside a transaction the polling page cannot see).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donors.imports.errors import BatchError
from donors.imports.liveness import (
    STEP_APPLY,
    STEP_CHECK,
    STEP_READ,
    TRANSIENT,
    beat,
    checkpoint,
    is_stale,
    lock_if_free,
    quiet,
    stale_ids,
    stopped_message,
)
from donors.imports.models import SpreadsheetImport
from donors.imports.readers.xlsx import MAGIC as XLSX_MAGIC
from donors.imports.spreadsheets import (
    RESOURCES,
    Outcome,
    SpreadsheetRefused,
    check_mapping,
    mapped_dataset,
    outcome_of,
    read_sheet,
    suggest_mapping,
)
from kyosei.audit import audit_log
from kyosei.bulk import cyclic_gc_paused
from kyosei.private_files import private_file_save, private_files_deleted_on_error

Status = SpreadsheetImport.Status


def progress_key(pk: int) -> str:
    return f"kyosei:spreadsheet-import:{pk}:processed"


@private_files_deleted_on_error()
@transaction.atomic
def spreadsheet_upload(
    *, upload: UploadedFile, kind: str, user: AbstractBaseUser | None
) -> SpreadsheetImport:
    """Store the uploaded file, to be read by the task (:func:`spreadsheet_read`):
    the request never parses a spreadsheet, whatever it claims to hold.

    Raises :class:`BatchError` for an unknown kind; the file's problems are
    found by the task and shown on the import's page.
    """
    if kind not in SpreadsheetImport.Kind.values:
        raise BatchError(_("Choose donors or gifts."))
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        head = head or chunk[:4]
        digest.update(chunk)
    upload.seek(0)
    record = SpreadsheetImport(
        kind=kind,
        created_by=user,
        file_name=(upload.name or "upload")[:255],
        file_sha256=digest.hexdigest(),
        file_format="xlsx" if head.startswith(XLSX_MAGIC) else "csv",
        status=Status.READING,
        heartbeat_at=timezone.now(),
    )
    private_file_save(record.upload, f"upload.{record.file_format}", upload)
    record.save()
    return record


SAMPLE_ROWS, SAMPLE_CHARS = 3, 200


@cyclic_gc_paused()
def spreadsheet_read(*, record_id: int) -> SpreadsheetImport:
    """Read an uploaded file within the import limits: its headers, a suggested
    column mapping and a few sample rows are kept, and the import goes on to
    the mapping step; a file refused (empty, damaged, over a limit, wrong
    encoding) is kept as refused, with the reason shown on its page."""
    record = SpreadsheetImport.objects.get(pk=record_id)
    if record.status != Status.READING:
        return record
    key = progress_key(record.pk)
    beat(SpreadsheetImport, record.pk)

    def progress(done: int) -> None:
        cache.set(key, done, 3600)
        beat(SpreadsheetImport, record.pk)

    try:
        with record.upload.open("rb") as handle:
            data = handle.read()
        checkpoint("read:opened", record.pk)
        sheet = read_sheet(data, record.file_name, progress=progress)
    except SpreadsheetRefused as exc:
        SpreadsheetImport.objects.filter(pk=record.pk, status=Status.READING).update(
            status=Status.REFUSED, errors=exc.errors, heartbeat_at=timezone.now()
        )
    else:
        sample = [
            ["" if value is None else str(value)[:SAMPLE_CHARS] for value in row]
            for row in sheet.rows[:SAMPLE_ROWS]
        ]
        SpreadsheetImport.objects.filter(pk=record.pk, status=Status.READING).update(
            status=Status.MAPPING,
            file_format=sheet.file_format,
            encoding=sheet.encoding,
            headers=sheet.headers,
            mapping=suggest_mapping(record.kind, sheet.headers),
            sample=sample,
            total_rows=len(sheet.rows),
            errors=[],
            heartbeat_at=timezone.now(),
        )
    record.refresh_from_db()
    return record


@transaction.atomic
def spreadsheet_map(
    *,
    record: SpreadsheetImport,
    mapping: dict[str, str],
    defaults: dict[str, str] | None = None,
) -> SpreadsheetImport:
    """Save the column mapping and mark the import for its dry run.

    Raises :class:`SpreadsheetRefused` for a mapping that names a column the file
    lacks, maps a field twice or leaves out a required field.
    """
    record = SpreadsheetImport.objects.select_for_update().get(pk=record.pk)
    if record.status not in (Status.MAPPING, Status.PREVIEW, Status.INVALID):
        raise BatchError(
            _("This import is %(s)s; its columns can no longer be changed.")
            % {"s": record.get_status_display()}
        )
    mapping = {header: name for header, name in mapping.items() if name}
    check_mapping(record.kind, record.headers, mapping)
    record.mapping = mapping
    record.defaults = {k: v for k, v in (defaults or {}).items() if v}
    record.status = Status.CHECKING
    record.counts, record.rows, record.errors = {}, [], []
    record.heartbeat_at = timezone.now()
    record.save(
        update_fields=[
            "mapping", "defaults", "status", "counts", "rows", "errors",
            "heartbeat_at",
        ]
    )  # fmt: skip
    cache.delete(progress_key(record.pk))
    return record


def _run(
    record: SpreadsheetImport, *, dry_run: bool, user: AbstractBaseUser | None
) -> Outcome:
    with record.upload.open("rb") as handle:
        data = handle.read()
    sheet = read_sheet(data, record.file_name)
    dataset, headers = mapped_dataset(
        record.kind, sheet, record.mapping, record.defaults
    )
    resource = RESOURCES[record.kind](user=user)
    key = progress_key(record.pk)
    resource.progress = lambda done: cache.set(key, done, 3600)
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
    )
    cache.set(key, len(dataset), 3600)
    # A lost connection fails every row from then on: that is no row's fault,
    # and the step is retried rather than reported as the file's errors.
    for problem in result.base_errors + [
        e for _n, errors in result.row_errors() for e in errors
    ]:
        if isinstance(problem.error, TRANSIENT):
            raise problem.error
    return outcome_of(record.kind, result, dataset, headers, resource.duplicates)


def _failed(pk: int, errors: list[dict[str, Any]], counts=None) -> None:
    SpreadsheetImport.objects.filter(pk=pk).update(
        status=Status.INVALID, errors=errors, counts=counts or {}
    )


@cyclic_gc_paused()
def spreadsheet_check(*, record_id: int) -> SpreadsheetImport:
    """The dry run: what a confirm would do, row by row; writes nothing.

    It runs in one transaction holding the import's row lock (so the import
    is seen to be alive while it runs, see :mod:`donors.imports.liveness`);
    the rows' writes are rolled back, the outcome is kept."""
    record = SpreadsheetImport.objects.get(pk=record_id)
    if record.status != Status.CHECKING:
        return record
    try:
        with transaction.atomic():
            record = SpreadsheetImport.objects.select_for_update().get(pk=record_id)
            if record.status != Status.CHECKING:
                return record
            outcome = _run(record, dry_run=True, user=record.created_by)
            checkpoint("check:done", record.pk)
            SpreadsheetImport.objects.filter(pk=record.pk).update(
                status=Status.PREVIEW if outcome.ok else Status.INVALID,
                counts=outcome.counts,
                rows=outcome.rows,
                errors=outcome.errors,
                total_rows=outcome.counts["rows"],
                heartbeat_at=timezone.now(),
            )
    except SpreadsheetRefused as exc:
        _failed(record_id, exc.errors)
    record.refresh_from_db()
    return record


@transaction.atomic
def spreadsheet_queue_apply(*, record: SpreadsheetImport) -> SpreadsheetImport:
    """Mark a clean preview as being applied, so a second click cannot queue it
    twice. Refused while the preview shows any row error."""
    record = SpreadsheetImport.objects.select_for_update().get(pk=record.pk)
    if record.status == Status.INVALID:
        raise BatchError(
            _(
                "The preview found errors; fix them in the file and upload it "
                "again. Nothing was imported."
            )
        )
    if record.status != Status.PREVIEW:
        raise BatchError(
            _("Only a checked preview can be confirmed (this import is %(s)s).")
            % {"s": record.get_status_display()}
        )
    record.status = Status.APPLYING
    record.errors = []
    record.heartbeat_at = timezone.now()
    record.save(update_fields=["status", "errors", "heartbeat_at"])
    cache.delete(progress_key(record.pk))
    return record


@cyclic_gc_paused()
def spreadsheet_apply(*, record_id: int, user_id: int | None) -> SpreadsheetImport:
    """Import every row in one transaction, then record counts and an audit row.

    If any row fails now (the data changed since the preview), the whole import
    is rolled back and the import goes back to "has errors" with the reasons.
    """
    record = SpreadsheetImport.objects.get(pk=record_id)
    if record.status != Status.APPLYING:
        return record
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        with transaction.atomic():
            record = SpreadsheetImport.objects.select_for_update().get(pk=record_id)
            if record.status != Status.APPLYING:
                return record  # applied by another run, or abandoned
            outcome = _run(record, dry_run=False, user=user)
            if not outcome.ok:
                raise SpreadsheetRefused(outcome.errors)
            checkpoint("apply:written", record.pk)
            record.status = Status.APPLIED
            record.counts = outcome.counts
            record.rows = outcome.rows
            record.errors = []
            record.applied_at = timezone.now()
            record.applied_by = user
            record.save()
            audit_log(
                record,
                "donor_imports.spreadsheet.applied",
                user=user,
                data={
                    "kind": record.kind,
                    "file_name": record.file_name,
                    "file_sha256": record.file_sha256,
                    "counts": record.counts,
                },
            )
    except SpreadsheetRefused as exc:
        _failed(record_id, exc.errors, record.counts)
    record.refresh_from_db()
    return record


# --- Ways out: a failed or stopped import is retried or abandoned --------------------

RUNNING = (Status.READING, Status.CHECKING, Status.APPLYING)
STEP_FOR = {
    Status.READING: STEP_READ,
    Status.CHECKING: STEP_CHECK,
    Status.APPLYING: STEP_APPLY,
}


def spreadsheet_stopped(*, record_id: int, step: str, why: str) -> None:
    """Record that ``step`` stopped and why (a key of
    :func:`~donors.imports.liveness.stop_reasons`), leaving the import where
    staff can go on: reading or checking → failed (Retry / Abandon); applying →
    back to the preview (nothing was written: confirm again). Only an import
    still in that step is changed."""
    message = [{"row": 0, "column": "", "message": stopped_message(step, why)}]
    records = SpreadsheetImport.objects.filter(pk=record_id)
    if step == STEP_APPLY:
        records.filter(status=Status.APPLYING).update(
            status=Status.PREVIEW, errors=message
        )
    else:
        status = Status.READING if step == STEP_READ else Status.CHECKING
        records.filter(status=status).update(status=Status.FAILED, errors=message)


def spreadsheet_is_stale(record: SpreadsheetImport) -> bool:
    """Reading, checking or applying with no task alive."""
    return is_stale(record, RUNNING)


@transaction.atomic
def spreadsheet_retry(
    *, record: SpreadsheetImport, user: AbstractBaseUser | None
) -> str:
    """Retry an import whose reading or checking failed or stopped (the caller
    queues the returned step's task after commit: :data:`STEP_READ` or
    :data:`STEP_CHECK`), or whose applying stopped (back to the preview, to be
    confirmed again: ``"preview"``). Audited."""
    record = lock_if_free(SpreadsheetImport, record.pk)
    if record is None:
        raise BatchError(
            _("This import is being worked on right now; wait for it to finish.")
        )
    before = record.status
    if before == Status.FAILED:
        step = STEP_CHECK if record.headers else STEP_READ
    elif before in RUNNING and quiet(record):
        step = STEP_FOR[before]
    else:
        raise BatchError(
            _("Only a failed or stopped import can be retried (this one is %(s)s).")
            % {"s": record.get_status_display()}
        )
    if step == STEP_APPLY:
        record.status = Status.PREVIEW
        record.errors = [
            {"row": 0, "column": "", "message": stopped_message(STEP_APPLY, "stale")}
        ]
        step = "preview"
    else:
        record.status = Status.READING if step == STEP_READ else Status.CHECKING
        record.errors = []
    record.heartbeat_at = timezone.now()
    record.save(update_fields=["status", "errors", "heartbeat_at"])
    cache.delete(progress_key(record.pk))
    audit_log(
        record,
        "donor_imports.spreadsheet.retried",
        user=user,
        data={"from": before, "to": record.status, "file_name": record.file_name},
    )
    return step


ABANDONABLE = (Status.MAPPING, Status.PREVIEW, Status.INVALID, Status.FAILED)


@transaction.atomic
def spreadsheet_abandon(
    *, record: SpreadsheetImport, user: AbstractBaseUser | None
) -> SpreadsheetImport:
    """Give up an import that recorded nothing and is not running (or stopped
    running). Audited."""
    locked = lock_if_free(SpreadsheetImport, record.pk)
    if locked is None:
        raise BatchError(
            _("This import is being worked on right now; wait for it to finish.")
        )
    before = locked.status
    if not (before in ABANDONABLE or (before in RUNNING and quiet(locked))):
        raise BatchError(
            _(
                "Only an import that recorded nothing and is not running can be "
                "abandoned (this one is %(s)s)."
            )
            % {"s": locked.get_status_display()}
        )
    locked.status = Status.ABANDONED
    locked.save(update_fields=["status"])
    audit_log(
        locked,
        "donor_imports.spreadsheet.abandoned",
        user=user,
        data={
            "from": before,
            "file_name": locked.file_name,
            "file_sha256": locked.file_sha256,
        },
    )
    return locked


def spreadsheets_sweep() -> int:
    """Beat: mark imports whose task stopped as stopped, with the reason."""
    swept = 0
    for pk in stale_ids(SpreadsheetImport, RUNNING):
        status = SpreadsheetImport.objects.values_list("status", flat=True).get(pk=pk)
        spreadsheet_stopped(record_id=pk, step=STEP_FOR[status], why="stale")
        swept += 1
    return swept
