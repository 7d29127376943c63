"""Importing transfers: read → match → preview → apply (all or nothing) → undo.

Two ways in, one core:

- :func:`transfer_import` (command line, benchmark): reads, matches and — unless
  ``dry_run`` — applies in one transaction. Ambiguous rows get no gift.
- staff screens: :func:`import_batch_create` stores the upload, the Celery task
  runs :func:`import_batch_stage` (read + match, rows stored for preview, progress
  updated as it goes), staff resolve ambiguous rows, :func:`import_batch_apply`
  applies, :func:`import_batch_undo` reverses.

Idempotency: each gift's ``import_fingerprint`` is the SHA-256 of the bank's
reference fields for the transfer (account, 照会番号, dates, amount, payer), so the
same file or an overlapping statement adds nothing the second time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donors import normalise
from donors.errors import DonorError, GiftError
from donors.imports.errors import BatchError, ImportRefused, RowError
from donors.imports.liveness import (
    STEP_APPLY,
    STEP_READ,
    checkpoint,
    lock_if_free,
    quiet,
    stale_ids,
    stopped_message,
)
from donors.imports.matching import PayerMatcher
from donors.imports.models import ImportBatch, ImportRow, PayerAlias, TransferProfile
from donors.imports.readers import csvfile, zengin
from donors.imports.readers.common import Transfer, read_limited
from donors.imports.selectors import RUNNING
from donors.models import Donor, Gift
from donors.services.donors import donor_build_many, donor_create_many
from donors.services.gifts import (
    GiftItem,
    gift_fingerprints_existing,
    gift_items_check,
    gift_record_many,
    gift_refund_many,
)
from grants.models import Fund
from kyosei.audit import audit_log
from kyosei.bulk import cyclic_gc_paused, ids_in, insert_rows, update_rows
from kyosei.money import Money
from kyosei.private_files import (
    private_file_local_path,
    private_file_save,
    private_files_deleted_on_error,
)

Progress = Callable[[int, int], None]
GIFTED = (ImportRow.Outcome.MATCHED, ImportRow.Outcome.NEW)
CHOICE_NEW = "new"


@dataclass
class ImportResult:
    counts: dict[str, Any]
    batch: ImportBatch | None = None


def empty_counts() -> dict[str, Any]:
    return {
        "rows": 0,
        "gifts_created": 0,
        "duplicates_skipped": 0,
        "matched": 0,
        "ambiguous": 0,
        "new_donors": 0,
        "skipped_not_incoming": 0,
        "errors": [],
    }


def refused_counts(exc: ImportRefused) -> dict[str, Any]:
    counts = empty_counts()
    counts["errors"] = [e.as_dict() for e in exc.errors]
    return counts


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def transfer_read(
    *,
    path: str | os.PathLike,
    format: str,
    profile: TransferProfile | None = None,
    encoding: str = "auto",
    years: str = "wareki",
) -> list[Transfer]:
    """Every statement line of the file, or :class:`ImportRefused`."""
    data = read_limited(path)
    today = timezone.localdate()
    if format == ImportBatch.Format.ZENGIN:
        if encoding not in ("auto", "cp932"):
            raise ImportRefused(
                [RowError(0, _("全銀 files are JIS/Shift_JIS (CP932); choose auto."))]
            )
        transfers = zengin.read(data, years=years, today=today)
    elif format == ImportBatch.Format.CSV:
        if profile is None:
            raise ImportRefused([RowError(0, _("Choose a CSV profile."))])
        transfers = csvfile.read(
            data, profile=profile, encoding=None if encoding == "auto" else encoding
        )
    else:
        raise ImportRefused([RowError(0, _("Unknown format %(f)r.") % {"f": format})])
    future = [
        RowError(
            t.row,
            _("date %(d)s is in the future (wrong era or year format?).")
            % {"d": t.received_on},
        )
        for t in transfers
        if t.incoming and t.received_on and t.received_on > today
    ]
    if future:
        raise ImportRefused(future[:50])
    return transfers


def _method(format: str, profile: TransferProfile | None) -> str:
    if format == ImportBatch.Format.CSV and profile is not None:
        return profile.method
    return Gift.Method.BANK_TRANSFER


@dataclass(slots=True)
class PlannedRow:
    """An :class:`ImportRow` before it is stored (same attribute names), light
    enough to build 100,000 of."""

    row_number: int
    raw: str
    received_on: Any
    amount_yen: int
    payer_name: str
    reference: str
    batch_id: int | None = None
    id: int | None = None
    payer_key: str = ""
    fingerprint: str = ""
    outcome: str = ""
    donor_id: int | None = None
    candidates: list[int] = field(default_factory=list)
    gift_id: int | None = None
    note: str = ""


def _preview(
    transfers: list[Transfer],
    *,
    progress: Progress | None = None,
    batch: ImportBatch | None = None,
) -> list[PlannedRow]:
    """Rows with their outcome, not stored; reads only (the matcher's two
    queries and the fingerprint lookup)."""
    matcher = PayerMatcher()
    existing = gift_fingerprints_existing(
        [t.fingerprint for t in transfers if t.incoming]
    )
    rows: list[PlannedRow] = []
    seen: set[str] = set()
    total = len(transfers)
    known_payer, no_name = _("known payer name"), _("no payer name to match")
    for index, transfer in enumerate(transfers, 1):
        row = PlannedRow(
            batch_id=batch.pk if batch else None,
            row_number=transfer.row,
            raw=transfer.raw,
            received_on=transfer.received_on,
            amount_yen=transfer.amount_yen,
            payer_name=transfer.payer_name[:200],
            reference=transfer.reference[:100],
        )
        if not transfer.incoming:
            row.outcome = ImportRow.Outcome.SKIPPED
            row.note = transfer.skip_reason[:300]
        else:
            row.fingerprint = transfer.fingerprint
            if row.fingerprint in existing or row.fingerprint in seen:
                row.outcome = ImportRow.Outcome.DUPLICATE
                row.payer_key = matcher.match(transfer.payer_name).payer_key[:200]
            else:
                match = matcher.match(transfer.payer_name)
                row.outcome = match.outcome
                row.payer_key = match.payer_key[:200]
                row.donor_id = match.donor_id
                row.candidates = list(match.candidates)
                row.note = known_payer if match.via == "alias" else ""
                if match.outcome == ImportRow.Outcome.AMBIGUOUS and not match.payer_key:
                    row.note = no_name
            seen.add(row.fingerprint)
        rows.append(row)
        if progress is not None and index % 2000 == 0:
            progress(index, total)
    if progress is not None:
        progress(total, total)
    return rows


def _count(rows: list[Any], *, gifts: int, new_donors: int) -> dict[str, Any]:
    counts = empty_counts()
    counts["rows"] = len(rows)
    outcome_key = {
        ImportRow.Outcome.MATCHED: "matched",
        ImportRow.Outcome.AMBIGUOUS: "ambiguous",
        ImportRow.Outcome.SKIPPED: "skipped_not_incoming",
        ImportRow.Outcome.DUPLICATE: "duplicates_skipped",
    }
    new_rows = 0
    for row in rows:
        if row.outcome == ImportRow.Outcome.NEW:
            new_rows += 1
        else:
            counts[outcome_key[row.outcome]] += 1
    counts["gifts_created"] = gifts
    counts["new_donors"] = new_donors
    counts["new_donor_rows"] = new_rows
    return counts


def _new_donor_fields(payer_name: str) -> dict[str, Any]:
    """A donor created from a payer name, as the bank printed it."""
    without_numbers = normalise.payer_display_name(payer_name)
    if normalise.is_latin_name(without_numbers):
        return {"latin_name": without_numbers.title()}
    plain = normalise.strip_corporate_marks(without_numbers)
    if plain.replace(" ", "") != normalise.katakana(without_numbers).replace(" ", ""):
        return {
            "kind": Donor.Kind.ORGANISATION,
            "donor_type": Donor.DonorType.CORPORATION,
            "organisation_name": plain,
            "organisation_name_kana": plain,
        }
    family, _space, given = plain.partition(" ")
    return {"family_name_kana": family, "given_name_kana": given}


def _new_payers(rows: list[Any]) -> dict[str, Any]:
    """The first row of each new payer (payer key → row): one donor each."""
    first_row: dict[str, Any] = {}
    for row in rows:
        if row.outcome == ImportRow.Outcome.NEW and not row.donor_id:
            first_row.setdefault(row.payer_key or row.payer_name, row)
    return first_row


def _donor_fields(first_row: dict[str, Any], label: str) -> list[dict[str, Any]]:
    created_note = _("Created from transfer payer “%(p)s” (%(f)s row %(r)s).")
    return [
        {
            "source": Donor.Source.TRANSFER,
            "needs_review": True,
            "notes": created_note
            % {"p": row.payer_name, "f": label, "r": row.row_number},
            **_new_donor_fields(row.payer_name),
        }
        for row in first_row.values()
    ]


def _gift_items(
    rows: list[Any], *, fund: Fund, method: str, label: str
) -> tuple[list[Any], list[GiftItem]]:
    """The rows that become gifts and their gifts (a new payer's row has no
    donor id until its donor is created)."""
    gifted = [r for r in rows if r.outcome in GIFTED]
    gift_note = _("%(f)s row %(r)s: %(p)s")
    donation = Gift.Kind.DONATION
    yen: dict[int, Money] = {}  # Money is immutable: one per amount
    items = [
        GiftItem(
            donor_id=row.donor_id,
            kind=donation,
            amount=yen.get(row.amount_yen)
            or yen.setdefault(row.amount_yen, Money(row.amount_yen, "JPY")),
            received_on=row.received_on,
            method=method,
            fund=fund,
            import_fingerprint=row.fingerprint,
            notes=gift_note % {"f": label, "r": row.row_number, "p": row.payer_name},
        )
        for row in gifted
    ]
    return gifted, items


def _donor_refused(exc: DonorError, first_row: dict[str, Any]) -> ImportRefused:
    failed = None if exc.index is None else list(first_row.values())[exc.index]
    at = failed.row_number if failed is not None else 0
    return ImportRefused([RowError(at, _("payer name: %(m)s") % {"m": exc})])


def _gift_refused(exc: GiftError, gifted: list[Any]) -> ImportRefused:
    at = gifted[exc.index].row_number if exc.index is not None else 0
    return ImportRefused([RowError(at, str(exc))])


def _label(batch: ImportBatch | None) -> str:
    return _("import #%(id)s") % {"id": batch.pk if batch else "—"}


def _check_plan(
    rows: list[Any], *, fund: Fund, method: str, batch: ImportBatch | None
) -> None:
    """Every rule the apply enforces before writing, writing nothing: the donors
    it would create (``donor_build_many``) and the gifts it would record
    (``gift_items_check``) are validated by the very functions the apply's
    ``donor_create_many`` and ``gift_record_many`` run first. The dry run and
    the staff preview call it, so what they pass the import accepts (barring
    what changes in between: a fund closed, a donor merged)."""
    label = _label(batch)
    first_row = _new_payers(rows)
    try:
        donor_build_many(donors=_donor_fields(first_row, label))
    except DonorError as exc:
        raise _donor_refused(exc, first_row) from None
    gifted, items = _gift_items(rows, fund=fund, method=method, label=label)
    try:
        gift_items_check(items=items)
    except GiftError as exc:
        raise _gift_refused(exc, gifted) from None


def _apply(
    rows: list[Any],
    *,
    user: AbstractBaseUser | None,
    fund: Fund,
    method: str,
    batch: ImportBatch,
) -> tuple[int, int]:
    """Create donors for new payers (one per payer name) and the gifts; returns
    (gifts created, donors created). Runs inside the caller's transaction; the
    services it calls check everything :func:`_check_plan` checks first."""
    label = _label(batch)
    first_row = _new_payers(rows)
    try:
        donors = donor_create_many(user=user, donors=_donor_fields(first_row, label))
    except DonorError as exc:
        raise _donor_refused(exc, first_row) from None
    created_for = {key: donor.pk for key, donor in zip(first_row, donors, strict=True)}
    for row in rows:
        if row.outcome == ImportRow.Outcome.NEW and not row.donor_id:
            row.donor_id = created_for[row.payer_key or row.payer_name]
    gifted, items = _gift_items(rows, fund=fund, method=method, label=label)
    try:
        results = gift_record_many(items=items, audit_on=batch, received_by=user)
    except GiftError as exc:
        raise _gift_refused(exc, gifted) from None
    except IntegrityError:
        raise ImportRefused(
            [
                RowError(
                    0,
                    _(
                        "Another import recorded some of these rows just now; "
                        "run the import again."
                    ),
                )
            ]
        ) from None
    checkpoint("apply:written", batch.pk)
    created = 0
    for row, gift_id in zip(gifted, results, strict=True):
        if gift_id is None:
            row.outcome = ImportRow.Outcome.DUPLICATE
        else:
            row.gift_id = gift_id
            created += 1
    return created, len(created_for)


def _general_fund() -> Fund:
    return Fund.objects.get(code="general")


@cyclic_gc_paused()
def transfer_import(
    *,
    path: str | os.PathLike,
    format: str,
    user: AbstractBaseUser | None,
    profile: TransferProfile | None = None,
    encoding: str = "auto",
    fund: Fund | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
    years: str = "wareki",
    progress: Progress | None = None,
) -> ImportResult:
    """Read, match and (unless ``dry_run``) apply a whole file in one transaction.

    Matched and new-payer rows become gifts (a new payer becomes a donor flagged
    for review); ambiguous rows get no gift and are reported, to be settled on
    the staff screen or after a payer alias is taught. Raises
    :class:`ImportRefused` (nothing written) for a bad file.
    """
    transfers = transfer_read(
        path=path, format=format, profile=profile, encoding=encoding, years=years
    )
    rows = _preview(transfers, progress=progress)
    fund = fund or _general_fund()
    if dry_run:
        # What the real run's services check before writing, checked alike.
        _check_plan(rows, fund=fund, method=_method(format, profile), batch=None)
        gifts = sum(1 for r in rows if r.outcome in GIFTED)
        new_keys = {
            r.payer_key or r.payer_name
            for r in rows
            if r.outcome == ImportRow.Outcome.NEW
        }
        return ImportResult(_count(rows, gifts=gifts, new_donors=len(new_keys)))
    name = file_name or os.path.basename(str(path))
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            created_by=user,
            file_name=name[:255],
            file_sha256=file_sha256(path),
            format=format,
            profile=profile,
            encoding=encoding,
            fund=fund,
            status=ImportBatch.Status.APPLIED,
            total_rows=len(rows),
            processed_rows=len(rows),
            applied_at=timezone.now(),
        )
        gifts, donors = _apply(
            rows,
            user=user,
            fund=fund,
            method=_method(format, profile),
            batch=batch,
        )
        _insert_rows(rows, batch)
        batch.counts = _count(rows, gifts=gifts, new_donors=donors)
        batch.save(update_fields=["counts"])
        audit_log(batch, "donor_imports.batch.applied", user=user, data=_summary(batch))
    return ImportResult(batch.counts, batch)


_ROW_FIELDS = [
    "batch_id", "row_number", "raw", "received_on", "amount_yen", "payer_name",
    "payer_key", "reference", "fingerprint", "outcome", "donor_id", "candidates",
    "gift_id", "note",
]  # fmt: skip


def _insert_rows(rows: list[PlannedRow], batch: ImportBatch) -> None:
    """Store the rows (nothing points at them, so the database numbers them)."""
    for row in rows:
        row.batch_id = batch.pk
    values = attrgetter(*_ROW_FIELDS)
    insert_rows(ImportRow, _ROW_FIELDS, (values(r) for r in rows))


def _summary(batch: ImportBatch) -> dict[str, Any]:
    counts = {k: v for k, v in batch.counts.items() if k != "errors"}
    return {"file": batch.file_name, "sha256": batch.file_sha256, **counts}


# --- Staff screens: upload, stage (task), apply, undo ----------------------------


@private_files_deleted_on_error()
@transaction.atomic
def import_batch_create(
    *,
    upload: UploadedFile,
    format: str,
    user: AbstractBaseUser | None,
    profile: TransferProfile | None = None,
    encoding: str = "auto",
    fund: Fund | None = None,
) -> ImportBatch:
    """Store an uploaded file as a pending batch (the task reads it)."""
    if format == ImportBatch.Format.CSV and profile is None:
        raise BatchError(_("Choose a CSV profile."))
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    batch = ImportBatch(
        created_by=user,
        file_name=(upload.name or "upload")[:255],
        file_sha256=digest.hexdigest(),
        format=format,
        profile=profile,
        encoding=encoding,
        fund=fund or _general_fund(),
        status=ImportBatch.Status.PENDING,
        heartbeat_at=timezone.now(),
    )
    private_file_save(batch.upload, upload.name or "upload", upload)
    batch.save()
    return batch


@cyclic_gc_paused()
def import_batch_stage(*, batch_id: int) -> ImportBatch:
    """Read and match a waiting batch, storing its rows for preview.

    Progress (and the heartbeat) is written as it goes, outside the final
    transaction, so the page polling
    :func:`~donors.imports.selectors.batch_progress` sees it move. The rows and
    the "ready to confirm" status are written in one transaction, under the
    batch's lock, only while the batch is still being read: a retry after a
    lost connection, or a second task for the same batch, reads again and
    stores nothing twice. The preview checks everything the apply will
    (:func:`_check_plan`), so a row the import would refuse is refused here.
    """
    running = (ImportBatch.Status.PENDING, ImportBatch.Status.PARSING)
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status not in running:
        return batch
    ImportBatch.objects.filter(pk=batch.pk, status__in=running).update(
        status=ImportBatch.Status.PARSING, heartbeat_at=timezone.now(), errors=[]
    )

    def progress(done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            processed_rows=done, total_rows=total, heartbeat_at=timezone.now()
        )

    try:
        with private_file_local_path(batch.upload) as path:
            transfers = transfer_read(
                path=path,
                format=batch.format,
                profile=batch.profile,
                encoding=batch.encoding,
            )
        progress(0, len(transfers))
        rows = _preview(transfers, progress=progress, batch=batch)
        fund = batch.fund or _general_fund()
        method = _method(batch.format, batch.profile)
        _check_plan(rows, fund=fund, method=method, batch=batch)
    except ImportRefused as exc:
        ImportBatch.objects.filter(
            pk=batch.pk, status=ImportBatch.Status.PARSING
        ).update(
            status=ImportBatch.Status.REFUSED,
            errors=[e.as_dict() for e in exc.errors],
        )
        batch.refresh_from_db()
        return batch
    checkpoint("stage:matched", batch.pk)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportBatch.Status.PARSING:
            return locked  # stored by another run, or abandoned meanwhile
        _insert_rows(rows, batch)
        checkpoint("stage:written", batch.pk)
        new_keys = {
            r.payer_key or r.payer_name
            for r in rows
            if r.outcome == ImportRow.Outcome.NEW
        }
        counts = _count(
            rows,
            gifts=sum(1 for r in rows if r.outcome in GIFTED),
            new_donors=len(new_keys),
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.PREVIEW,
            counts=counts,
            total_rows=len(rows),
            processed_rows=len(rows),
            heartbeat_at=timezone.now(),
        )
    batch.refresh_from_db()
    return batch


@cyclic_gc_paused()
@transaction.atomic
def import_batch_apply(
    *,
    batch: ImportBatch,
    user: AbstractBaseUser | None,
    choices: dict[int, str] | None = None,
) -> ImportBatch:
    """Apply a previewed batch, all or nothing.

    ``choices`` maps an ambiguous row's id to a candidate donor's id (as text),
    ``"new"`` (create a donor from the payer name) or ``""`` (leave it out: no
    gift; a later import of the same statement can still add it). Picking a
    donor teaches a :class:`PayerAlias`, so the next statement matches at once.
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportBatch.Status.PREVIEW, ImportBatch.Status.APPLYING):
        raise BatchError(
            _("Only a previewed import can be applied (this one is %(s)s).")
            % {"s": batch.get_status_display()}
        )
    # "raw" (the bank's line) is only shown, never needed to apply.
    rows = list(batch.rows.defer("raw"))
    stored = {r.pk: (r.outcome, r.donor_id, r.gift_id, r.note) for r in rows}
    choices = choices or {}
    for row in rows:
        choice = (choices.get(row.pk) or "").strip()
        if row.outcome != ImportRow.Outcome.AMBIGUOUS or not choice:
            continue
        if choice == CHOICE_NEW:
            if not row.payer_key:
                raise BatchError(
                    _("Row %(r)s has no payer name to create a donor from.")
                    % {"r": row.row_number}
                )
            row.outcome = ImportRow.Outcome.NEW
            continue
        if not choice.isdigit() or int(choice) not in row.candidates:
            raise BatchError(
                _("Row %(r)s: donor %(d)s is not one of the candidates.")
                % {"r": row.row_number, "d": choice}
            )
        row.outcome = ImportRow.Outcome.MATCHED
        row.donor_id = int(choice)
        row.note = _("chosen by staff")
        alias_teach(donor_id=row.donor_id, payer_name=row.payer_name, user=user)
    fund = batch.fund or _general_fund()
    gifts, donors = _apply(
        rows,
        user=user,
        fund=fund,
        method=_method(batch.format, batch.profile),
        batch=batch,
    )
    update_rows(
        ImportRow,
        ["outcome", "donor_id", "gift_id", "note"],
        (
            (r.pk, *now)
            for r in rows
            if (now := (r.outcome, r.donor_id, r.gift_id, r.note)) != stored[r.pk]
        ),
    )
    batch.counts = _count(rows, gifts=gifts, new_donors=donors)
    batch.status = ImportBatch.Status.APPLIED
    batch.applied_at = timezone.now()
    batch.errors = []
    batch.save(update_fields=["counts", "status", "applied_at", "errors"])
    audit_log(batch, "donor_imports.batch.applied", user=user, data=_summary(batch))
    return batch


@transaction.atomic
def import_batch_queue_apply(*, batch: ImportBatch) -> ImportBatch:
    """Mark a previewed batch as being applied (the task then applies it), so a
    second click cannot queue it twice and the page shows it is working."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEW:
        raise BatchError(
            _("Only a previewed import can be applied (this one is %(s)s).")
            % {"s": batch.get_status_display()}
        )
    batch.status = ImportBatch.Status.APPLYING
    batch.errors = []
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "errors", "heartbeat_at"])
    return batch


def import_batch_apply_queued(
    *, batch_id: int, user_id: int | None, choices: dict[str, str]
) -> ImportBatch:
    """What the apply task runs: apply, or on a refusal put the batch back to
    preview with the reason shown on its page (nothing was written)."""
    from django.contrib.auth import get_user_model

    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportBatch.Status.APPLYING:
        return batch  # abandoned, sent back to the preview, or applied already
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return import_batch_apply(
            batch=batch,
            user=user,
            choices={int(k): v for k, v in choices.items() if str(k).isdigit()},
        )
    except (BatchError, ImportRefused) as exc:
        errors = (
            [e.as_dict() for e in exc.errors]
            if isinstance(exc, ImportRefused)
            else [{"row": 0, "message": str(exc)}]
        )
        ImportBatch.objects.filter(
            pk=batch_id, status=ImportBatch.Status.APPLYING
        ).update(status=ImportBatch.Status.PREVIEW, errors=errors)
        batch.refresh_from_db()
        return batch


def import_batch_undo_queued(*, batch_id: int, user_id: int | None) -> ImportBatch:
    """What the undo task runs. A batch no longer applied (undone twice by a
    double click) is left as it is."""
    from django.contrib.auth import get_user_model

    batch = ImportBatch.objects.get(pk=batch_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return import_batch_undo(batch=batch, user=user)
    except BatchError as exc:
        ImportBatch.objects.filter(
            pk=batch_id, status=ImportBatch.Status.APPLIED
        ).update(errors=[{"row": 0, "message": str(exc)}])
        batch.refresh_from_db()
        return batch


@transaction.atomic
def alias_teach(
    *, donor_id: int, payer_name: str, user: AbstractBaseUser | None
) -> PayerAlias | None:
    """Remember that ``payer_name`` (as a bank prints it) is this donor."""
    key = normalise.payer_kana_key(payer_name)[:200]
    if not key:
        return None
    alias, created = PayerAlias.objects.get_or_create(
        payer_key=key,
        defaults={
            "donor_id": donor_id,
            "payer_name": payer_name[:200],
            "created_by": user,
        },
    )
    if created:
        audit_log(
            alias,
            "donor_imports.alias.created",
            user=user,
            data={"donor": donor_id, "payer_name": payer_name},
        )
    return alias


@cyclic_gc_paused()
@transaction.atomic
def import_batch_undo(
    *, batch: ImportBatch, user: AbstractBaseUser | None
) -> ImportBatch:
    """Reverse every gift of an applied batch — by refund entries, never deletes.

    Each gift is refunded in full through ``gift_refund_many`` (reason "import
    undone"), which posts the reversing ledger entries in bulk. The gifts'
    import fingerprints are then released, so the corrected statement can be
    imported again; the rows keep them. Donors created by the import stay
    (flagged for review).
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.APPLIED:
        raise BatchError(
            _("Only an applied import can be undone (this one is %(s)s).")
            % {"s": batch.get_status_display()}
        )
    gift_ids = list(
        batch.rows.filter(gift__isnull=False)
        .order_by("gift_id")
        .values_list("gift_id", flat=True)
    )
    try:
        reversed_count = gift_refund_many(
            gift_ids=gift_ids,
            reason="import undone",
            audit_on=batch,
            user=user,
            release_import_fingerprints=True,
        )
    except GiftError as exc:
        raise BatchError(str(exc)) from None
    checkpoint("undo:written", batch.pk)
    # Gifts refunded before the undo (so not refunded again) are released too.
    Gift.objects.filter(
        pk__in=ids_in(gift_ids), import_fingerprint__isnull=False
    ).update(import_fingerprint=None)
    batch.status = ImportBatch.Status.UNDONE
    batch.undone_at = timezone.now()
    batch.undone_by = user
    batch.errors = []
    batch.save(update_fields=["status", "undone_at", "undone_by", "errors"])
    audit_log(
        batch,
        "donor_imports.batch.undone",
        user=user,
        data={"gifts_reversed": reversed_count, "sha256": batch.file_sha256},
    )
    return batch


# --- Ways out: a failed or stopped batch is retried or abandoned ---------------------


def import_batch_stopped(*, batch_id: int, step: str, why: str) -> None:
    """Record that ``step`` of a batch stopped and why (``why``: a key of
    :func:`~donors.imports.liveness.stop_reasons`), leaving it where staff can
    go on: reading → failed (Retry / Abandon); applying → back to the preview
    (nothing was written: confirm again); undoing → still applied (undo again).
    Only a batch still in that step is changed. Autocommit: called after the
    step's transaction rolled back."""
    message = [{"row": 0, "message": stopped_message(step, why)}]
    batches = ImportBatch.objects.filter(pk=batch_id)
    if step == STEP_READ:
        batches.filter(
            status__in=(ImportBatch.Status.PENDING, ImportBatch.Status.PARSING)
        ).update(status=ImportBatch.Status.FAILED, errors=message)
    elif step == STEP_APPLY:
        batches.filter(status=ImportBatch.Status.APPLYING).update(
            status=ImportBatch.Status.PREVIEW, errors=message
        )
    else:
        batches.filter(status=ImportBatch.Status.APPLIED).update(errors=message)


def _locked_for_staff(batch: ImportBatch) -> ImportBatch:
    locked = lock_if_free(ImportBatch, batch.pk)
    if locked is None:
        raise BatchError(
            _("This import is being worked on right now; wait for it to finish.")
        )
    return locked


@transaction.atomic
def import_batch_retry(*, batch: ImportBatch, user: AbstractBaseUser | None) -> str:
    """Retry a batch whose reading failed or stopped (it is read again: the
    caller queues the staging task after commit) or whose applying stopped (it
    goes back to the preview, to be confirmed again: nothing was written).
    Returns the step to run: :data:`STEP_READ` or ``"preview"``. Audited."""
    batch = _locked_for_staff(batch)
    before = batch.status
    reading = before in (ImportBatch.Status.PENDING, ImportBatch.Status.PARSING)
    if before == ImportBatch.Status.FAILED or (reading and quiet(batch)):
        batch.status = ImportBatch.Status.PENDING
        batch.errors = []
        batch.processed_rows = 0
        step = STEP_READ
    elif before == ImportBatch.Status.APPLYING and quiet(batch):
        batch.status = ImportBatch.Status.PREVIEW
        batch.errors = [{"row": 0, "message": stopped_message(STEP_APPLY, "stale")}]
        step = "preview"
    else:
        raise BatchError(
            _("Only a failed or stopped import can be retried (this one is %(s)s).")
            % {"s": batch.get_status_display()}
        )
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "errors", "processed_rows", "heartbeat_at"])
    audit_log(
        batch,
        "donor_imports.batch.retried",
        user=user,
        data={"from": before, "to": batch.status, "file": batch.file_name},
    )
    return step


@transaction.atomic
def import_batch_abandon(
    *, batch: ImportBatch, user: AbstractBaseUser | None
) -> ImportBatch:
    """Give up a batch that recorded nothing: ready to confirm, failed, or
    stopped while waiting, reading or applying. Its rows stay as a record;
    no gift was made from them. Audited."""
    batch = _locked_for_staff(batch)
    before = batch.status
    allowed = before in (ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED) or (
        before in RUNNING and quiet(batch)
    )
    if not allowed:
        raise BatchError(
            _(
                "Only an import that recorded nothing and is not running can be "
                "abandoned (this one is %(s)s)."
            )
            % {"s": batch.get_status_display()}
        )
    batch.status = ImportBatch.Status.ABANDONED
    batch.save(update_fields=["status"])
    audit_log(
        batch,
        "donor_imports.batch.abandoned",
        user=user,
        data={"from": before, "file": batch.file_name, "sha256": batch.file_sha256},
    )
    return batch


def import_batches_sweep() -> int:
    """Beat: mark batches whose task stopped (see
    :func:`~donors.imports.selectors.batch_is_stale`) as stopped, with the
    reason; returns how many."""
    swept = 0
    for pk in stale_ids(ImportBatch, RUNNING):
        status = ImportBatch.objects.values_list("status", flat=True).get(pk=pk)
        step = STEP_APPLY if status == ImportBatch.Status.APPLYING else STEP_READ
        import_batch_stopped(batch_id=pk, step=step, why="stale")
        swept += 1
    return swept
