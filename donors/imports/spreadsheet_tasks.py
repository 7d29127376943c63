"""Thin Celery tasks for spreadsheet imports (eager in the embedded default)."""

from __future__ import annotations

from celery import shared_task

from donors.imports.spreadsheet_services import spreadsheet_apply, spreadsheet_check


@shared_task(acks_late=True)
def check_spreadsheet(record_id: int) -> str:
    """The dry run behind the preview; the page polls its progress."""
    return spreadsheet_check(record_id=record_id).status


@shared_task(acks_late=True)
def apply_spreadsheet(record_id: int, user_id: int | None) -> str:
    """Apply a confirmed spreadsheet (one transaction) outside the request."""
    return spreadsheet_apply(record_id=record_id, user_id=user_id).status
