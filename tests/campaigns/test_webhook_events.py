"""Stripe events end to end: signed webhook → stored once → processed → gift.

The gateway talks to the local fake Stripe API (``fake_stripe`` fixture); the
webhook payloads carry a real computed ``Stripe-Signature``.
"""

import pytest
from django.core import mail

from campaigns import fake_stripe as fs
from campaigns.models import DonationIntent, StripeEvent
from campaigns.selectors import campaign_progress
from campaigns.services.stripe_events import stripe_event_process, stripe_event_retry
from donors.models import Donor, Gift, GiftRefund, RecurringGift
from grants.models import LedgerEntry
from grants.selectors import fund_balance
from kyosei.money import Money
from tests.factories.campaigns import donation_intent

pytestmark = pytest.mark.django_db


def _deliver(post, event_type, obj, **kwargs):
    payload = fs.build_event(event_type, obj, **kwargs)
    response = post(payload)
    assert response.status_code == 200, response.content
    return StripeEvent.objects.get(stripe_id=payload["id"]), payload


def _session(intent, **kwargs):
    return fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        mode="subscription" if intent.frequency == "monthly" else "payment",
        suffix=intent.uuid.hex[:16],
        **kwargs,
    )


def test_one_time_yen_gift_recorded_once_with_fee_ledger_and_email(
    post, fake_stripe, campaign
):
    intent = donation_intent(campaign, amount=3000, email="Hanako@Example.jp")
    event, payload = _deliver(post, "checkout.session.completed", _session(intent))

    assert event.status == StripeEvent.Status.DONE, event.error
    gift = Gift.objects.get()
    assert (gift.amount, gift.currency, gift.amount_yen, gift.fee_yen) == (
        3000,
        "JPY",
        3000,
        108,
    )
    assert gift.method == Gift.Method.CARD
    assert gift.stripe_charge_id.startswith("ch_fake_jpy_3000_")
    assert gift.campaign_id == campaign.pk and gift.fund == campaign.fund
    assert gift.ledger_entry.fund == campaign.fund
    assert fund_balance(campaign.fund) == 3000
    intent.refresh_from_db()
    assert intent.status == DonationIntent.Status.COMPLETED
    assert intent.gift == gift
    assert gift.donor.email == "hanako@example.jp"
    assert gift.donor.source == Donor.Source.ONLINE
    assert [m.to for m in mail.outbox] == [["hanako@example.jp"]]

    # The same event again: 200, nothing changes.
    response = post(payload)
    assert response.status_code == 200
    assert response.content == b"duplicate"
    assert StripeEvent.objects.count() == 1
    assert Gift.objects.count() == 1
    assert LedgerEntry.objects.filter(fund=campaign.fund).count() == 1
    assert len(mail.outbox) == 1


def test_same_payment_in_a_second_event_is_not_recorded_twice(
    post, fake_stripe, campaign
):
    intent = donation_intent(campaign)
    _deliver(post, "checkout.session.completed", _session(intent))
    event, _ = _deliver(
        post, "checkout.session.async_payment_succeeded", _session(intent)
    )
    assert event.status == StripeEvent.Status.DONE
    assert Gift.objects.count() == 1
    assert fund_balance(campaign.fund) == 3000


def test_existing_donor_is_found_by_email(post, fake_stripe, campaign):
    from tests.factories.donors import DonorFactory

    donor = DonorFactory(email="regular@example.jp")
    intent = donation_intent(campaign, email="REGULAR@example.jp")
    _deliver(post, "checkout.session.completed", _session(intent))
    assert Gift.objects.get().donor == donor
    assert Donor.objects.count() == 1


def test_usd_gift_keeps_currency_and_settled_yen(post, fake_stripe, campaign):
    intent = donation_intent(campaign, amount=2000, currency="USD")
    _deliver(post, "checkout.session.completed", _session(intent))
    gift = Gift.objects.get()
    assert gift.money == Money(2000, "USD")
    assert (gift.amount_yen, gift.fee_yen, gift.net_yen) == (3000, 108, 2892)
    assert fund_balance(campaign.fund) == 3000


@pytest.mark.parametrize("payload", ["not json", '{"no": "id"}'])
def test_malformed_body_with_valid_signature_is_400(client, payload):
    from tests.factories.campaigns import signed

    body, header = signed(payload)
    response = client.post(
        "/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_bad_or_stale_signature_is_400_and_nothing_stored(client, post, campaign):
    intent = donation_intent(campaign)
    payload = fs.build_event("checkout.session.completed", _session(intent))
    assert post(payload, secret="whsec_wrong").status_code == 400
    assert post(payload, timestamp=1_600_000_000).status_code == 400
    response = client.post(
        "/stripe/webhook/", data="{}", content_type="application/json"
    )
    assert response.status_code == 400
    assert client.get("/stripe/webhook/").status_code == 405
    assert not StripeEvent.objects.exists()
    assert not Gift.objects.exists()


def test_webhook_refuses_everything_without_a_secret(post, settings, campaign):
    settings.STRIPE_WEBHOOK_SECRET = ""
    intent = donation_intent(campaign)
    payload = fs.build_event("checkout.session.completed", _session(intent))
    assert post(payload, secret="whsec_x").status_code == 400
    assert not StripeEvent.objects.exists()


def test_unknown_event_type_is_stored_and_ignored(post, fake_stripe):
    event, _ = _deliver(post, "customer.created", {"id": "cus_1", "object": "customer"})
    assert event.status == StripeEvent.Status.IGNORED
    assert event.payload["type"] == "customer.created"


def test_session_for_a_checkout_we_did_not_create_is_ignored(post, fake_stripe):
    money = Money.yen(1000)
    obj = fs.checkout_session_obj(
        session_id="cs_other", intent_uuid="not-a-uuid", money=money
    )
    event, _ = _deliver(post, "checkout.session.completed", obj)
    assert event.status == StripeEvent.Status.IGNORED
    assert not Gift.objects.exists()


def test_unpaid_checkout_then_async_success(post, fake_stripe, campaign):
    intent = donation_intent(campaign)
    _deliver(
        post, "checkout.session.completed", _session(intent, payment_status="unpaid")
    )
    intent.refresh_from_db()
    assert intent.status == DonationIntent.Status.PENDING and intent.payment_pending
    assert not Gift.objects.exists()
    _deliver(post, "checkout.session.async_payment_succeeded", _session(intent))
    intent.refresh_from_db()
    assert intent.status == DonationIntent.Status.COMPLETED
    assert Gift.objects.count() == 1


def test_async_payment_failed_and_expired(post, fake_stripe, campaign):
    failed = donation_intent(campaign)
    _deliver(
        post,
        "checkout.session.async_payment_failed",
        _session(failed, payment_status="unpaid"),
    )
    failed.refresh_from_db()
    assert failed.status == DonationIntent.Status.FAILED
    expired = donation_intent(campaign)
    _deliver(post, "checkout.session.expired", _session(expired, status="expired"))
    expired.refresh_from_db()
    assert expired.status == DonationIntent.Status.EXPIRED
    assert not Gift.objects.exists()


def test_expired_after_payment_does_not_undo_it(post, fake_stripe, campaign):
    intent = donation_intent(campaign)
    _deliver(post, "checkout.session.completed", _session(intent))
    _deliver(post, "checkout.session.expired", _session(intent, status="expired"))
    intent.refresh_from_db()
    assert intent.status == DonationIntent.Status.COMPLETED


def _monthly_events(intent, instalments=1):
    session = _session(intent)
    invoices = [
        fs.invoice_obj(
            subscription_id=session["subscription"],
            intent_uuid=str(intent.uuid),
            money=intent.money,
            number=n,
            customer=session["customer"],
        )
        for n in range(1, instalments + 1)
    ]
    return session, invoices


def _state():
    """Everything the end state of the money should be, for order comparisons."""
    return {
        "gifts": sorted(
            (
                g.stripe_invoice_id,
                g.amount,
                g.amount_yen,
                g.fee_yen,
                g.status,
                g.recurring_gift.stripe_subscription_id if g.recurring_gift else None,
            )
            for g in Gift.objects.select_related("recurring_gift")
        ),
        "recurring": sorted(
            (r.stripe_subscription_id, r.status, r.amount)
            for r in RecurringGift.objects.all()
        ),
        "intents": sorted(DonationIntent.objects.values_list("status", flat=True)),
        "ledger": sorted(LedgerEntry.objects.values_list("amount_yen", flat=True)),
        "donors": Donor.objects.count(),
    }


@pytest.mark.parametrize("invoice_first", [False, True])
def test_monthly_gift_each_instalment_once_in_any_order(
    post, fake_stripe, campaign, invoice_first
):
    intent = donation_intent(campaign, frequency="monthly", amount=3000)
    session, invoices = _monthly_events(intent, instalments=2)
    steps = [("checkout.session.completed", session)] + [
        ("invoice.paid", inv) for inv in invoices
    ]
    if invoice_first:
        steps = steps[::-1]
    for event_type, obj in steps:
        event, _ = _deliver(post, event_type, obj)
        assert event.status == StripeEvent.Status.DONE, event.error
    state = _state()
    assert len(state["gifts"]) == 2
    assert state["recurring"] == [(session["subscription"], "active", 3000)]
    assert state["intents"] == ["completed"]
    assert state["ledger"] == [3000, 3000]
    assert state["donors"] == 1
    recurring = RecurringGift.objects.get()
    assert recurring.fund == campaign.fund
    assert all(g.stripe_charge_id for g in Gift.objects.all())
    # Redelivery of every event changes nothing.
    for event_type, obj in steps:
        _deliver(post, event_type, obj)
    assert _state() == state


def test_invoice_payment_failed_keeps_plan_and_tells_donor(post, fake_stripe, campaign):
    intent = donation_intent(campaign, frequency="monthly", email="m@example.jp")
    session, (first, second) = _monthly_events(intent, instalments=2)
    _deliver(post, "checkout.session.completed", session)
    _deliver(post, "invoice.paid", first)
    mail.outbox.clear()
    failed = {**second, "status": "open", "amount_paid": 0}
    event, _ = _deliver(post, "invoice.payment_failed", failed)
    assert event.status == StripeEvent.Status.DONE
    recurring = RecurringGift.objects.get()
    assert recurring.status == RecurringGift.Status.PAST_DUE
    assert [m.to for m in mail.outbox] == [["m@example.jp"]]
    # Stripe's automatic retry fails too: the donor is not emailed again.
    _deliver(post, "invoice.payment_failed", {**failed, "attempt_count": 2})
    assert len(mail.outbox) == 1
    # Stripe's retry succeeds: the plan is active again, the gift recorded.
    _deliver(post, "invoice.paid", second)
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.ACTIVE
    assert Gift.objects.count() == 2


def _subscription(intent, session, **kwargs):
    return fs.subscription_obj(
        subscription_id=session["subscription"],
        intent_uuid=str(intent.uuid),
        money=kwargs.pop("money", intent.money),
        **kwargs,
    )


def test_subscription_updated_and_deleted(post, fake_stripe, campaign):
    intent = donation_intent(campaign, frequency="monthly")
    session, _ = _monthly_events(intent)
    _deliver(post, "checkout.session.completed", session)
    newer = _subscription(intent, session, money=Money.yen(5000))
    older = _subscription(intent, session, status="past_due")
    _deliver(post, "customer.subscription.updated", newer, created=2_000_000_000)
    _deliver(post, "customer.subscription.updated", older, created=1_900_000_000)
    recurring = RecurringGift.objects.get()
    assert (recurring.amount, recurring.status) == (5000, "active")  # older skipped
    assert recurring.next_charge_on is not None
    _deliver(
        post,
        "customer.subscription.deleted",
        _subscription(intent, session, status="canceled"),
    )
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED
    assert recurring.cancelled_on is not None
    # A late update does not bring a cancelled plan back.
    _deliver(post, "customer.subscription.updated", newer, created=2_100_000_000)
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED


def test_subscription_deleted_before_checkout_completed(post, fake_stripe, campaign):
    intent = donation_intent(campaign, frequency="monthly")
    session, _ = _monthly_events(intent)
    _deliver(
        post,
        "customer.subscription.deleted",
        _subscription(intent, session, status="canceled"),
    )
    _deliver(post, "checkout.session.completed", session)
    assert RecurringGift.objects.get().status == RecurringGift.Status.CANCELLED


def test_subscription_update_before_setup_waits_then_applies(
    post, fake_stripe, campaign
):
    intent = donation_intent(campaign, frequency="monthly")
    session, _ = _monthly_events(intent)
    update = _subscription(intent, session, money=Money.yen(7000))
    event, _ = _deliver(post, "customer.subscription.updated", update)
    assert event.status == StripeEvent.Status.FAILED
    assert event.waiting_for == f"subscription:{session['subscription']}"
    _deliver(post, "checkout.session.completed", session)
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.DONE
    assert RecurringGift.objects.get().amount == 7000


def _paid_gift(post, campaign, amount=3000, currency="JPY"):
    intent = donation_intent(campaign, amount=amount, currency=currency)
    _deliver(post, "checkout.session.completed", _session(intent))
    return Gift.objects.get(donationintent=None) if False else Gift.objects.latest("pk")


def test_partial_then_full_refund(post, fake_stripe, campaign):
    gift = _paid_gift(post, campaign, amount=10_000)
    charge_id = gift.stripe_charge_id
    fake_stripe.refunds[charge_id] = [fs.refund_obj(charge_id, 4000, refund_id="re_1")]
    charge = fs.charge_obj(Money.yen(10_000), charge_id=charge_id, amount_refunded=4000)
    _deliver(post, "charge.refunded", charge)
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_yen) == ("partially_refunded", 4000)
    assert fund_balance(campaign.fund) == 6000

    fake_stripe.refunds[charge_id].append(
        fs.refund_obj(charge_id, 6000, refund_id="re_2")
    )
    charge = fs.charge_obj(
        Money.yen(10_000), charge_id=charge_id, amount_refunded=10_000
    )
    payload = fs.build_event("charge.refunded", charge)
    post(payload)
    post(payload)  # duplicate
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_yen) == ("refunded", 10_000)
    assert GiftRefund.objects.count() == 2
    assert fund_balance(campaign.fund) == 0
    assert campaign_progress(campaign).raised_yen == 0


def test_usd_refund_uses_refund_balance_transaction(post, fake_stripe, campaign):
    gift = _paid_gift(post, campaign, amount=2000, currency="USD")
    charge_id = gift.stripe_charge_id
    fake_stripe.refunds[charge_id] = [
        fs.refund_obj(charge_id, 1000, currency="usd", yen=1400, refund_id="re_u")
    ]
    charge = fs.charge_obj(
        Money(2000, "USD"), charge_id=charge_id, amount_refunded=1000
    )
    _deliver(post, "charge.refunded", charge)
    gift.refresh_from_db()
    assert gift.refunded_yen == 1400
    assert fund_balance(campaign.fund) == 3000 - 1400


def test_refund_before_gift_waits_and_then_applies(post, fake_stripe, campaign):
    intent = donation_intent(campaign, amount=5000)
    session = _session(intent)
    suffix = intent.uuid.hex[:16]
    charge_id = fs.fake_id("ch", Money.yen(5000), suffix)
    fake_stripe.refunds[charge_id] = [fs.refund_obj(charge_id, 5000, refund_id="re_e")]
    charge = fs.charge_obj(Money.yen(5000), charge_id=charge_id, amount_refunded=5000)
    refund_event, _ = _deliver(post, "charge.refunded", charge)
    assert refund_event.status == StripeEvent.Status.FAILED
    assert refund_event.waiting_for == f"charge:{charge_id}"

    _deliver(post, "checkout.session.completed", session)
    refund_event.refresh_from_db()
    assert refund_event.status == StripeEvent.Status.DONE
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.REFUNDED
    assert fund_balance(campaign.fund) == 0


def test_dispute_won_and_lost(post, fake_stripe, campaign):
    won = _paid_gift(post, campaign, amount=3000)
    dispute = fs.dispute_obj(won.stripe_charge_id, 3000)
    _deliver(post, "charge.dispute.created", dispute)
    won.refresh_from_db()
    assert won.status == Gift.Status.DISPUTED
    _deliver(post, "charge.dispute.closed", {**dispute, "status": "won"})
    won.refresh_from_db()
    assert won.status == Gift.Status.RECEIVED

    lost = _paid_gift(post, campaign, amount=4000)
    dispute = fs.dispute_obj(lost.stripe_charge_id, 4000)
    _deliver(post, "charge.dispute.created", dispute)
    closed = {**dispute, "status": "lost"}
    _deliver(post, "charge.dispute.closed", closed)
    _deliver(post, "charge.dispute.closed", closed)  # a second event, same dispute
    lost.refresh_from_db()
    assert (lost.status, lost.refunded_yen) == ("refunded", 4000)
    assert fund_balance(campaign.fund) == 3000


def test_dispute_closed_before_created_stays_closed(post, fake_stripe, campaign):
    gift = _paid_gift(post, campaign)
    dispute = fs.dispute_obj(gift.stripe_charge_id, 3000)
    _deliver(post, "charge.dispute.closed", {**dispute, "status": "won"}, created=200)
    _deliver(post, "charge.dispute.created", dispute, created=100)
    gift.refresh_from_db()
    assert gift.status == Gift.Status.RECEIVED


def test_failed_event_is_kept_and_can_be_retried(
    post, on_commit, fake_stripe, campaign
):
    intent = donation_intent(campaign)
    fake_stripe.fail_with = 503
    event, _ = _deliver(post, "checkout.session.completed", _session(intent))
    assert event.status == StripeEvent.Status.FAILED
    assert "GatewayError" in event.error
    assert not Gift.objects.exists()

    fake_stripe.fail_with = None
    with on_commit():
        stripe_event_retry(event=event, user=None)
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.DONE
    assert event.attempts == 2
    assert Gift.objects.count() == 1
    # Processing a done event again does nothing.
    stripe_event_process(event_pk=event.pk)
    assert Gift.objects.count() == 1


def test_progress_bar_follows_gifts(post, fake_stripe, campaign):
    assert campaign_progress(campaign).raised_yen == 0  # now cached
    intent = donation_intent(campaign, amount=250_000)
    _deliver(post, "checkout.session.completed", _session(intent))
    progress = campaign_progress(campaign)
    assert (progress.raised_yen, progress.donors, progress.percent) == (250_000, 1, 25)
    assert progress.days_left == 30


def test_gift_with_address_gets_a_numbered_receipt(post, fake_stripe, campaign):
    from donors.receipts.models import Receipt

    intent = donation_intent(
        campaign,
        email="tax@example.jp",
        postal_code="160-0022",
        prefecture="東京都",
        city="新宿区",
        address_line1="新宿9-9-9",
    )
    _deliver(post, "checkout.session.completed", _session(intent))
    gift = Gift.objects.get()
    receipt = Receipt.objects.get(lines__gift=gift)
    assert receipt.number
    assert [m.to for m in mail.outbox] == [["tax@example.jp"]]
    body = mail.outbox[0].body
    assert "not a donation receipt" not in body
    assert "寄附金受領証明書ではありません" not in body


def test_gift_without_address_gets_a_plain_thank_you(post, fake_stripe, campaign):
    from donors.receipts.models import Receipt

    intent = donation_intent(campaign, email="noaddr@example.jp")
    _deliver(post, "checkout.session.completed", _session(intent))
    assert not Receipt.objects.exists()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    # English source or its Japanese translation: a thank-you, not a receipt.
    assert "not a donation receipt" in body or "寄附金受領証明書ではありません" in body
