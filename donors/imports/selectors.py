"""Reads for the transfer-import screens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from donors.imports.liveness import is_stale
from donors.imports.models import ImportBatch, ImportRow
from donors.models import Donor

PREVIEW_ROWS = 300


def batch_list() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("created_by", "profile", "undone_by")


# States with a task working on the batch (see donors.imports.liveness).
RUNNING = (
    ImportBatch.Status.PENDING,
    ImportBatch.Status.PARSING,
    ImportBatch.Status.APPLYING,
)


def batch_is_stale(batch: ImportBatch) -> bool:
    """Waiting, reading or applying with no task alive: its page offers Retry
    and Abandon (see :mod:`donors.imports.liveness`)."""
    return is_stale(batch, RUNNING)


def batch_progress(batch: ImportBatch) -> dict[str, Any]:
    stale = batch_is_stale(batch)
    return {
        "status": batch.status,
        "status_display": str(batch.get_status_display()),
        "processed": batch.processed_rows,
        "total": batch.total_rows,
        "percent": batch.percent,
        "stale": stale,
        "done": stale or batch.status not in RUNNING,
        "url": reverse("donor_imports:detail", args=[batch.pk]),
    }


def batch_preview_rows(batch: ImportBatch) -> dict[str, Any]:
    """Every ambiguous row (staff must settle them) and the first rows of the
    rest, with donors loaded in one query."""
    ambiguous = list(
        batch.rows.filter(outcome=ImportRow.Outcome.AMBIGUOUS).order_by("row_number")
    )
    others = list(
        batch.rows.exclude(outcome=ImportRow.Outcome.AMBIGUOUS)
        .select_related("donor")
        .order_by("row_number")[:PREVIEW_ROWS]
    )
    ids = {pk for row in ambiguous for pk in row.candidates}
    donors = Donor.objects.in_bulk(ids)
    for row in ambiguous:
        row.candidate_donors = [donors[pk] for pk in row.candidates if pk in donors]
    return {
        "ambiguous": ambiguous,
        "others": others,
        "others_total": batch.rows.exclude(outcome=ImportRow.Outcome.AMBIGUOUS).count(),
    }
