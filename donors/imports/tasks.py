"""Thin Celery tasks for transfer imports (eager in the embedded default).

Each runs one service through :func:`~donors.imports.liveness.run_step`: a lost
database connection is retried, and a step that cannot finish leaves the batch
failed (or back at its preview) with the reason, never stuck.
"""

from __future__ import annotations

from celery import shared_task

from donors.imports.liveness import STEP_APPLY, STEP_READ, STEP_UNDO, run_step
from donors.imports.services import (
    import_batch_apply_queued,
    import_batch_stage,
    import_batch_stopped,
    import_batch_undo_queued,
    import_batches_sweep,
)
from donors.imports.spreadsheet_services import spreadsheets_sweep


def _stopped(batch_id: int, step: str):
    return lambda why: import_batch_stopped(batch_id=batch_id, step=step, why=why)


@shared_task(bind=True, acks_late=True)
def stage_import_batch(self, batch_id: int, language: str | None = None) -> str:
    """Read and match an uploaded batch; the page polls its progress."""
    return run_step(
        self,
        lambda: import_batch_stage(batch_id=batch_id).status,
        _stopped(batch_id, STEP_READ),
        language,
    )


@shared_task(bind=True, acks_late=True)
def apply_import_batch(
    self,
    batch_id: int,
    user_id: int | None,
    choices: dict[str, str],
    language: str | None = None,
) -> str:
    """Apply a confirmed batch (one transaction) outside the request."""
    return run_step(
        self,
        lambda: (
            import_batch_apply_queued(
                batch_id=batch_id, user_id=user_id, choices=choices
            ).status
        ),
        _stopped(batch_id, STEP_APPLY),
        language,
    )


@shared_task(bind=True, acks_late=True)
def undo_import_batch(
    self, batch_id: int, user_id: int | None, language: str | None = None
) -> str:
    """Reverse every gift of an applied batch (one transaction) outside the
    request: 100,000 gifts take about 20 s."""
    return run_step(
        self,
        lambda: import_batch_undo_queued(batch_id=batch_id, user_id=user_id).status,
        _stopped(batch_id, STEP_UNDO),
        language,
    )


@shared_task(name="donor_imports.sweep_stale")
def sweep_stale_imports() -> int:
    """Beat: transfer and spreadsheet imports whose task stopped are marked
    stopped with the reason (their pages offer Retry and Abandon)."""
    return import_batches_sweep() + spreadsheets_sweep()
