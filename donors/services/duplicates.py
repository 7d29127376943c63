"""Writes of the duplicate finder: staff dismiss a pair as "not the same person".

Merging a pair is ``donors.services.donors.donor_merge``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from donors.errors import DonorError
from donors.models import Donor, DuplicateDismissal
from kyosei.audit import audit_log


@transaction.atomic
def duplicate_dismiss(
    *,
    first: Donor,
    second: Donor,
    user: AbstractBaseUser | None,
    reason: str = "",
) -> DuplicateDismissal:
    """Record that ``first`` and ``second`` are different people.

    Idempotent on the (ordered) pair: dismissing it again returns the first
    record and writes nothing. Audited on the dismissal row.
    """
    if first.pk == second.pk:
        raise DonorError(_("A donor cannot be a duplicate of itself."))
    low, high = sorted((first.pk, second.pk))
    dismissal, created = DuplicateDismissal.objects.get_or_create(
        donor_low_id=low,
        donor_high_id=high,
        defaults={"reason": reason[:300], "dismissed_by": user},
    )
    if created:
        audit_log(
            dismissal,
            "donors.duplicate.dismissed",
            user=user,
            data={"donors": [low, high], "reason": dismissal.reason},
        )
    return dismissal
