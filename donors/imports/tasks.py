"""Thin Celery tasks for transfer imports (eager in the embedded default)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from donors.imports.services import (
    import_batch_apply_queued,
    import_batch_stage,
    import_batch_undo_queued,
)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def stage_import_batch(batch_id: int) -> str:
    """Read and match an uploaded batch; the page polls its progress."""
    return import_batch_stage(batch_id=batch_id).status


@shared_task(acks_late=True)
def apply_import_batch(
    batch_id: int, user_id: int | None, choices: dict[str, str]
) -> str:
    """Apply a confirmed batch (one transaction) outside the request."""
    return import_batch_apply_queued(
        batch_id=batch_id, user_id=user_id, choices=choices
    ).status


@shared_task(acks_late=True)
def undo_import_batch(batch_id: int, user_id: int | None) -> str:
    """Reverse every gift of an applied batch (one transaction) outside the
    request: 100,000 gifts take about 20 s."""
    return import_batch_undo_queued(batch_id=batch_id, user_id=user_id).status
