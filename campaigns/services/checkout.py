"""Starting an online donation: validate, rate-limit, create the intent, open a
Stripe Checkout Session. Nothing here records money; only Stripe's events do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns import stripe_gateway as gateway
from campaigns.errors import CheckoutError, GatewayError
from campaigns.models import DONATION_CURRENCIES, CampaignPage, DonationIntent
from kyosei.money import Money, format_money

#: Our floor and ceiling per currency, in minor units (above Stripe's minimums:
#: ¥50, US$0.50 …; the floor makes card testing with tiny charges pointless).
LIMITS: dict[str, tuple[int, int]] = {
    "JPY": (500, 1_000_000),
    "USD": (500, 1_000_000),
    "EUR": (500, 1_000_000),
    "AUD": (800, 1_500_000),
    "GBP": (500, 800_000),
    "VND": (100_000, 200_000_000),
    "PHP": (25_000, 50_000_000),
}
#: Card fee added when the donor chooses to cover it (Stripe Japan, domestic cards).
COVER_FEE_PERCENT = Decimal("3.6")
#: Checkout sessions allowed per window, per IP address and per email address.
RATE_WINDOW_SECONDS = 600
RATE_PER_IP = 10
RATE_PER_EMAIL = 5

DONOR_FIELDS = (
    "family_name",
    "given_name",
    "email",
    "country",
    "postal_code",
    "prefecture",
    "region",
    "city",
    "address_line1",
    "address_line2",
)


@dataclass(frozen=True)
class Limits:
    minimum: Money
    maximum: Money


def donation_limits(currency: str) -> Limits:
    low, high = LIMITS[currency]
    return Limits(Money(low, currency), Money(high, currency))


def donation_amount_check(amount: Money) -> None:
    """Raise ``CheckoutError`` unless ``amount`` is within our limits."""
    if amount.currency not in DONATION_CURRENCIES:
        raise CheckoutError(
            _("We cannot accept gifts in %(c)s online.") % {"c": amount.currency}
        )
    limits = donation_limits(amount.currency)
    language = translation.get_language()
    if amount < limits.minimum:
        raise CheckoutError(
            _("The smallest online gift is %(m)s.")
            % {"m": format_money(limits.minimum, language)}
        )
    if amount > limits.maximum:
        raise CheckoutError(
            _("For gifts above %(m)s please contact us or give by bank transfer.")
            % {"m": format_money(limits.maximum, language)}
        )


def fee_cover_amount(amount: Money) -> Money:
    return amount.percent(COVER_FEE_PERCENT, rounding=ROUND_UP)


def _hit(key: str, limit: int) -> bool:
    """Count one hit; True when the window's count is over ``limit``."""
    cache.add(key, 0, RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW_SECONDS)
        count = 1
    return count > limit


def email_rate_key(email: str) -> str:
    """The cache key counting one email's checkouts: hashed, so the cache holds
    no address and any address makes a valid key."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"campaigns:rate:email:{digest}"


def checkout_rate_check(*, ip: str, email: str) -> None:
    """Card-testing defence: few checkout sessions per IP and per email."""
    over_ip = _hit(f"campaigns:rate:ip:{ip}", RATE_PER_IP)
    over_email = _hit(email_rate_key(email), RATE_PER_EMAIL)
    if over_ip or over_email:
        raise CheckoutError(
            _("Too many donation attempts. Please wait a few minutes and try again.")
        )


def checkout_start(
    *,
    campaign: CampaignPage,
    amount: Money,
    monthly: bool,
    cover_fees: bool,
    donor: dict[str, Any],
    anonymous_public: bool,
    consent_updates: bool,
    language: str,
    ip: str,
    base_url: str,
) -> DonationIntent:
    """Create a pending ``DonationIntent`` and its Stripe Checkout Session.

    The intent is committed before Stripe is called (no network inside a
    transaction); the session's idempotency key is derived from the intent. On a
    Stripe failure the intent is marked failed and ``CheckoutError`` is raised.
    """
    donation_amount_check(amount)
    if not campaign.is_open():
        raise CheckoutError(_("This campaign is not accepting gifts at the moment."))
    if not gateway.is_available():
        raise CheckoutError(_("Online giving is not available at the moment."))
    checkout_rate_check(ip=ip, email=str(donor.get("email", "")))
    fee = fee_cover_amount(amount) if cover_fees and campaign.offer_cover_fees else None
    total = amount + fee if fee is not None else amount
    with transaction.atomic():
        intent = DonationIntent.objects.create(
            campaign=campaign,
            amount=total.amount,
            currency=total.currency,
            fee_cover=fee.amount if fee is not None else 0,
            frequency=(
                DonationIntent.Frequency.MONTHLY
                if monthly
                else DonationIntent.Frequency.ONCE
            ),
            language=language,
            anonymous_public=anonymous_public,
            consent_updates=consent_updates,
            **{name: str(donor.get(name) or "") for name in DONOR_FIELDS},
        )
    base = base_url.rstrip("/")
    with translation.override(language):
        thanks = base + reverse("campaigns:thanks", args=[intent.uuid])
        cancel = base + (campaign.get_url() or "/")
    name = campaign.title + (" " + _("(monthly)") if monthly else "")
    try:
        session = gateway.checkout_session_create(
            intent_uuid=str(intent.uuid),
            amount=total,
            monthly=monthly,
            email=intent.email,
            product_name=_("Donation: %(c)s") % {"c": name},
            success_url=thanks,
            cancel_url=cancel,
            locale=language if language in ("ja", "en", "vi") else "auto",
        )
    except GatewayError as exc:
        DonationIntent.objects.filter(pk=intent.pk).update(
            status=DonationIntent.Status.FAILED
        )
        raise CheckoutError(
            _(
                "We could not reach our payment provider. Nothing was charged; please "
                "try again shortly."
            )
        ) from exc
    url = session.url
    if gateway.is_demo():
        with translation.override(language):
            url = base + reverse("campaigns:demo_checkout", args=[intent.uuid])
    intent.checkout_session_id = session.id
    intent.checkout_url = url
    intent.save(update_fields=["checkout_session_id", "checkout_url", "updated_at"])
    return intent
