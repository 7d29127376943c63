"""The Stripe gateway against the local fake: request shapes and settlement."""

import pytest
import stripe

from campaigns import stripe_gateway as gateway
from campaigns.errors import GatewayError
from campaigns.fake_stripe import fake_id
from kyosei.money import Money
from tests.factories.campaigns import signed


def _create(amount: Money, monthly=False):
    return gateway.checkout_session_create(
        intent_uuid="0b7c2f3e-0000-4000-8000-000000000001",
        amount=amount,
        monthly=monthly,
        email="an@example.com",
        product_name="Donation: shelter",
        success_url="https://kyosei.test/donate/thanks/x/",
        cancel_url="https://kyosei.test/campaigns/x/",
    )


def test_one_time_yen_session_is_not_multiplied_by_100(fake_stripe):
    session = _create(Money.yen(3000))
    (request,) = fake_stripe.requests_to("post", "/v1/checkout/sessions")
    p = request.params
    assert p["mode"] == "payment"
    assert p["submit_type"] == "donate"
    assert p["line_items[0][price_data][currency]"] == "jpy"
    assert p["line_items[0][price_data][unit_amount]"] == "3000"
    assert p["line_items[0][quantity]"] == "1"
    assert p["metadata[intent]"] == "0b7c2f3e-0000-4000-8000-000000000001"
    assert p["payment_intent_data[metadata][intent]"] == p["metadata[intent]"]
    assert "customer_creation" not in p and "customer" not in p
    assert "recurring" not in " ".join(p)
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["idempotency-key"] == (
        "kyosei-checkout-0b7c2f3e-0000-4000-8000-000000000001"
    )
    assert session.id.startswith("cs_fake_jpy_3000_")
    assert session.url


def test_usd_is_sent_in_cents(fake_stripe):
    _create(Money.of("12.34", "USD"))
    p = fake_stripe.requests[-1].params
    assert p["line_items[0][price_data][currency]"] == "usd"
    assert p["line_items[0][price_data][unit_amount]"] == "1234"


def test_vnd_is_zero_decimal(fake_stripe):
    _create(Money(150_000, "VND"))
    assert fake_stripe.requests[-1].params[
        "line_items[0][price_data][unit_amount]"
    ] == ("150000")


def test_monthly_session_uses_inline_recurring_price(fake_stripe):
    _create(Money.yen(3000), monthly=True)
    p = fake_stripe.requests[-1].params
    assert p["mode"] == "subscription"
    assert "submit_type" not in p
    assert p["line_items[0][price_data][recurring][interval]"] == "month"
    assert p["line_items[0][price_data][unit_amount]"] == "3000"
    assert p["subscription_data[metadata][intent]"]


def test_payment_intent_settlement_reads_the_balance_transaction(fake_stripe):
    pi = fake_id("pi", Money.of("20.00", "USD"))
    settlement = gateway.payment_intent_settlement(pi)
    assert settlement.amount == Money(2000, "USD")
    assert settlement.amount_yen == 3000  # demo rate ¥150 per dollar
    assert settlement.fee_yen == 108  # 3.6 %
    assert settlement.net_yen == 2892
    assert settlement.charge_id.startswith("ch_fake_usd_2000_")
    request = fake_stripe.requests[-1]
    assert request.method == "get"
    assert request.params["expand[0]"] == "latest_charge.balance_transaction"


def test_invoice_settlement_goes_through_invoice_payments(fake_stripe):
    invoice = fake_id("in", Money.yen(3000))
    settlement = gateway.invoice_settlement(invoice)
    assert settlement.amount == Money.yen(3000)
    assert settlement.fee_yen == 108
    assert fake_stripe.requests[-1].path == "/v1/invoice_payments"
    assert fake_stripe.requests[-1].params["invoice"] == invoice


def test_foreign_charge_without_balance_transaction_is_an_error(fake_stripe):
    pi = "pi_custom"
    fake_stripe.objects[pi] = {
        "id": pi,
        "object": "payment_intent",
        "latest_charge": {
            "id": "ch_custom",
            "object": "charge",
            "amount": 500,
            "currency": "usd",
            "balance_transaction": None,
        },
    }
    with pytest.raises(GatewayError, match="no balance transaction"):
        gateway.payment_intent_settlement(pi)


def test_stripe_outage_is_a_gateway_error(fake_stripe):
    fake_stripe.fail_with = 500
    with pytest.raises(GatewayError):
        _create(Money.yen(3000))


def test_billing_portal_session(fake_stripe):
    url = gateway.billing_portal_session_create(
        customer_id="cus_1", return_url="https://kyosei.test/portal/"
    )
    assert url.startswith("https://")
    assert fake_stripe.requests[-1].params == {
        "customer": "cus_1",
        "return_url": "https://kyosei.test/portal/",
    }


def test_api_base_setting_is_used(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    client = gateway.client()
    assert client._requestor.base_addresses["api"] == "http://127.0.0.1:12111"


def test_webhook_verify_accepts_good_and_refuses_bad_or_stale():
    payload = {
        "id": "evt_1",
        "type": "charge.refunded",
        "created": 1_767_225_600,
        "data": {"object": {}},
    }
    body, header = signed(payload)
    assert gateway.webhook_event_verify(body.encode(), header)["id"] == "evt_1"
    _, wrong = signed(payload, secret="whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        gateway.webhook_event_verify(body.encode(), wrong)
    _, stale = signed(payload, timestamp=1_000_000_000)
    with pytest.raises(stripe.SignatureVerificationError):
        gateway.webhook_event_verify(body.encode(), stale)
    with pytest.raises(stripe.SignatureVerificationError):
        gateway.webhook_event_verify(body.encode(), None)
