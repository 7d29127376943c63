"""Campaign pages, donation intents, and a signed-webhook helper for the tests."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from campaigns.models import CampaignIndexPage, CampaignPage, DonationIntent
from kyosei.models import HomePage
from tests.factories.donors import FundFactory

WEBHOOK_SECRET = "whsec_test_kyosei"


def campaign_page(*, fund=None, goal_yen: int = 1_000_000, **fields) -> CampaignPage:
    """A live campaign under a campaign index under the Japanese home page."""
    home = HomePage.objects.filter(locale__language_code="ja").first()
    index = CampaignIndexPage.objects.first()
    if index is None:
        index = CampaignIndexPage(title="キャンペーン", slug="campaigns")
        home.add_child(instance=index)
    n = CampaignPage.objects.count() + 1
    page = CampaignPage(
        title=fields.pop("title", f"キャンペーン{n}"),
        slug=fields.pop("slug", f"campaign-{n}"),
        goal_yen=goal_yen,
        start_date=fields.pop("start_date", timezone.localdate() - dt.timedelta(1)),
        end_date=fields.pop("end_date", timezone.localdate() + dt.timedelta(30)),
        fund=fund or FundFactory(),
        **fields,
    )
    index.add_child(instance=page)
    return page


def donation_intent(
    campaign: CampaignPage,
    *,
    amount: int = 3000,
    currency: str = "JPY",
    frequency: str = DonationIntent.Frequency.ONCE,
    email: str = "hanako@example.jp",
    session_id: str | None = None,
    **fields: Any,
) -> DonationIntent:
    intent = DonationIntent.objects.create(
        campaign=campaign,
        amount=amount,
        currency=currency,
        frequency=frequency,
        family_name=fields.pop("family_name", "山田"),
        given_name=fields.pop("given_name", "花子"),
        email=email,
        **fields,
    )
    from campaigns.fake_stripe import fake_id
    from kyosei.money import Money

    intent.checkout_session_id = session_id or fake_id("cs", Money(amount, currency))
    intent.save(update_fields=["checkout_session_id"])
    return intent


def signed(payload: dict | str, *, secret: str | None = None, timestamp=None):
    """(body, Stripe-Signature header) computed exactly as Stripe does."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body,
        secret or settings.STRIPE_WEBHOOK_SECRET,
        timestamp=timestamp if timestamp is not None else int(time.time()),
    )
    return body, header


def post_event(client, payload: dict, **kwargs):
    body, header = signed(payload, **kwargs)
    return client.post(
        "/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
