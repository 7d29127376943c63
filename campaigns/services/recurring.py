"""Donors managing their monthly gifts online (called from the donor portal).

Stripe is called first, outside any transaction; the local RecurringGift is then
updated at once so the portal shows the change, and the webhook Stripe sends
afterwards (customer.subscription.updated / .deleted) finds it already applied.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import stripe_gateway as gateway
from campaigns.errors import CheckoutError, GatewayError
from campaigns.models import DonationIntent
from campaigns.services.checkout import donation_amount_check
from donors.models import RecurringGift
from kyosei.audit import audit_log
from kyosei.money import Money


def _online(recurring: RecurringGift) -> str:
    if not recurring.stripe_subscription_id:
        raise CheckoutError(_("This monthly gift is not paid online."))
    if recurring.status == RecurringGift.Status.CANCELLED:
        raise CheckoutError(_("This monthly gift has already ended."))
    return recurring.stripe_subscription_id


def recurring_cancel_online(
    *, recurring: RecurringGift, user: AbstractBaseUser | None
) -> RecurringGift:
    subscription_id = _online(recurring)
    try:
        gateway.subscription_cancel(subscription_id)
    except GatewayError as exc:
        raise CheckoutError(
            _("We could not reach our payment provider; please try again.")
        ) from exc
    with transaction.atomic():
        recurring = RecurringGift.objects.select_for_update().get(pk=recurring.pk)
        if recurring.status != RecurringGift.Status.CANCELLED:
            recurring.status = RecurringGift.Status.CANCELLED
            recurring.cancelled_on = timezone.localdate()
            recurring.save(update_fields=["status", "cancelled_on"])
            audit_log(
                recurring,
                "campaigns.recurring.cancelled",
                user=user,
                data={"by": "donor", "subscription": subscription_id},
            )
    return recurring


def recurring_amount_change_online(
    *, recurring: RecurringGift, amount: Money, user: AbstractBaseUser | None
) -> RecurringGift:
    subscription_id = _online(recurring)
    if amount.currency != recurring.currency:
        raise CheckoutError(
            _("A monthly gift keeps its currency (%(c)s).") % {"c": recurring.currency}
        )
    donation_amount_check(amount)
    try:
        gateway.subscription_amount_change(subscription_id, amount)
    except GatewayError as exc:
        raise CheckoutError(
            _("We could not reach our payment provider; please try again.")
        ) from exc
    with transaction.atomic():
        recurring = RecurringGift.objects.select_for_update().get(pk=recurring.pk)
        before = recurring.amount
        recurring.amount = amount.amount
        recurring.save(update_fields=["amount"])
        audit_log(
            recurring,
            "campaigns.recurring.updated",
            user=user,
            data={"before": {"amount": before}, "after": {"amount": amount.amount}},
        )
    return recurring


def recurring_card_update_url(*, recurring: RecurringGift, return_url: str) -> str:
    """A Stripe billing portal session where the donor updates their card."""
    _online(recurring)
    intent = (
        DonationIntent.objects.filter(recurring_gift=recurring)
        .exclude(stripe_customer_id="")
        .first()
    )
    if intent is None:
        raise CheckoutError(_("No payment account is known for this monthly gift."))
    try:
        return gateway.billing_portal_session_create(
            customer_id=intent.stripe_customer_id, return_url=return_url
        )
    except GatewayError as exc:
        raise CheckoutError(
            _("We could not reach our payment provider; please try again.")
        ) from exc
