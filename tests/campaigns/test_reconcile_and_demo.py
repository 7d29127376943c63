"""Reconciliation, the beat tasks, and the demo seed."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import fake_stripe as fs
from campaigns.models import CampaignIndexPage, CampaignPage, StripeEvent
from campaigns.services.reconcile import stripe_reconcile
from campaigns.tasks import reconcile_stripe, retry_failed_events
from kyosei.money import Money
from tests.factories.campaigns import donation_intent

pytestmark = pytest.mark.django_db


def test_reconcile_reports_charges_without_gifts(post, fake_stripe, campaign):
    intent = donation_intent(campaign)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        suffix=intent.uuid.hex[:16],
    )
    post(fs.build_event("checkout.session.completed", session))
    recorded = fs.fake_id("ch", Money.yen(3000), intent.uuid.hex[:16])
    missed = fs.charge_obj(Money.yen(8000), charge_id="ch_missed_1")
    fake_stripe.charges = [fs.charge_obj(Money.yen(3000), charge_id=recorded), missed]

    report = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert report.checked == 2
    assert report.missing_gifts == ["ch_missed_1"]
    assert not report.ok
    request = fake_stripe.requests_to("get", "/v1/charges")[-1]
    assert int(request.params["created[gte]"]) > 0
    assert reconcile_stripe(days=1)["missing_gifts"] == ["ch_missed_1"]


def test_reconcile_is_skipped_without_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.KYOSEI_DEMO = False
    assert reconcile_stripe() == {"skipped": "Stripe is not configured"}


def test_beat_retries_failed_events_but_not_waiting_ones(
    on_commit, fake_stripe, campaign
):
    from campaigns.services.stripe_events import stripe_event_store

    intent = donation_intent(campaign)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
    )
    fake_stripe.fail_with = 503
    with on_commit():
        event, _ = stripe_event_store(
            payload=fs.build_event("checkout.session.completed", session)
        )
    waiting = StripeEvent.objects.create(
        stripe_id="evt_wait",
        type="charge.refunded",
        payload={},
        status="failed",
        waiting_for="charge:ch_x",
    )
    fake_stripe.fail_with = None
    with on_commit():
        assert retry_failed_events() == 1
    event.refresh_from_db()
    waiting.refresh_from_db()
    assert event.status == StripeEvent.Status.DONE
    assert waiting.status == StripeEvent.Status.FAILED


def test_demo_seed_is_idempotent_and_translated(demo_core):
    from campaigns import demo

    demo.seed()
    demo.seed()
    ja = CampaignPage.objects.filter(locale__language_code="ja")
    assert ja.count() == 2
    assert all(p.live and p.fund.is_restricted for p in ja)
    assert CampaignIndexPage.objects.filter(locale__language_code="ja").count() == 1
    for code in ("en", "vi"):
        assert CampaignPage.objects.filter(locale__language_code=code).count() == 2
    assert CampaignPage.objects.filter(title__contains="shelter").exists()
