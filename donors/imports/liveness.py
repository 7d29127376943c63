"""No import stays stuck: heartbeats, stale detection and transient errors.

A transfer batch or spreadsheet import that is waiting, reading, checking or
applying has a task working on it. The task writes a heartbeat
(``heartbeat_at``) when it is queued and as it makes progress; one that holds
the import's row lock (applying and undoing run in one transaction, which
cannot publish a heartbeat) is alive while the lock is held. An import in a
running state with neither — no heartbeat for ``KYOSEI_IMPORT_LEASE_SECONDS``
and its row not locked — has lost its task (worker killed, database connection
dropped, message lost): :func:`is_stale` says so, its page offers Retry and
Abandon, and the beat task ``donor_imports.sweep_stale`` marks it failed with
the reason.

Tasks retry on a transient database error (:data:`TRANSIENT`) after closing the
broken connection, a few times with backoff, then mark the import failed with
the reason (:func:`run_step`). Every step that writes does so in one
transaction, so a killed step leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
RETRIES = 3
# The steps a task runs; a stopped one is reported with one of these.
STEP_READ, STEP_CHECK, STEP_APPLY, STEP_UNDO = "read", "check", "apply", "undo"


def lease() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(getattr(settings, "KYOSEI_IMPORT_LEASE_SECONDS", 900))
    )


def beat(model: type[models.Model], pk: int) -> None:
    """Record a sign of life of the task working on ``model`` ``pk``
    (autocommit: call it outside the step's transaction)."""
    model.objects.filter(pk=pk).update(heartbeat_at=timezone.now())


def quiet(obj: models.Model) -> bool:
    """No heartbeat from ``obj``'s task within the lease (nor since it was
    created, for one that never beat)."""
    last = obj.heartbeat_at or obj.created_at
    return last is not None and timezone.now() - last >= lease()


def is_stale(obj: models.Model, running: tuple[str, ...]) -> bool:
    """Whether ``obj`` shows a running state nobody is working on: no heartbeat
    within the lease and, on PostgreSQL, its row not locked by a transaction
    applying, checking or undoing it."""
    return obj.status in running and quiet(obj) and not _locked(type(obj), obj.pk)


def _locked(model: type[models.Model], pk: int) -> bool:
    with transaction.atomic():
        return lock_if_free(model, pk) is None


def lock_if_free(model: type[models.Model], pk: int) -> models.Model | None:
    """``model`` ``pk`` locked for this transaction, or None if another
    transaction holds its lock (a task applying, checking or undoing it).
    SQLite has no row locks (one writer; eager tasks finish in-process)."""
    return model.objects.select_for_update(skip_locked=True).filter(pk=pk).first()


def stale_ids(model: type[models.Model], running: tuple[str, ...]) -> list[int]:
    """Ids of ``model`` rows stale as :func:`is_stale` says (for the sweep)."""
    cutoff = timezone.now() - lease()
    candidates = model.objects.filter(status__in=running).filter(
        models.Q(heartbeat_at__lt=cutoff)
        | models.Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    return [obj.pk for obj in candidates if is_stale(obj, running)]


def reset_broken_connection() -> None:
    """After a transient error, drop the connection if it no longer works, so
    the next query (the retry, or marking the import failed) opens a new one.
    Never inside a transaction: the caller's block owns that connection."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def checkpoint(step: str, pk: int) -> None:
    """A named point of a step, where the tests' hook
    (``KYOSEI_IMPORT_TEST_CHECKPOINT``, a callable of step and id, unset in
    production) can act, e.g. kill the database connection from another
    thread to prove the step leaves nothing half-done."""
    hook = getattr(settings, "KYOSEI_IMPORT_TEST_CHECKPOINT", None)
    if hook is not None:
        hook(step, pk)


def stop_reasons() -> dict[str, str]:
    """Why a task stopped, in words (the active language when it is written)."""
    return {
        "connection": _("the database connection was lost and did not come back"),
        "error": _("an unexpected error (the logs have the details)"),
        "stale": _(
            "its task stopped (the worker or the database connection was lost) "
            "and gave no sign of life for %(min)s minutes"
        )
        % {"min": int(lease().total_seconds() // 60)},
    }


def stopped_message(step: str, why: str) -> str:
    """What staff read on the import's page when ``step`` stopped for ``why``
    (a key of :func:`stop_reasons`): what happened and the way on."""
    texts = {
        STEP_READ: _(
            "Reading stopped: %(why)s. Nothing was recorded; retry, or abandon "
            "the import."
        ),
        STEP_CHECK: _(
            "Checking stopped: %(why)s. Nothing was recorded; retry, or abandon "
            "the import."
        ),
        STEP_APPLY: _(
            "Applying stopped: %(why)s. Nothing was recorded; confirm the import "
            "again, or abandon it."
        ),
        STEP_UNDO: _("Undoing stopped: %(why)s. Nothing was reversed; undo it again."),
    }
    return texts[step] % {"why": stop_reasons()[why]}


def run_step(
    task: Any,
    work: Callable[[], str],
    stopped: Callable[[str], None],
    language: str | None = None,
) -> str:
    """Run a task's step (``work``). A transient database error closes the
    broken connection and retries the step — on a worker by retrying the task
    (5 s, 20 s, 80 s later, freeing the worker meanwhile), with eager tasks at
    once in-process — up to :data:`RETRIES` times, then calls
    ``stopped("connection")``; any other error calls ``stopped("error")`` and
    is raised (logged by Celery). ``stopped`` records the reason on the
    import: every way ends in a state staff can act on. If even that write
    fails, the sweep finds the import later.

    ``language`` is that of the staff member who started the step: the reasons
    a file is refused are stored as text, in their language, not in the
    worker's default (kept when ``None``)."""
    if language is None:
        return _run_step(task, work, stopped)
    with translation.override(language):
        return _run_step(task, work, stopped)


def _run_step(
    task: Any, work: Callable[[], str], stopped: Callable[[str], None]
) -> str:
    attempt = task.request.retries or 0
    while True:
        try:
            return work()
        except TRANSIENT as exc:
            reset_broken_connection()
            if attempt >= RETRIES:
                logger.warning(
                    "%s: database connection lost %s times", task.name, attempt + 1
                )
                _record_stop(stopped, "connection")
                return "stopped"
            if not task.request.is_eager:
                raise task.retry(exc=exc, countdown=5 * 4**attempt) from exc
            attempt += 1
        except Exception:
            reset_broken_connection()
            _record_stop(stopped, "error")
            raise


def _record_stop(stopped: Callable[[str], None], why: str) -> None:
    try:
        stopped(why)
    except TRANSIENT:
        reset_broken_connection()
        logger.warning(
            "Could not record why an import stopped (%s); the sweep will", why
        )
