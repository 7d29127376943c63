"""Thin Celery tasks for online giving: take ids, call one service."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

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
def reconcile_stripe(days: int = 3) -> dict:
    """Beat: compare recent Stripe charges/invoices with recorded gifts."""
    from campaigns import stripe_gateway
    from campaigns.services.reconcile import stripe_reconcile

    if not stripe_gateway.is_available():
        return {"skipped": "Stripe is not configured"}
    since = timezone.now() - dt.timedelta(days=days)
    return stripe_reconcile(since=since).as_dict()


def _send(template: str, *, to: str, language: str, context: dict) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"campaigns/email/{template}_subject.txt", context)
        body = render_to_string(f"campaigns/email/{template}.txt", context)
    send_mail(" ".join(subject.split()), body, None, [to])


@shared_task(name="campaigns.gift_acknowledge")
def gift_acknowledge(gift_pk: int) -> str:
    """After a gift is committed: the numbered receipt (寄附金受領証明書, emailed by
    the receipts service), or — when one cannot be issued yet (no postal address
    given, an unnamed donor) — a plain thank-you email that claims no tax status.
    """
    from donors.models import Gift
    from donors.receipts.errors import ReceiptError
    from donors.receipts.services import receipt_issue_single

    gift = Gift.objects.select_related("donor", "campaign").get(pk=gift_pk)
    if gift.donor is None:
        return "no-donor"
    try:
        receipt = receipt_issue_single(gift=gift, user=None, send_email=True)
    except ReceiptError as exc:
        logger.info("No receipt for gift %s yet: %s", gift_pk, exc)
    except Exception:  # the gift is recorded; never lose the thank-you over this
        logger.exception("Receipt for gift %s failed; sending a thank-you", gift_pk)
    else:
        return f"receipt {receipt.number}"
    if not gift.donor.email:
        return "no-email"
    _send(
        "thank_you",
        to=gift.donor.email,
        language=gift.donor.preferred_language,
        context={"gift": gift, "donor": gift.donor},
    )
    return "thank-you"


@shared_task(name="campaigns.recurring_payment_failed_email")
def recurring_payment_failed_email(recurring_pk: int) -> str:
    from donors.models import RecurringGift

    recurring = RecurringGift.objects.select_related("donor").get(pk=recurring_pk)
    if not recurring.donor.email:
        return "no-email"
    _send(
        "payment_failed",
        to=recurring.donor.email,
        language=recurring.donor.preferred_language,
        context={"recurring": recurring, "donor": recurring.donor},
    )
    return "sent"
