"""Online giving's part of erasing a donor (``donors.portal.erasure``).

Donation intents hold what the donor typed on the donate form; stored Stripe
events hold what Stripe sent about their payments (billing details, customer
email and name, card details, receipt links). Both are redacted when the donor's
deletion request is processed, in the same transaction, by
:class:`DonationDataEraser` (registered in ``CampaignsConfig.ready``).

Kept: amounts, currencies, statuses, dates and every Stripe id (a charge,
invoice, subscription or customer id identifies nobody without Stripe's own
records; the gifts' ids are the link to the books). Deleting the customer at
Stripe is not done here: Stripe keeps its own records under its own duties, and
an operator deletes the customer in the Stripe dashboard if the donor asks.
An active monthly gift is stopped at Stripe after commit, so the card is not
charged again.
"""

from __future__ import annotations

import logging

import stripe
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from campaigns import stripe_gateway as gateway
from campaigns.errors import GatewayError
from campaigns.models import DonationIntent, StripeEvent
from campaigns.services.checkout import email_rate_key
from campaigns.tasks import cancel_stripe_subscriptions
from donors.models import Gift, GiftRefund, RecurringGift
from donors.portal.erasure import ErasureSubject, Identity, Needles, scrub_json

logger = logging.getLogger(__name__)

#: Fields of Stripe objects that describe the person paying, at any depth of a
#: stored event: replaced whole. None of them is read by the event processing.
STRIPE_PERSONAL_KEYS = (
    "address", "billing_details", "custom_fields", "customer_address",
    "customer_details", "customer_email", "customer_name", "customer_phone",
    "customer_shipping", "customer_tax_ids", "email", "evidence",
    "hosted_invoice_url", "invoice_pdf", "name", "payment_method_details", "phone",
    "receipt_email", "receipt_url", "shipping", "shipping_details",
)  # fmt: skip

#: What the donor typed on the donate form.
INTENT_PERSONAL_FIELDS = (
    "family_name", "given_name", "email", "postal_code", "prefecture", "region",
    "city", "address_line1", "address_line2",
)  # fmt: skip


def _intents(donor_ids: list[int], emails: set[str]) -> Q:
    """The donor's intents: linked to the donor, or typed with their email
    (an intent whose payment never arrived has no donor)."""
    query = Q(donor_id__in=donor_ids)
    for email in emails:
        query |= Q(email__iexact=email)
    return query


class DonationDataEraser:
    """Donation intents and stored Stripe events of an erased donor."""

    def lock(self, *, donor_ids: list[int], emails: set[str], identity: Identity):
        intents = (
            DonationIntent.objects.select_for_update()
            .filter(_intents(donor_ids, emails))
            .order_by("pk")
        )
        for intent in intents:
            identity.add_person(
                family_name=intent.family_name,
                given_name=intent.given_name,
                emails=[intent.email],
                address_lines=[intent.address_line1, intent.address_line2],
            )

    def erase(self, subject: ErasureSubject) -> dict[str, int]:
        intents = list(
            DonationIntent.objects.select_for_update()
            .filter(_intents(subject.donor_ids, subject.emails))
            .order_by("pk")
        )
        refs = self._stripe_refs(subject, intents)
        changed = 0
        for intent in intents:
            before = [getattr(intent, f) for f in INTENT_PERSONAL_FIELDS]
            for name in INTENT_PERSONAL_FIELDS:
                setattr(intent, name, "")
            # A payment still to come is recorded on the nameless donor instead
            # of creating a donor from a blank form.
            if intent.donor_id is None:
                intent.donor_id = subject.donor.pk
            if any(before) or intent.checkout_url:
                changed += 1
            intent.checkout_url = ""
            intent.save(
                update_fields=[
                    *INTENT_PERSONAL_FIELDS,
                    "checkout_url",
                    "donor",
                    "updated_at",
                ]
            )
        events = self._erase_events(subject, refs)
        self._after_commit(subject)
        return {"donation_intents": changed, "stripe_events": events}

    @staticmethod
    def _stripe_refs(subject: ErasureSubject, intents: list[DonationIntent]):
        refs: set[str] = set()
        for intent in intents:
            refs.update(
                (
                    intent.checkout_session_id or "",
                    intent.stripe_payment_intent_id,
                    intent.stripe_subscription_id,
                    intent.stripe_customer_id,
                )
            )
        gifts = Gift.objects.filter(pk__in=subject.gift_ids)
        charges = set(gifts.exclude(stripe_charge_id=None).values_list(
            "stripe_charge_id", flat=True
        ))  # fmt: skip
        refs |= charges
        refs.update(
            gifts.exclude(stripe_invoice_id=None).values_list(
                "stripe_invoice_id", flat=True
            )
        )
        refs.update(
            GiftRefund.objects.filter(gift__in=gifts)
            .exclude(stripe_refund_id=None)
            .values_list("stripe_refund_id", flat=True)
        )
        refs.update(
            RecurringGift.objects.filter(donor__in=subject.donor_ids)
            .exclude(stripe_subscription_id=None)
            .values_list("stripe_subscription_id", flat=True)
        )
        refs.discard("")
        return refs, charges

    @staticmethod
    def _erase_events(subject: ErasureSubject, found) -> int:
        """Events about the donor's Stripe objects (their ``object_ref``), card
        disputes of their charges, and any event that carries their email."""
        refs, charges = found
        text = Cast("payload", TextField())
        about = Q(object_ref__in=refs)
        disputes = Q(pk__in=[])
        for charge in charges:
            disputes |= Q(_payload__icontains=charge)
        about |= Q(type__startswith="charge.dispute.") & disputes
        emails = Needles(subject.emails)
        about |= emails.q_json("_payload")
        changed = []
        for event in (
            StripeEvent.objects.annotate(_payload=text)
            .filter(about)
            .only("payload", "error")
        ):
            payload = scrub_json(
                event.payload, subject.needles, keys=STRIPE_PERSONAL_KEYS
            )
            error = subject.needles.sub(event.error)
            if (payload, error) != (event.payload, event.error):
                event.payload, event.error = payload, error
                changed.append(event)
        StripeEvent.objects.bulk_update(changed, ["payload", "error"], batch_size=200)
        return len(changed)

    @staticmethod
    def _after_commit(subject: ErasureSubject) -> None:
        subscriptions = list(
            RecurringGift.objects.filter(pk__in=subject.cancelled_recurring_ids)
            .exclude(stripe_subscription_id=None)
            .values_list("stripe_subscription_id", flat=True)
        )
        emails = list(subject.emails)

        def after() -> None:
            # The donate form's rate-limit counters are keyed by email.
            cache.delete_many([email_rate_key(e) for e in emails])
            if subscriptions:
                cancel_stripe_subscriptions.delay(subscriptions)

        transaction.on_commit(after, robust=True)


def stripe_subscriptions_cancel(*, subscription_ids: list[str]) -> int:
    """Stop these subscriptions at Stripe (an erased donor's monthly gifts).

    Never inside a transaction (network). A subscription Stripe no longer has,
    or has already cancelled, is skipped; a transient failure raises
    ``GatewayError`` for the task to retry. Returns how many were cancelled.
    """
    if not gateway.is_available():
        return 0
    cancelled = 0
    for subscription_id in subscription_ids:
        try:
            gateway.subscription_cancel(subscription_id)
        except GatewayError as exc:
            if isinstance(exc.__cause__, stripe.InvalidRequestError):
                logger.info("Subscription %s not cancelled: %s", subscription_id, exc)
                continue
            raise
        cancelled += 1
    return cancelled
