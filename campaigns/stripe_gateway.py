"""The only module that talks to Stripe.

Configured by ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET`` and
``STRIPE_API_BASE`` (to point at a local fake). With ``KYOSEI_DEMO=1`` and no key,
it talks to the in-process fake (``campaigns.fake_stripe``) instead, so the demo
runs the same code offline. Amounts cross this boundary only as ``Money`` and are
converted with ``kyosei.money.to_stripe_amount`` / ``from_stripe_amount``.

Never call these functions inside a database transaction: they do network I/O.
Every failure surfaces as ``GatewayError`` (or ``SignatureVerificationError`` for
``webhook_event_verify``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from campaigns.errors import GatewayError, MalformedEvent
from kyosei.money import Money, from_stripe_amount, to_stripe_amount

#: Webhooks older than this (seconds) are refused as stale (replay defence).
WEBHOOK_TOLERANCE = 300

_demo_client: stripe.StripeClient | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class Settlement:
    """What Stripe settled for one payment, in yen, from its balance transaction."""

    charge_id: str
    amount: Money  # what the donor paid, in their currency
    amount_yen: int  # gross settled yen
    fee_yen: int
    net_yen: int
    paid_on: dt.date


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount: Money  # in the charge currency
    amount_yen: int | None  # from the refund's balance transaction, when known
    created: int


def is_demo() -> bool:
    """Demo without keys: the gateway talks to the in-process fake."""
    return bool(settings.KYOSEI_DEMO and not settings.STRIPE_SECRET_KEY)


def is_available() -> bool:
    return bool(settings.STRIPE_SECRET_KEY) or is_demo()


def client() -> stripe.StripeClient:
    if _override is not None:
        return _override
    if settings.STRIPE_SECRET_KEY:
        base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2
        )
    if is_demo():
        return _demo()
    raise GatewayError("Stripe is not configured (set STRIPE_SECRET_KEY).")


def _demo() -> stripe.StripeClient:
    global _demo_client
    with _lock:
        if _demo_client is None:
            from campaigns.fake_stripe import FakeStripeHTTPClient

            _demo_client = stripe.StripeClient(
                "sk_test_kyosei_demo", http_client=FakeStripeHTTPClient()
            )
        return _demo_client


_override: stripe.StripeClient | None = None


@contextmanager
def using_client(stripe_client: stripe.StripeClient) -> Iterator[None]:
    """Route every call (from any thread) to ``stripe_client`` (tests, benchmark)."""
    global _override
    previous = _override
    _override = stripe_client
    try:
        yield
    finally:
        _override = previous


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        raise GatewayError(f"Stripe: {exc.user_message or exc}") from exc


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


# -- Checkout ----------------------------------------------------------------------


def checkout_session_create(
    *,
    intent_uuid: str,
    amount: Money,
    monthly: bool,
    email: str,
    product_name: str,
    success_url: str,
    cancel_url: str,
    locale: str = "auto",
) -> CheckoutSession:
    """Create a Checkout Session for a donation of ``amount``.

    One-time: ``mode=payment`` with ``submit_type=donate`` and no Customer created
    (card-testing defence). Monthly: ``mode=subscription`` with inline
    ``price_data`` and ``recurring``. The idempotency key is derived from the
    intent, so a retried request can never open two sessions for one intent.
    """
    price_data: dict[str, Any] = {
        "currency": amount.currency.lower(),
        "unit_amount": to_stripe_amount(amount),
        "product_data": {"name": product_name[:250]},
    }
    metadata = {"intent": intent_uuid}
    params: dict[str, Any] = {
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "customer_email": email,
        "client_reference_id": intent_uuid,
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": locale,
    }
    if monthly:
        price_data["recurring"] = {"interval": "month"}
        params["mode"] = "subscription"
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["mode"] = "payment"
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": metadata}
    session = _call(
        client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": f"kyosei-checkout-{intent_uuid}"},
    )
    return CheckoutSession(id=session.id, url=session.url or "")


def billing_portal_session_create(*, customer_id: str, return_url: str) -> str:
    """URL of a Stripe billing portal session (the donor updates their card)."""
    session = _call(
        client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
    )
    return session.url


# -- Settlement --------------------------------------------------------------------


def _settlement(charge: Any) -> Settlement:
    amount = from_stripe_amount(int(charge["amount"]), charge["currency"])
    bt = _get(charge, "balance_transaction")
    if isinstance(bt, str) and bt:
        bt = balance_transaction_retrieve(bt)
    if not bt:
        if amount.currency != "JPY":
            raise GatewayError(
                f"Charge {charge['id']} has no balance transaction yet; "
                "the settled yen is not known."
            )
        # A yen charge settles in yen; the fee arrives with the balance transaction.
        return Settlement(
            charge["id"], amount, amount.amount, 0, amount.amount, _date(charge)
        )
    gross = from_stripe_amount(int(bt["amount"]), bt["currency"])
    fee = from_stripe_amount(int(bt["fee"]), bt["currency"])
    net = from_stripe_amount(int(bt["net"]), bt["currency"])
    if gross.currency != "JPY":
        raise GatewayError(
            f"Balance transaction {bt['id']} settled in {gross.currency}, not JPY."
        )
    return Settlement(
        charge_id=charge["id"],
        amount=amount,
        amount_yen=gross.amount,
        fee_yen=fee.amount,
        net_yen=net.amount,
        paid_on=_date(charge),
    )


def _date(obj: Any) -> dt.date:
    created = _get(obj, "created")
    if not created:
        return timezone.localdate()
    moment = dt.datetime.fromtimestamp(int(created), tz=dt.UTC)
    return min(timezone.localdate(moment), timezone.localdate())


def payment_intent_settlement(payment_intent_id: str) -> Settlement:
    """The charge and settled yen of a one-time payment."""
    pi = _call(
        client().v1.payment_intents.retrieve,
        payment_intent_id,
        params={"expand": ["latest_charge.balance_transaction"]},
    )
    charge = _get(pi, "latest_charge")
    if isinstance(charge, str):
        charge = _call(
            client().v1.charges.retrieve,
            charge,
            params={"expand": ["balance_transaction"]},
        )
    if not charge:
        raise GatewayError(f"PaymentIntent {payment_intent_id} has no charge yet.")
    return _settlement(charge)


def invoice_settlement(invoice_id: str) -> Settlement:
    """The charge and settled yen of a paid subscription invoice.

    On this API version an invoice has no ``charge``; its payments are listed
    through the invoice payments endpoint.
    """
    payments = _call(
        client().v1.invoice_payments.list,
        params={
            "invoice": invoice_id,
            "expand": ["data.payment.payment_intent.latest_charge.balance_transaction"],
        },
    )
    for payment in payments.data:
        if _get(payment, "status") not in (None, "paid"):
            continue
        detail = _get(payment, "payment", {})
        pi = _get(detail, "payment_intent")
        if isinstance(pi, str):
            return payment_intent_settlement(pi)
        charge = _get(pi, "latest_charge") if pi else _get(detail, "charge")
        if isinstance(charge, str):
            charge = _call(
                client().v1.charges.retrieve,
                charge,
                params={"expand": ["balance_transaction"]},
            )
        if charge:
            return _settlement(charge)
    raise GatewayError(f"Invoice {invoice_id} has no paid payment yet.")


def balance_transaction_retrieve(txn_id: str) -> Any:
    return _call(client().v1.balance_transactions.retrieve, txn_id)


def charge_refunds(charge_id: str) -> list[RefundInfo]:
    """Every refund of a charge, oldest first, with the yen refunded when known."""
    refunds = _call(
        client().v1.refunds.list,
        params={
            "charge": charge_id,
            "limit": 100,
            "expand": ["data.balance_transaction"],
        },
    )
    out = []
    for refund in refunds.data:
        if _get(refund, "status") in ("failed", "canceled"):
            continue
        currency = _get(refund, "currency") or "jpy"
        bt = _get(refund, "balance_transaction")
        yen = None
        if bt and not isinstance(bt, str) and str(bt["currency"]).upper() == "JPY":
            yen = -from_stripe_amount(int(bt["amount"]), bt["currency"]).amount
        out.append(
            RefundInfo(
                id=refund["id"],
                amount=from_stripe_amount(int(refund["amount"]), currency),
                amount_yen=yen,
                created=int(_get(refund, "created", 0)),
            )
        )
    return sorted(out, key=lambda r: (r.created, r.id))


# -- Reconciliation ----------------------------------------------------------------


def charges_list_recent(
    *, since: dt.datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """Succeeded charges created since ``since`` (first page; enough for a day)."""
    page = _call(
        client().v1.charges.list,
        params={"created": {"gte": int(since.timestamp())}, "limit": limit},
    )
    return [c.to_dict() for c in page.data if _get(c, "status") == "succeeded"]


def events_list_recent(
    *, since: dt.datetime, types: list[str], limit: int = 1000
) -> list[dict[str, Any]]:
    """Events of ``types`` created since ``since`` (Stripe keeps 30 days), newest
    first, as plain dicts shaped like the webhook's payloads; at most ``limit``."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(types), 20):  # Stripe takes up to 20 types a call
        page = _call(
            client().v1.events.list,
            params={
                "created": {"gte": int(since.timestamp())},
                "types": types[start : start + 20],
                "limit": 100,
            },
        )
        try:
            for event in page.auto_paging_iter():
                out.append(event.to_dict())
                if len(out) >= limit:
                    return out
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe: {exc.user_message or exc}") from exc
    return out


def invoices_list_recent(*, since: dt.datetime, limit: int = 100) -> list[Any]:
    page = _call(
        client().v1.invoices.list,
        params={
            "created": {"gte": int(since.timestamp())},
            "status": "paid",
            "limit": limit,
        },
    )
    return list(page.data)


def subscription_cancel(subscription_id: str) -> None:
    """Cancel at once (the donor asked to stop); Stripe then sends .deleted."""
    _call(client().v1.subscriptions.cancel, subscription_id)


def subscription_amount_change(subscription_id: str, amount: Money) -> None:
    """Change the monthly amount from the next invoice on, without proration."""
    subscription = _call(client().v1.subscriptions.retrieve, subscription_id)
    item = subscription["items"]["data"][0]
    product = item["price"]["product"]
    if not isinstance(product, str):
        product = product["id"]
    _call(
        client().v1.subscriptions.update,
        subscription_id,
        params={
            "items": [
                {
                    "id": item["id"],
                    "price_data": {
                        "currency": amount.currency.lower(),
                        "unit_amount": to_stripe_amount(amount),
                        "product": product,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
        },
        options={
            "idempotency_key": (
                f"kyosei-amount-{subscription_id}-{amount.currency}-{amount.amount}"
            )
        },
    )


# -- Webhooks ----------------------------------------------------------------------


#: Largest webhook body accepted. Stripe's events are a few kilobytes; the
#: biggest (an invoice with many lines) stay far below this.
WEBHOOK_MAX_BYTES = 256 * 1024
#: Deepest nesting of objects and lists in an event (Stripe's stay near 10).
WEBHOOK_MAX_DEPTH = 32
#: Latest ``created`` accepted (2100-01-01): any later is not a real event.
WEBHOOK_MAX_CREATED = 4_102_444_800
_EVENT_ID = re.compile(r"[A-Za-z0-9_]{1,100}")
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_.]{1,100}")
_INT_RANGE = 2**63  # amounts and timestamps must fit the database's bigint


def webhook_event_verify(payload: bytes, sig_header: str | None) -> dict[str, Any]:
    """Check the ``Stripe-Signature`` of the raw body and return the event as JSON.

    Raises ``stripe.SignatureVerificationError`` when the signature is missing,
    wrong, or older than ``WEBHOOK_TOLERANCE`` seconds, and ``MalformedEvent``
    (a ``ValueError``) naming the problem when the body is not an event that can
    be stored (see :func:`webhook_event_check`).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError(
            "STRIPE_WEBHOOK_SECRET is not set; refusing unverifiable webhooks.",
            sig_header,
        )
    if len(payload) > WEBHOOK_MAX_BYTES:
        raise MalformedEvent(f"payload larger than {WEBHOOK_MAX_BYTES} bytes")
    if sig_header is not None and not sig_header.isascii():
        # hmac.compare_digest refuses non-ASCII text: no signature has it.
        raise stripe.SignatureVerificationError(
            "Malformed signature header", sig_header
        )
    try:
        stripe.WebhookSignature.verify_header(
            payload, sig_header, secret, tolerance=WEBHOOK_TOLERANCE
        )
    except UnicodeDecodeError:
        raise MalformedEvent("payload is not UTF-8") from None
    try:
        event = json.loads(payload, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedEvent("payload nested too deeply") from None
    except MalformedEvent:
        raise
    except ValueError:  # not JSON, not UTF-8, an integer of thousands of digits
        raise MalformedEvent("payload is not JSON") from None
    webhook_event_check(event)
    return event


def _no_constant(name: str) -> Any:
    raise MalformedEvent(f"payload holds {name}, which JSON does not have")


def webhook_event_check(event: Any) -> None:
    """Refuse (``MalformedEvent``) anything but a Stripe event envelope Kyosei
    can store and process: a JSON object with ``id`` (a Stripe id), ``type``,
    ``created`` (a Unix time), ``data.object`` (an object), ``api_version`` (a
    string, if present) and ``livemode`` (a boolean, if present); no deeper than
    ``WEBHOOK_MAX_DEPTH``; no text the database cannot store (NUL, lone
    surrogates) and no number it cannot (non-finite, beyond 64 bits)."""
    if not isinstance(event, dict):
        raise MalformedEvent("the event is not a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise MalformedEvent("id is not a Stripe event id")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise MalformedEvent("type is not an event type")
    if event.get("object", "event") != "event":
        raise MalformedEvent('object is not "event"')
    created = event.get("created")
    if (
        not isinstance(created, int)
        or isinstance(created, bool)
        or not 0 < created <= WEBHOOK_MAX_CREATED
    ):
        raise MalformedEvent("created is not a Unix time")
    if event.get("api_version") is not None and not isinstance(
        event["api_version"], str
    ):
        raise MalformedEvent("api_version is not a string")
    if "livemode" in event and not isinstance(event["livemode"], bool):
        raise MalformedEvent("livemode is not a boolean")
    data = event.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("data is not an object")
    if not isinstance(data.get("object"), dict):
        raise MalformedEvent("data.object is not an object")
    if data.get("previous_attributes") is not None and not isinstance(
        data["previous_attributes"], dict
    ):
        raise MalformedEvent("data.previous_attributes is not an object")
    _check_values(event)


def _check_values(event: dict[str, Any]) -> None:
    stack: list[tuple[Any, int]] = [(event, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > WEBHOOK_MAX_DEPTH:
                raise MalformedEvent(f"nested deeper than {WEBHOOK_MAX_DEPTH}")
            if isinstance(value, dict):
                for key in value:
                    _check_text(key)
                stack.extend((v, depth + 1) for v in value.values())
            else:
                stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            _check_text(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise MalformedEvent("a number is not finite")
        elif isinstance(value, int) and not -_INT_RANGE < value < _INT_RANGE:
            raise MalformedEvent("a number is out of range")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise MalformedEvent("text holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedEvent("text holds a lone surrogate") from None
