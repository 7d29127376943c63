"""Reconciliation, the beat tasks, and the demo seed."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import fake_stripe as fs
from campaigns.models import (
    CampaignIndexPage,
    CampaignPage,
    ReconciliationRun,
    StripeEvent,
)
from campaigns.services.reconcile import stripe_reconcile
from campaigns.tasks import reconcile_stripe, retry_failed_events
from donors.models import Gift
from kyosei.money import Money
from tests.factories.campaigns import donation_intent

pytestmark = pytest.mark.django_db


def _paid_session(campaign, **intent_kwargs):
    intent = donation_intent(campaign, **intent_kwargs)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        suffix=intent.uuid.hex[:16],
    )
    return intent, session


def test_reconcile_reports_charges_without_gifts(post, fake_stripe, campaign):
    intent, session = _paid_session(campaign)
    post(fs.build_event("checkout.session.completed", session))
    recorded = fs.fake_id("ch", Money.yen(3000), intent.uuid.hex[:16])
    missed = fs.charge_obj(Money.yen(8000), charge_id="ch_missed_1")
    fake_stripe.charges = [fs.charge_obj(Money.yen(3000), charge_id=recorded), missed]

    run = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert run.pk and run.checked_charges == 2
    assert [row["charge"] for row in run.missing_gifts] == ["ch_missed_1"]
    assert run.missing_gifts[0]["amount"] == "¥8,000"
    assert run.status == ReconciliationRun.Status.ATTENTION
    request = fake_stripe.requests_to("get", "/v1/charges")[-1]
    assert int(request.params["created[gte]"]) > 0
    assert reconcile_stripe(days=1)["missing_gifts"] == ["ch_missed_1"]
    assert ReconciliationRun.objects.count() == 2


def test_reconcile_replays_a_missed_webhook_exactly_once(
    on_commit, fake_stripe, campaign
):
    """The webhook never arrived; Stripe's event list still has it."""
    intent, session = _paid_session(campaign)
    missed = fs.build_event("checkout.session.completed", session)
    other = fs.build_event("payment_intent.created", {"id": "pi_x"})  # not handled
    fake_stripe.events = [missed, other]
    charge = fs.fake_id("ch", Money.yen(3000), intent.uuid.hex[:16])
    fake_stripe.charges = [
        fs.charge_obj(
            Money.yen(3000), charge_id=charge, payment_intent=session["payment_intent"]
        )
    ]

    with on_commit():
        run = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert run.replayed_events == [
        {"event": missed["id"], "type": "checkout.session.completed"}
    ]
    assert run.checked_events == 1  # only the types Kyosei handles are asked for
    request = fake_stripe.requests_to("get", "/v1/events")[-1]
    assert "checkout.session.completed" in request.params.values()
    # Processed after this run's commit (by the worker): the charge is marked as
    # being recorded, not as needing attention.
    assert run.status == ReconciliationRun.Status.REPAIRED
    assert [(r["charge"], r["replayed"]) for r in run.missing_gifts] == [(charge, True)]
    gift = Gift.objects.get()
    assert gift.stripe_charge_id == charge
    assert StripeEvent.objects.get(stripe_id=missed["id"]).status == "done"

    # The next run (and a late webhook) find it stored: nothing more.
    with on_commit():
        again = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert again.replayed_events == [] and again.missing_gifts == []
    assert again.status == ReconciliationRun.Status.OK
    assert Gift.objects.count() == 1


def test_reconcile_keeps_a_failed_run_when_stripe_is_down(fake_stripe, campaign):
    fake_stripe.fail_with = 503
    run = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert run.status == ReconciliationRun.Status.FAILED
    assert "fake outage" in run.error
    assert ReconciliationRun.objects.get() == run


def test_reconcile_reports_gifts_stripe_does_not_list(post, fake_stripe, campaign):
    _intent, session = _paid_session(campaign)
    post(fs.build_event("checkout.session.completed", session))
    gift = Gift.objects.get()
    Gift.objects.filter(pk=gift.pk).update(
        stripe_charge_id="ch_live_unknown",
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    run = stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))
    assert run.unknown_charges == [
        {"gift": gift.pk, "charge": "ch_live_unknown", "amount_yen": 3000}
    ]


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
