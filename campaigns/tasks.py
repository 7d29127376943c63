"""Thin Celery tasks for online giving: take ids, call one service."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from celery import shared_task
from django.utils import timezone

from campaigns.errors import GatewayError
from kyosei.redact import RedactedError

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.process_stripe_event", acks_late=True)
def process_stripe_event(event_pk: int) -> str:
    """Process one stored Stripe event; failures are kept on the row, not raised."""
    from campaigns.services.stripe_events import stripe_event_process

    return stripe_event_process(event_pk=event_pk).status


@shared_task(name="campaigns.retry_failed_events")
def retry_failed_events(max_attempts: int = 5) -> int:
    """Beat: re-run failed events that are not waiting for something (a Stripe
    outage, a transient error) a few times before leaving them to staff."""
    from campaigns.models import StripeEvent

    pks = list(
        StripeEvent.objects.filter(
            status=StripeEvent.Status.FAILED,
            waiting_for="",
            attempts__lt=max_attempts,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        process_stripe_event.delay(pk)
    return len(pks)


@shared_task(name="campaigns.reconcile_stripe")
def reconcile_stripe(days: int = 3, user_pk: int | None = None) -> dict:
    """Beat (or a finance user's "run now"): replay missed Stripe events and
    compare recent charges with recorded gifts."""
    from django.contrib.auth import get_user_model

    from campaigns import stripe_gateway
    from campaigns.services.reconcile import stripe_reconcile

    if not stripe_gateway.is_available():
        return {"skipped": "Stripe is not configured"}
    user = get_user_model().objects.filter(pk=user_pk).first() if user_pk else None
    since = timezone.now() - dt.timedelta(days=days)
    run = stripe_reconcile(since=since, user=user)
    return {
        "run": run.pk,
        "status": run.status,
        "replayed": len(run.replayed_events),
        "missing_gifts": [row["charge"] for row in run.missing_gifts],
        "unknown_charges": [row["gift"] for row in run.unknown_charges],
    }


@shared_task(
    name="campaigns.gift_acknowledge",
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=5,
)
def gift_acknowledge(gift_pk: int) -> str:
    """After a gift is committed: its receipt or a thank-you, exactly once."""
    from campaigns.services.acknowledge import gift_acknowledge as acknowledge

    try:
        return acknowledge(gift_pk=gift_pk)
    except smtplib.SMTPException as exc:
        # Celery logs the exception it retries on; an SMTP refusal's message
        # lists the donor's address.
        raise RedactedError.of(exc) from None


@shared_task(name="campaigns.acknowledge_pending")
def acknowledge_pending() -> int:
    """Beat: queue the thank-you of gifts whose own task never ran."""
    from campaigns.services.acknowledge import gifts_unacknowledged

    pks = gifts_unacknowledged()
    for pk in pks:
        gift_acknowledge.delay(pk)
    return len(pks)


@shared_task(name="campaigns.recurring_payment_failed_email")
def recurring_payment_failed_email(recurring_pk: int) -> str:
    from campaigns.services.acknowledge import donor_email_send
    from donors.models import RecurringGift

    recurring = RecurringGift.objects.select_related("donor").get(pk=recurring_pk)
    if not recurring.donor.email:
        return "no-email"
    donor_email_send(
        "payment_failed",
        to=recurring.donor.email,
        language=recurring.donor.preferred_language,
        context={"recurring": recurring, "donor": recurring.donor},
    )
    return "sent"


@shared_task(
    name="campaigns.cancel_stripe_subscriptions",
    autoretry_for=(GatewayError,),
    retry_backoff=60,
    max_retries=8,
)
def cancel_stripe_subscriptions(subscription_ids: list[str]) -> int:
    """After a donor's data is erased: stop their monthly gifts at Stripe."""
    from campaigns.services.erasure import stripe_subscriptions_cancel

    return stripe_subscriptions_cancel(subscription_ids=subscription_ids)
