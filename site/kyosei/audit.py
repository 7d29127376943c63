"""Audit trail: one call, written in the caller's transaction.

``audit_log`` records on Wagtail's log entries (``ModelLogEntry``), so staff see
the history in the admin's reports and on each object. Actions must be registered
(with a label) through the ``register_log_actions`` hook in an app's
``wagtail_hooks.py``; :data:`AUDIT_ACTIONS` holds the core's own. An unknown action
is a programming error and raises, so a typo never writes an unlabelled row.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import registry
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


def audit_entries(obj: models.Model):
    """The audit rows of one object, newest first."""
    return registry.get_logs_for_instance(obj).order_by("-timestamp", "-id")
