"""Audit trail: one call, written in the caller's transaction.

``audit_log`` records on Wagtail's log entries (``ModelLogEntry``), so staff see
the history in the admin's reports and on each object. Actions must be registered
(with a label) through the ``register_log_actions`` hook in an app's
``wagtail_hooks.py``; :data:`AUDIT_ACTIONS` holds the core's own. An unknown action
is a programming error and raises, so a typo never writes an unlabelled row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import get_active_log_context, registry
from wagtail.models import ModelLogEntry

AUDIT_ACTIONS: dict[str, Any] = {
    "kyosei.demo.seeded": _("Demo data seeded"),
    "kyosei.roles.changed": _("Roles changed"),
}


class UnknownAuditAction(LookupError):
    pass


def audit_log(
    obj: models.Model,
    action: str,
    *,
    user: AbstractBaseUser | None,
    data: dict[str, Any] | None = None,
) -> ModelLogEntry:
    """Record ``action`` on ``obj`` by ``user`` (None for the system).

    Call it inside the same ``transaction.atomic`` block as the change it
    describes, so the change and its record commit or roll back together.
    ``data`` must be JSON-serialisable (dates and Decimals are encoded).
    """
    if not registry.action_exists(action):
        raise UnknownAuditAction(
            f"Audit action {action!r} is not registered (register_log_actions hook)."
        )
    entry = registry.log(obj, action, user=user, data=data or {})
    if entry is None:  # no log model for this type: never silently drop
        raise UnknownAuditAction(f"No audit log model for {type(obj).__name__}.")
    return entry


def audit_log_many(
    objs: Sequence[models.Model],
    action: str,
    *,
    user: AbstractBaseUser | None,
    data: Callable[[models.Model], dict[str, Any]] | None = None,
) -> int:
    """Record ``action`` on each of ``objs`` (one model, saved) in one insert.

    The same rows :func:`audit_log` writes one by one (label, content type, the
    active log context's uuid), for services that create many records at once,
    such as the donors a transfer import creates for new payers. ``data(obj)``
    gives each row's data. Returns the number of rows written.
    """
    if not objs:
        return 0
    if not registry.action_exists(action):
        raise UnknownAuditAction(
            f"Audit action {action!r} is not registered (register_log_actions hook)."
        )
    model = registry.get_log_model_for_instance(objs[0])
    if model is not ModelLogEntry:
        raise UnknownAuditAction(
            f"audit_log_many writes model log entries, not {type(objs[0]).__name__}."
        )
    context = get_active_log_context()
    content_type = ContentType.objects.get_for_model(objs[0], for_concrete_model=False)
    now = timezone.now()
    entries = [
        ModelLogEntry(
            content_type=content_type,
            object_id=str(obj.pk),
            label=ModelLogEntry.objects.get_instance_title(obj),
            action=action,
            timestamp=now,
            user=user or context.user,
            uuid=context.uuid,
            data=data(obj) if data else {},
        )
        for obj in objs
    ]
    ModelLogEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    """``[1, 2, 3, 7, 8]`` as ``[[1, 3], [7, 8]]``: a bulk audit row lists the
    records it covers without writing 100,000 numbers (ids drawn from a sequence
    in one go are consecutive)."""
    ranges: list[list[int]] = []
    for pk in sorted(ids):
        if ranges and pk == ranges[-1][1] + 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


def audit_entries(obj: models.Model):
    """The audit rows of one object, newest first."""
    return registry.get_logs_for_instance(obj).order_by("-timestamp", "-id")
