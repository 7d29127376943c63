"""Thin Celery tasks for spreadsheet imports (eager in the embedded default);
see ``tasks.py`` for how a lost connection or a crash is handled."""

from __future__ import annotations

from celery import shared_task

from donors.imports.liveness import STEP_APPLY, STEP_CHECK, STEP_READ, run_step
from donors.imports.spreadsheet_services import (
    spreadsheet_apply,
    spreadsheet_check,
    spreadsheet_read,
    spreadsheet_stopped,
)


def _stopped(record_id: int, step: str):
    return lambda why: spreadsheet_stopped(record_id=record_id, step=step, why=why)


@shared_task(bind=True, acks_late=True)
def read_spreadsheet(self, record_id: int, language: str | None = None) -> str:
    """Read an uploaded file within the limits, for the column-mapping step."""
    return run_step(
        self,
        lambda: spreadsheet_read(record_id=record_id).status,
        _stopped(record_id, STEP_READ),
        language,
    )


@shared_task(bind=True, acks_late=True)
def check_spreadsheet(self, record_id: int, language: str | None = None) -> str:
    """The dry run behind the preview; the page polls its progress."""
    return run_step(
        self,
        lambda: spreadsheet_check(record_id=record_id).status,
        _stopped(record_id, STEP_CHECK),
        language,
    )


@shared_task(bind=True, acks_late=True)
def apply_spreadsheet(
    self, record_id: int, user_id: int | None, language: str | None = None
) -> str:
    """Apply a confirmed spreadsheet (one transaction) outside the request."""
    return run_step(
        self,
        lambda: spreadsheet_apply(record_id=record_id, user_id=user_id).status,
        _stopped(record_id, STEP_APPLY),
        language,
    )
