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
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donors.imports.errors import BatchError
from donors.imports.models import SpreadsheetImport
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
def spreadsheet_upload(
    *, upload: UploadedFile, kind: str, user: AbstractBaseUser | None
) -> SpreadsheetImport:
    """Read the file's headers and store it for mapping.

    Raises :class:`SpreadsheetRefused` (nothing stored) for an empty, oversized,
    unreadable or wrongly encoded file.
    """
    if kind not in SpreadsheetImport.Kind.values:
        raise BatchError(_("Choose donors or gifts."))
    data = upload.read()
    sheet = read_sheet(data, upload.name or "")
    record = SpreadsheetImport(
        kind=kind,
        created_by=user,
        file_name=(upload.name or "upload")[:255],
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        headers=sheet.headers,
        mapping=suggest_mapping(kind, sheet.headers),
        total_rows=len(sheet.rows),
    )
    private_file_save(record.upload, f"upload.{sheet.file_format}", ContentFile(data))
    record.save()
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
    record.save(
        update_fields=["mapping", "defaults", "status", "counts", "rows", "errors"]
    )
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
    return outcome_of(record.kind, result, dataset, headers, resource.duplicates)


def _failed(pk: int, errors: list[dict[str, Any]], counts=None) -> None:
    SpreadsheetImport.objects.filter(pk=pk).update(
        status=Status.INVALID, errors=errors, counts=counts or {}
    )


@cyclic_gc_paused()
def spreadsheet_check(*, record_id: int) -> SpreadsheetImport:
    """The dry run: what a confirm would do, row by row; writes nothing."""
    record = SpreadsheetImport.objects.get(pk=record_id)
    if record.status != Status.CHECKING:
        return record
    try:
        outcome = _run(record, dry_run=True, user=record.created_by)
    except SpreadsheetRefused as exc:
        _failed(record.pk, exc.errors)
    except Exception:
        # Never leave the page polling an import that will not move.
        _failed(record.pk, _generic_failure())
        raise
    else:
        SpreadsheetImport.objects.filter(pk=record.pk).update(
            status=Status.PREVIEW if outcome.ok else Status.INVALID,
            counts=outcome.counts,
            rows=outcome.rows,
            errors=outcome.errors,
            total_rows=outcome.counts["rows"],
        )
    record.refresh_from_db()
    return record


def _generic_failure() -> list[dict[str, Any]]:
    """The error shown when something unexpected broke (in the active language)."""
    message = _("The import failed unexpectedly; nothing was written. See the logs.")
    return [{"row": 0, "column": "", "message": message}]


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
    record.save(update_fields=["status"])
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
            outcome = _run(record, dry_run=False, user=user)
            if not outcome.ok:
                raise SpreadsheetRefused(outcome.errors)
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
    except Exception:
        _failed(record_id, _generic_failure())
        raise
    record.refresh_from_db()
    return record
