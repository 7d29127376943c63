"""Demo mode without keys: a simulated checkout that feeds Stripe-shaped events
through the same storing and processing path as the webhook (not its signature
check: there is no Stripe to sign them)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from campaigns import fake_stripe
from campaigns import stripe_gateway as gateway
from campaigns.errors import CheckoutError
from campaigns.models import DonationIntent
from campaigns.services.stripe_events import stripe_event_store


def _check(intent: DonationIntent) -> None:
    if not gateway.is_demo():
        raise CheckoutError(_("The simulated checkout exists only in demo mode."))
    if not intent.checkout_session_id:
        raise CheckoutError(_("This donation has no checkout session."))


def demo_checkout_pay(*, intent: DonationIntent) -> list[str]:
    """“Pay” a demo checkout: store the events Stripe would send. Returns their ids.

    Paying twice sends the same event ids again, so nothing is recorded twice.
    """
    _check(intent)
    money = intent.money
    suffix = intent.uuid.hex[:16]
    monthly = intent.frequency == DonationIntent.Frequency.MONTHLY
    session = fake_stripe.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=money,
        mode="subscription" if monthly else "payment",
        suffix=suffix,
        email=intent.email,
    )
    events = [
        fake_stripe.build_event(
            "checkout.session.completed", session, event_id=f"evt_demo_{suffix}_cs"
        )
    ]
    if monthly:
        invoice = fake_stripe.invoice_obj(
            subscription_id=session["subscription"],
            intent_uuid=str(intent.uuid),
            money=money,
            customer=session["customer"],
        )
        # Stripe often sends invoice.paid first; the result is the same.
        events.insert(
            0,
            fake_stripe.build_event(
                "invoice.paid", invoice, event_id=f"evt_demo_{suffix}_in1"
            ),
        )
    ids = []
    for payload in events:
        event, _created = stripe_event_store(payload=payload, simulated=True)
        ids.append(event.stripe_id)
    return ids


def demo_checkout_cancel(*, intent: DonationIntent) -> str:
    """Abandon a demo checkout: Stripe would expire the session."""
    _check(intent)
    session = fake_stripe.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        payment_status="unpaid",
        status="expired",
    )
    payload = fake_stripe.build_event(
        "checkout.session.expired",
        session,
        event_id=f"evt_demo_{intent.uuid.hex[:16]}_expired",
    )
    event, _created = stripe_event_store(payload=payload, simulated=True)
    return event.stripe_id
