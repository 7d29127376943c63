"""The donate form, checkout start, rate limits, thank-you page and demo mode."""

import pytest
from django.core import mail

from campaigns.models import DonationIntent, StripeEvent
from campaigns.services import checkout
from donors.models import Gift, RecurringGift
from grants.selectors import fund_balance

pytestmark = pytest.mark.django_db

FORM = {
    "preset": "5000",
    "amount": "",
    "currency": "JPY",
    "frequency": "once",
    "family_name": "山田",
    "given_name": "花子",
    "email": "hanako@example.jp",
    "country": "JP",
    "postal_code": "1600022",
    "prefecture": "東京都",
    "city": "新宿区",
    "address_line1": "新宿9-9-9",
    "consent_updates": "on",
    "website": "",
}


def _donate(client, campaign, **changes):
    return client.post(campaign.url, {**FORM, **changes}, REMOTE_ADDR="198.51.100.7")


def test_campaign_page_shows_progress_and_form(client, campaign):
    response = client.get(campaign.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="progress"' in html
    assert 'name="website"' in html  # honeypot
    assert "寄附金受領証明書" in html  # why we ask for the address


def test_donation_opens_a_checkout_session(client, fake_stripe, campaign):
    response = _donate(client, campaign)
    assert response.status_code == 303
    intent = DonationIntent.objects.get()
    assert response["Location"] == intent.checkout_url
    assert intent.checkout_url.startswith("https://checkout.stripe.test/")
    assert (intent.amount, intent.currency, intent.frequency) == (5000, "JPY", "once")
    assert intent.status == DonationIntent.Status.PENDING
    assert intent.postal_code == "160-0022"
    request = fake_stripe.requests_to("post", "/v1/checkout/sessions")[0]
    assert request.params["line_items[0][price_data][unit_amount]"] == "5000"
    assert request.params["success_url"].endswith(f"/donate/thanks/{intent.uuid}/")
    assert request.params["customer_email"] == "hanako@example.jp"
    assert not Gift.objects.exists()  # the form never records money


def test_own_amount_in_usd_with_fees_covered(client, fake_stripe, campaign):
    response = _donate(
        client, campaign, amount="25.00", currency="USD", cover_fees="on"
    )
    assert response.status_code == 303
    intent = DonationIntent.objects.get()
    # US$25.00 + 3.6 % (US$0.90) = US$25.90, sent as 2590 cents.
    assert (intent.amount, intent.fee_cover) == (2590, 90)
    params = fake_stripe.requests[-1].params
    assert params["line_items[0][price_data][unit_amount]"] == "2590"


@pytest.mark.parametrize(
    "amount,currency",
    [
        ("499", "JPY"),
        ("4.99", "USD"),
        ("1000001", "JPY"),
        ("99999", "VND"),
        ("1.5", "JPY"),
    ],
)
def test_amount_outside_limits_is_refused(
    client, fake_stripe, campaign, amount, currency
):
    response = _donate(client, campaign, amount=amount, currency=currency)
    assert response.status_code == 400
    assert not DonationIntent.objects.exists()
    assert not fake_stripe.requests


def test_minimums_per_currency():
    assert checkout.donation_limits("JPY").minimum.amount == 500
    assert checkout.donation_limits("USD").minimum.amount == 500  # US$5.00


def test_honeypot_creates_nothing(client, fake_stripe, campaign):
    response = _donate(client, campaign, website="http://spam.example")
    assert response.status_code == 302
    assert not DonationIntent.objects.exists()
    assert not fake_stripe.requests


def test_rate_limit_per_email_and_ip(client, fake_stripe, campaign):
    for _ in range(checkout.RATE_PER_EMAIL):
        assert _donate(client, campaign).status_code == 303
    response = _donate(client, campaign)
    assert response.status_code == 400
    assert (
        "Too many" in response.content.decode() or "多すぎ" in response.content.decode()
    )
    assert DonationIntent.objects.count() == checkout.RATE_PER_EMAIL
    # Other emails from the same IP run into the IP limit.
    for n in range(checkout.RATE_PER_IP - checkout.RATE_PER_EMAIL - 1):
        assert _donate(client, campaign, email=f"x{n}@example.jp").status_code == 303
    assert _donate(client, campaign, email="last@example.jp").status_code == 400


def test_stripe_outage_fails_the_intent_with_a_message(client, fake_stripe, campaign):
    fake_stripe.fail_with = 500
    response = _donate(client, campaign)
    assert response.status_code == 400
    assert DonationIntent.objects.get().status == DonationIntent.Status.FAILED


def test_thanks_page_is_honest_about_state(client, fake_stripe, campaign):
    _donate(client, campaign)
    intent = DonationIntent.objects.get()
    response = client.get(f"/donate/thanks/{intent.uuid}/")
    assert response.status_code == 200
    assert 'data-state="pending"' in response.content.decode()
    assert 'http-equiv="refresh"' in response.content.decode()
    assert not Gift.objects.exists()


def test_demo_mode_checkout_end_to_end(client, settings, on_commit, campaign):
    settings.STRIPE_SECRET_KEY = ""
    settings.KYOSEI_DEMO = True
    response = _donate(client, campaign, preset="", amount="3000", frequency="monthly")
    assert response.status_code == 303
    intent = DonationIntent.objects.get()
    assert response["Location"].endswith(f"/donate/demo-checkout/{intent.uuid}/")

    page = client.get(f"/donate/demo-checkout/{intent.uuid}/")
    assert "SIMULATED" in page.content.decode() or "デモ" in page.content.decode()
    with on_commit():
        response = client.post(
            f"/donate/demo-checkout/{intent.uuid}/", {"action": "pay"}
        )
    assert response.status_code == 302
    intent.refresh_from_db()
    assert intent.status == DonationIntent.Status.COMPLETED
    gift = Gift.objects.get()
    assert (gift.amount, gift.amount_yen, gift.fee_yen) == (3000, 3000, 108)
    assert RecurringGift.objects.get().status == RecurringGift.Status.ACTIVE
    assert fund_balance(campaign.fund) == 3000
    assert StripeEvent.objects.filter(simulated=True).count() == 2
    assert len(mail.outbox) == 1
    thanks = client.get(response["Location"]).content.decode()
    assert 'data-state="completed"' in thanks
    page = client.get(campaign.url).content.decode()
    assert "¥3,000" in page

    # Paying again sends the same events: nothing more is recorded.
    with on_commit():
        client.post(f"/donate/demo-checkout/{intent.uuid}/", {"action": "pay"})
    assert Gift.objects.count() == 1


def test_demo_checkout_is_404_outside_demo_mode(client, fake_stripe, campaign):
    _donate(client, campaign)
    intent = DonationIntent.objects.get()
    assert client.get(f"/donate/demo-checkout/{intent.uuid}/").status_code == 404
