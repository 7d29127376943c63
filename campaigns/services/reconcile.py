"""Reconciliation: Stripe's recent charges against the gifts Kyosei recorded."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.utils import timezone

from campaigns import stripe_gateway as gateway
from donors.models import Gift

logger = logging.getLogger(__name__)


@dataclass
class Reconciliation:
    checked: int = 0
    missing_gifts: list[str] = field(default_factory=list)  # charges, no gift
    unknown_charges: list[int] = field(default_factory=list)  # gifts, no charge

    @property
    def ok(self) -> bool:
        return not (self.missing_gifts or self.unknown_charges)

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "missing_gifts": self.missing_gifts,
            "unknown_charges": self.unknown_charges,
        }


def stripe_reconcile(*, since: dt.datetime) -> Reconciliation:
    """Report charges with no gift (a missed webhook: replay it from the Stripe
    dashboard or retry the stored event) and card gifts whose charge Stripe does
    not list. Reads only; never records money itself."""
    charges = gateway.charges_list_recent(since=since)
    report = Reconciliation(checked=len(charges))
    ids = {c["id"] for c in charges}
    known = set(
        Gift.objects.filter(stripe_charge_id__in=ids).values_list(
            "stripe_charge_id", flat=True
        )
    )
    report.missing_gifts = sorted(ids - known)
    if len(charges) < 100:  # only a complete page can prove a gift has no charge
        report.unknown_charges = list(
            Gift.objects.filter(
                method=Gift.Method.CARD,
                stripe_charge_id__isnull=False,
                created_at__gte=since,
                created_at__lte=timezone.now() - dt.timedelta(minutes=5),
            )
            .exclude(stripe_charge_id__in=ids)
            .exclude(stripe_charge_id__startswith="ch_fake_")
            .values_list("pk", flat=True)
        )
    if not report.ok:
        logger.warning("Stripe reconciliation: %s", report.as_dict())
    return report
