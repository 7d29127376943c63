"""An in-process fake of the few Stripe API endpoints Kyosei calls.

Used by the tests (it records every request so they can check its shape) and by
demo mode without keys (``KYOSEI_DEMO=1``, no ``STRIPE_SECRET_KEY``): the gateway
then talks to this fake instead of api.stripe.com, so the code path is the same.

It plugs into ``stripe.StripeClient(http_client=FakeStripeHTTPClient())`` and answers
with Stripe-shaped JSON. It is stateless by design: ids carry the amount and
currency (``pi_fake_jpy_3000_<hex>``), so a retrieve after a restart still answers
the same. Tests may put objects in ``objects`` (by id) or lists in ``refunds``,
``charges`` and ``invoices`` to shape other answers. Settlement uses fixed demo
exchange rates and a 3.6 % fee; nothing here is real money.

Also builds Stripe-shaped events (``build_event``) for the demo checkout and the
tests.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from kyosei.money import Money, from_stripe_amount, to_stripe_amount

API_VERSION = stripe.api_version
#: Demo exchange rates: yen per major unit as (numerator, denominator), integers.
DEMO_RATES: dict[str, tuple[int, int]] = {
    "JPY": (1, 1),
    "USD": (150, 1),
    "EUR": (160, 1),
    "AUD": (100, 1),
    "GBP": (190, 1),
    "VND": (6, 1000),
    "PHP": (26, 10),
}
DEMO_FEE_PERCENT = Decimal("3.6")


def demo_settle(money: Money) -> tuple[int, int]:
    """(settled yen, fee yen) for ``money`` at the demo rate and fee."""
    num, den = DEMO_RATES[money.currency]
    yen = money.amount * num // (den * 10**money.exponent)
    yen = max(yen, 1)
    fee = Money.yen(yen).percent(DEMO_FEE_PERCENT, rounding=ROUND_HALF_UP).amount
    return yen, fee


def new_hex() -> str:
    return secrets.token_hex(8)


def fake_id(prefix: str, money: Money, suffix: str | None = None) -> str:
    """``pi_fake_jpy_3000_<hex>``: the fake can answer for it after a restart."""
    return (
        f"{prefix}_fake_{money.currency.lower()}_{to_stripe_amount(money)}_"
        f"{suffix or new_hex()}"
    )


def parse_fake_id(object_id: str) -> tuple[Money, str] | None:
    parts = object_id.split("_")
    if len(parts) < 5 or parts[1] != "fake" or not parts[3].isdigit():
        return None
    return from_stripe_amount(int(parts[3]), parts[2]), "_".join(parts[4:])


@dataclass
class FakeRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripeHTTPClient(stripe.HTTPClient):
    """``stripe.HTTPClient`` that answers from memory and records requests."""

    name = "kyosei-fake-stripe"
    requests: list[FakeRequest] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    charges: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    #: What ``GET /v1/events`` lists (tests put "missed" events here).
    events: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None

    def __post_init__(self) -> None:
        stripe.HTTPClient.__init__(self)
        self._lock = threading.Lock()

    # -- stripe.HTTPClient ----------------------------------------------------------

    def request(self, method, url, headers, post_data=None, **_kwargs):
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else post_data
        params = dict(parse_qsl(body or parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(
                FakeRequest(method.lower(), parts.path, params, dict(headers or {}))
            )
        if self.fail_with:
            error = {"error": {"type": "api_error", "message": "fake outage"}}
            return json.dumps(error), self.fail_with, {}
        status, payload = self._route(method.lower(), parts.path, params)
        return json.dumps(payload), status, {"request-id": "req_fake"}

    def request_stream(self, *args, **kwargs):  # pragma: no cover - not used
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- routing ----------------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict[str, str]):
        segments = path.strip("/").split("/")[1:]  # drop "v1"
        if method == "post" and segments == ["checkout", "sessions"]:
            return 200, self._create_session(params)
        if method == "post" and segments == ["billing_portal", "sessions"]:
            return 200, {
                "id": "bps_fake_" + new_hex(),
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "return_url": params.get("return_url"),
                "url": "https://billing.stripe.test/session/" + new_hex(),
            }
        if len(segments) == 2 and segments[0] == "subscriptions":
            return self._subscription(method, segments[1], params)
        if method == "get" and len(segments) == 2:
            kind, object_id = segments
            if object_id in self.objects:
                return 200, self.objects[object_id]
            built = self._build(kind, object_id)
            if built is not None:
                return 200, built
        if method == "get" and segments == ["refunds"]:
            data = self.refunds.get(params.get("charge", ""), [])
            return 200, _list(data, "/v1/refunds")
        if method == "get" and segments == ["charges"]:
            return 200, _list(self.charges, "/v1/charges")
        if method == "get" and segments == ["events"]:
            return 200, self._events(params)
        if method == "get" and segments == ["invoices"]:
            return 200, _list(self.invoices, "/v1/invoices")
        if method == "get" and segments == ["invoice_payments"]:
            invoice = params.get("invoice", "")
            parsed = parse_fake_id(invoice)
            if invoice in self.objects or parsed is None:
                return 200, _list([], "/v1/invoice_payments")
            money, suffix = parsed
            pi = self._payment_intent(fake_id("pi", money, suffix))
            payment = {
                "id": "inpay_fake_" + suffix,
                "object": "invoice_payment",
                "invoice": invoice,
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": pi},
            }
            return 200, _list([payment], "/v1/invoice_payments")
        error = {
            "error": {
                "type": "invalid_request_error",
                "message": f"No such object: {path}",
            }
        }
        return 404, error

    def _events(self, params: dict[str, str]) -> dict[str, Any]:
        types = {v for k, v in params.items() if k.startswith("types[")}
        since = int(params.get("created[gte]", "0") or 0)
        data = [
            e
            for e in self.events
            if (not types or e["type"] in types) and int(e.get("created", 0)) >= since
        ]
        data.sort(key=lambda e: -int(e.get("created", 0)))
        after = params.get("starting_after")
        if after:
            ids = [e["id"] for e in data]
            data = data[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit", "10") or 10)
        page = _list(data[:limit], "/v1/events")
        page["has_more"] = len(data) > limit
        return page

    def _subscription(self, method: str, sub_id: str, params: dict[str, str]):
        current = self.objects.get(sub_id)
        if current is None:
            parsed = parse_fake_id(sub_id)
            if parsed is None:
                error = {
                    "error": {"type": "invalid_request_error", "message": "No such"}
                }
                return 404, error
            current = subscription_obj(
                subscription_id=sub_id, intent_uuid="", money=parsed[0]
            )
        current = json.loads(json.dumps(current))
        if method == "delete":
            current["status"] = "canceled"
        elif method == "post":
            unit = params.get("items[0][price_data][unit_amount]")
            if unit is not None:
                price = current["items"]["data"][0]["price"]
                price["unit_amount"] = int(unit)
                price["currency"] = params.get(
                    "items[0][price_data][currency]", price["currency"]
                )
        self.objects[sub_id] = current
        return 200, current

    def _create_session(self, params: dict[str, str]) -> dict[str, Any]:
        mode = params.get("mode", "payment")
        currency = params.get("line_items[0][price_data][currency]", "jpy")
        unit = int(params.get("line_items[0][price_data][unit_amount]", "0"))
        money = from_stripe_amount(unit, currency)
        session_id = fake_id("cs", money)
        return {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": unit,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": _metadata(params, "metadata"),
            "url": "https://checkout.stripe.test/c/pay/" + session_id,
        }

    def _build(self, kind: str, object_id: str) -> dict[str, Any] | None:
        parsed = parse_fake_id(object_id)
        if parsed is None:
            return None
        if kind == "payment_intents":
            return self._payment_intent(object_id)
        if kind == "balance_transactions":
            return balance_transaction_obj(parsed[0], object_id)
        if kind == "charges":
            return charge_obj(parsed[0], charge_id=object_id)
        return None

    def _payment_intent(self, pi_id: str) -> dict[str, Any]:
        money, suffix = parse_fake_id(pi_id)  # type: ignore[misc]
        charge = charge_obj(
            money,
            charge_id=fake_id("ch", money, suffix),
            payment_intent=pi_id,
            expand_balance=True,
        )
        return {
            "id": pi_id,
            "object": "payment_intent",
            "amount": to_stripe_amount(money),
            "currency": money.currency.lower(),
            "status": "succeeded",
            "latest_charge": charge,
        }

    def requests_to(self, method: str, path: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]


def _list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _metadata(params: dict[str, str], prefix: str) -> dict[str, str]:
    start = prefix + "["
    return {k[len(start) : -1]: v for k, v in params.items() if k.startswith(start)}


# -- Stripe-shaped objects ---------------------------------------------------------


def balance_transaction_obj(money: Money, txn_id: str | None = None) -> dict:
    yen, fee = demo_settle(money)
    return {
        "id": txn_id or fake_id("txn", money),
        "object": "balance_transaction",
        "amount": yen,
        "currency": "jpy",
        "fee": fee,
        "net": yen - fee,
        "status": "available",
        "created": int(time.time()),
    }


def charge_obj(
    money: Money,
    *,
    charge_id: str | None = None,
    payment_intent: str | None = None,
    invoice: str | None = None,
    amount_refunded: int = 0,
    expand_balance: bool = False,
) -> dict[str, Any]:
    charge_id = charge_id or fake_id("ch", money)
    suffix = charge_id.split("_", 4)[-1]
    txn_id = fake_id("txn", money, suffix)
    amount = to_stripe_amount(money)
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "currency": money.currency.lower(),
        "paid": True,
        "status": "succeeded",
        "refunded": amount_refunded >= amount,
        "payment_intent": payment_intent,
        "invoice": invoice,
        "created": int(time.time()),
        "balance_transaction": (
            balance_transaction_obj(money, txn_id) if expand_balance else txn_id
        ),
    }


def refund_obj(
    charge_id: str,
    amount: int,
    *,
    currency: str = "jpy",
    yen: int | None = None,
    refund_id: str = "",
) -> dict:
    """A refund of ``amount`` (Stripe integer in the charge currency)."""
    refund_id = refund_id or "re_fake_" + new_hex()
    bt = None
    if yen is not None:
        bt = {
            "id": "txn_" + refund_id,
            "object": "balance_transaction",
            "amount": -yen,
            "currency": "jpy",
            "fee": 0,
            "net": -yen,
        }
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": currency,
        "charge": charge_id,
        "status": "succeeded",
        "created": int(time.time()),
        "balance_transaction": bt,
    }


def checkout_session_obj(
    *,
    session_id: str,
    intent_uuid: str,
    money: Money,
    mode: str = "payment",
    payment_status: str = "paid",
    status: str = "complete",
    suffix: str | None = None,
    email: str = "",
) -> dict[str, Any]:
    suffix = suffix or new_hex()
    obj: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "mode": mode,
        "status": status,
        "payment_status": payment_status,
        "amount_total": to_stripe_amount(money),
        "currency": money.currency.lower(),
        "client_reference_id": intent_uuid,
        "customer_details": {"email": email} if email else None,
        "metadata": {"intent": intent_uuid},
        "payment_intent": None,
        "subscription": None,
        "customer": None,
    }
    if mode == "payment":
        obj["payment_intent"] = fake_id("pi", money, suffix)
    else:
        obj["subscription"] = fake_id("sub", money, suffix)
        obj["customer"] = "cus_fake_" + suffix
    return obj


def invoice_obj(
    *,
    subscription_id: str,
    intent_uuid: str,
    money: Money,
    number: int = 1,
    status: str = "paid",
    customer: str = "",
) -> dict[str, Any]:
    suffix = subscription_id.split("_", 4)[-1]
    invoice_id = fake_id("in", money, f"{suffix}{number}")
    return {
        "id": invoice_id,
        "object": "invoice",
        "status": status,
        "amount_paid": to_stripe_amount(money) if status == "paid" else 0,
        "amount_due": to_stripe_amount(money),
        "currency": money.currency.lower(),
        "customer": customer or "cus_fake_" + suffix,
        "billing_reason": "subscription_create"
        if number == 1
        else "subscription_cycle",
        "attempt_count": 1,
        "next_payment_attempt": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": subscription_id,
                "metadata": {"intent": intent_uuid},
            },
        },
    }


def subscription_obj(
    *,
    subscription_id: str,
    intent_uuid: str,
    money: Money,
    status: str = "active",
    customer: str = "",
) -> dict[str, Any]:
    return {
        "id": subscription_id,
        "object": "subscription",
        "status": status,
        "customer": customer or "cus_fake_" + subscription_id.split("_", 4)[-1],
        "metadata": {"intent": intent_uuid},
        "cancel_at_period_end": False,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_fake_" + subscription_id.split("_", 4)[-1],
                    "object": "subscription_item",
                    "price": {
                        "product": "prod_fake_donation",
                        "unit_amount": to_stripe_amount(money),
                        "currency": money.currency.lower(),
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                    "current_period_end": int(time.time()) + 30 * 86400,
                }
            ],
        },
    }


def dispute_obj(charge_id: str, amount: int, *, status: str = "needs_response"):
    return {
        "id": "du_fake_" + new_hex(),
        "object": "dispute",
        "charge": charge_id,
        "amount": amount,
        "status": status,
        "reason": "fraudulent",
    }


def build_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Stripe ``Event`` (snapshot payload) wrapping ``obj``."""
    return {
        "id": event_id or "evt_fake_" + new_hex(),
        "object": "event",
        "api_version": API_VERSION,
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }


def serve(host: str = "127.0.0.1", port: int = 12111):
    """Serve the fake over HTTP (for ``STRIPE_API_BASE=http://127.0.0.1:12111``):
    lets a separate process, such as a Celery worker, talk to it. Returns the
    started ``ThreadingHTTPServer``; call ``shutdown()`` to stop it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    fake = FakeStripeHTTPClient()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = f"http://{host}:{port}{self.path}"
            content, status, _headers = fake.request(
                self.command.lower(), url, dict(self.headers), body or None
            )
            data = content.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
