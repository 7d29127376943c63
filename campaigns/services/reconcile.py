"""Reconciliation: Stripe's recent events and charges against Kyosei's gifts.

Two steps, each safe to repeat:

1. **Repair.** Stripe keeps 30 days of events. Every event of a type Kyosei
   handles that was never received (a webhook lost to an outage, a wrong
   endpoint secret) is stored through ``stripe_event_store`` — the same path as
   the webhook, unique on the event id — and so processed exactly once.
2. **Report.** Succeeded charges with no gift, and card gifts whose charge
   Stripe does not list, are kept on a ``ReconciliationRun`` for staff (Online
   giving → Reconciliation). Nothing here records money itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from campaigns import stripe_gateway as gateway
from campaigns.errors import GatewayError
from campaigns.models import ReconciliationRun
from donors.models import Gift
from kyosei.money import from_stripe_amount
from kyosei.redact import exception_summary

logger = logging.getLogger(__name__)

#: A gift younger than this may not be listed by Stripe's charge search yet.
GIFT_GRACE = dt.timedelta(minutes=5)


def _missing(charges: list[Any]) -> list[dict[str, Any]]:
    ids = {c["id"] for c in charges}
    known = set(
        Gift.objects.filter(stripe_charge_id__in=ids).values_list(
            "stripe_charge_id", flat=True
        )
    )
    out = []
    for charge in charges:
        if charge["id"] in known:
            continue
        money = from_stripe_amount(int(charge["amount"]), str(charge["currency"]))
        created = dt.datetime.fromtimestamp(int(charge["created"]), tz=dt.UTC)
        out.append(
            {
                "charge": charge["id"],
                "amount": str(money),
                "created": created.isoformat(),
                "payment_intent": str(charge.get("payment_intent") or ""),
            }
        )
    return sorted(out, key=lambda row: row["charge"])


def _unknown(charge_ids: set[str], since: dt.datetime) -> list[dict[str, Any]]:
    rows = (
        Gift.objects.filter(
            method=Gift.Method.CARD,
            stripe_charge_id__isnull=False,
            created_at__gte=since,
            created_at__lte=timezone.now() - GIFT_GRACE,
        )
        .exclude(stripe_charge_id__in=charge_ids)
        .exclude(stripe_charge_id__startswith="ch_fake_")  # demo checkouts
        .values_list("pk", "stripe_charge_id", "amount_yen")
    )
    return [
        {"gift": pk, "charge": charge, "amount_yen": yen} for pk, charge, yen in rows
    ]


def stripe_reconcile(*, since: dt.datetime, user=None) -> ReconciliationRun:
    """Replay missed events since ``since``, then compare charges with gifts.

    Always returns a saved run; a Stripe outage gives a ``failed`` run with the
    error kept (the next hourly run tries again).
    """
    from campaigns.services.stripe_events import HANDLERS, stripe_event_store

    run = ReconciliationRun(since=since, started_by=user)
    try:
        events = gateway.events_list_recent(since=since, types=sorted(HANDLERS))
        run.checked_events = len(events)
        for payload in reversed(events):  # oldest first, as Stripe sent them
            _event, created = stripe_event_store(payload=payload)
            if created:
                run.replayed_events.append(
                    {"event": payload["id"], "type": payload["type"]}
                )
        charges = gateway.charges_list_recent(since=since)
    except GatewayError as exc:
        run.status = ReconciliationRun.Status.FAILED
        run.error = str(exc)
        run.save()
        logger.warning("Stripe reconciliation failed: %s", exception_summary(exc))
        return run
    run.checked_charges = len(charges)
    run.missing_gifts = _missing(charges)
    # A charge paid through a session replayed just now is being recorded (by
    # the worker, after this run): mark it rather than raise the alarm.
    replayed = {row["event"] for row in run.replayed_events}
    replayed_pis = {
        str(((e.get("data") or {}).get("object") or {}).get("payment_intent") or "")
        for e in events
        if e["id"] in replayed
    } - {""}
    for row in run.missing_gifts:
        row["replayed"] = row["payment_intent"] in replayed_pis
    if len(charges) < 100:  # only a complete page can prove a gift has no charge
        run.unknown_charges = _unknown({c["id"] for c in charges}, since)
    unexplained = [row for row in run.missing_gifts if not row["replayed"]]
    if unexplained or run.unknown_charges:
        run.status = ReconciliationRun.Status.ATTENTION
        logger.warning(
            "Stripe reconciliation: %d charges without a gift, %d gifts without a "
            "charge",
            len(unexplained),
            len(run.unknown_charges),
        )
    elif run.replayed_events:
        run.status = ReconciliationRun.Status.REPAIRED
    else:
        run.status = ReconciliationRun.Status.OK
    run.save()
    return run
