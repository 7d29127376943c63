"""Donors manage their own monthly gifts: amount, card, cancel (through Stripe)."""

import pytest

from campaigns import fake_stripe as fs
from campaigns.models import StripeEvent
from donors.models import RecurringGift
from tests.factories.campaigns import donation_intent
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly(post, fake_stripe, campaign):
    intent = donation_intent(campaign, frequency="monthly", amount=3000)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        mode="subscription",
        suffix=intent.uuid.hex[:16],
    )
    post(fs.build_event("checkout.session.completed", session))
    recurring = RecurringGift.objects.get()
    user = UserFactory()
    recurring.donor.user = user
    recurring.donor.save(update_fields=["user"])
    return recurring, user, session


def _url(recurring):
    return f"/donate/monthly/{recurring.pk}/"


def test_only_the_donor_may_open_it(client, monthly):
    recurring, user, _ = monthly
    assert client.get(_url(recurring)).status_code == 302  # login first
    client.force_login(UserFactory())
    assert client.get(_url(recurring)).status_code == 404
    client.force_login(user)
    assert client.get(_url(recurring)).status_code == 200


def test_change_amount_updates_stripe_and_the_plan(client, fake_stripe, monthly):
    recurring, user, session = monthly
    client.force_login(user)
    response = client.post(_url(recurring), {"action": "amount", "amount": "5000"})
    assert response.status_code == 302
    update = fake_stripe.requests_to(
        "post", f"/v1/subscriptions/{session['subscription']}"
    )
    assert update[0].params["items[0][price_data][unit_amount]"] == "5000"
    assert update[0].params["items[0][price_data][product]"] == "prod_fake_donation"
    assert update[0].params["proration_behavior"] == "none"
    recurring.refresh_from_db()
    assert recurring.amount == 5000
    response = client.post(_url(recurring), {"action": "amount", "amount": "100"})
    assert response.status_code == 400  # below the ¥500 floor


def test_update_card_goes_to_the_billing_portal(client, fake_stripe, monthly):
    recurring, user, session = monthly
    client.force_login(user)
    response = client.post(_url(recurring), {"action": "card"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://billing.stripe.test/")
    request = fake_stripe.requests_to("post", "/v1/billing_portal/sessions")[0]
    assert request.params["customer"] == session["customer"]


def test_cancel_then_the_deleted_webhook_changes_nothing(
    client, post, fake_stripe, monthly
):
    recurring, user, session = monthly
    client.force_login(user)
    assert client.post(_url(recurring), {"action": "cancel"}).status_code == 302
    assert fake_stripe.requests_to(
        "delete", f"/v1/subscriptions/{session['subscription']}"
    )
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED
    sub = fs.subscription_obj(
        subscription_id=session["subscription"],
        intent_uuid="",
        money=recurring.money,
        status="canceled",
    )
    post(fs.build_event("customer.subscription.deleted", sub))
    assert (
        StripeEvent.objects.get(type="customer.subscription.deleted").status == "done"
    )
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED
