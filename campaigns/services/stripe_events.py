"""Storing and processing Stripe events: the one path by which online money enters.

Invariants:

- An event is stored once (unique Stripe event id); storing it again changes
  nothing. Processing is queued after commit (``transaction.on_commit``).
- Processing claims the event row (``select_for_update``), then calls Stripe for
  what the event does not carry (the balance transaction) *outside* any
  transaction, then writes in one transaction with row locks in a fixed order:
  donation intent → donor → gift → fund (the ledger locks the fund).
- Gifts are recorded only through ``gift_record`` keyed by the Stripe charge id
  (and invoice id for instalments), refunds only through ``gift_refund`` keyed by
  the refund (or lost dispute) id. So a duplicate, late or re-ordered event gives
  the same end state.
- An event about something not recorded yet (a refund before its gift) fails
  with ``waiting_for`` set and is re-run when that thing is recorded.
- Demo checkouts feed Stripe-shaped events into ``stripe_event_store`` directly;
  the processing is the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.mail import mail_admins
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import stripe_gateway as gateway
from campaigns.errors import EventNotReady, GatewayError
from campaigns.models import DonationIntent, StripeEvent
from campaigns.selectors import campaign_progress_invalidate
from donors.errors import DonorError, GiftError
from donors.models import Consent, Donor, Gift, RecurringGift
from donors.services.donors import consent_record, donor_create
from donors.services.gifts import gift_record, gift_refund
from grants.errors import LedgerError
from kyosei.audit import audit_log
from kyosei.money import from_stripe_amount
from kyosei.redact import exception_summary

logger = logging.getLogger(__name__)

#: A "processing" claim older than this is assumed abandoned (worker died).
STALE_CLAIM = dt.timedelta(minutes=10)
#: Failed payments within ``SPIKE_WINDOW`` that raise the alert.
SPIKE_THRESHOLD = 10
SPIKE_WINDOW_SECONDS = 3600
SPIKE_ALERT_KEY = "campaigns:failed-payment-alert"

Handler = Callable[[StripeEvent, dict[str, Any]], str]
#: What reading a field of an unexpected type raises while a handler reads the
#: object: ``int("abc")``, ``"x".get``, a timestamp beyond the platform's range
#: (``OverflowError``, or ``OSError`` from ``datetime.fromtimestamp``), a value
#: that does not fit its column (``DataError``: an id that is an object).
MALFORMED = (ValueError, TypeError, AttributeError, ArithmeticError, OSError, DataError)


class NotOurs(Exception):
    """The event is about a Stripe object Kyosei did not create; ignore it."""


# -- storing -----------------------------------------------------------------------


def _object_ref(event_type: str, obj: dict[str, Any]) -> str:
    if event_type.startswith("charge.dispute."):
        return str(obj.get("id", ""))
    if event_type.startswith("customer.subscription."):
        return str(obj.get("id", ""))
    if event_type.startswith("invoice."):
        return _invoice_subscription(obj) or str(obj.get("id", ""))
    return str(obj.get("id", ""))[:100]


def stripe_event_store(
    *, payload: dict[str, Any], simulated: bool = False
) -> tuple[StripeEvent, bool]:
    """Store a verified (or demo-built) event once and queue its processing.

    Returns ``(event, created)``; a duplicate returns the stored row and
    ``created=False`` without changing it or queueing anything.
    """
    from campaigns.tasks import process_stripe_event

    obj = (payload.get("data") or {}).get("object") or {}
    created_ts = payload.get("created")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = StripeEvent.objects.create(
                    stripe_id=str(payload["id"])[:100],
                    type=str(payload["type"])[:100],
                    payload=payload,
                    livemode=bool(payload.get("livemode")),
                    stripe_created=(
                        dt.datetime.fromtimestamp(int(created_ts), tz=dt.UTC)
                        if created_ts
                        else None
                    ),
                    object_ref=_object_ref(str(payload["type"]), obj)[:100],
                    simulated=simulated,
                )
        except IntegrityError:
            return StripeEvent.objects.get(stripe_id=payload["id"]), False
        pk = event.pk
        transaction.on_commit(lambda: process_stripe_event.delay(pk))
    return event, True


# -- processing --------------------------------------------------------------------


def _claim(event_pk: int) -> StripeEvent | None:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_pk)
        stale = event.status == StripeEvent.Status.PROCESSING and (
            event.updated_at < timezone.now() - STALE_CLAIM
        )
        if event.status not in (StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED):
            if not stale:
                return None
        event.status = StripeEvent.Status.PROCESSING
        event.attempts += 1
        event.save(update_fields=["status", "attempts", "updated_at"])
        return event


def _finish(event: StripeEvent, status: str, *, error: str = "", waiting: str = ""):
    StripeEvent.objects.filter(pk=event.pk).update(
        status=status,
        error=error[:5000],
        waiting_for=waiting[:120],
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    event.status, event.error, event.waiting_for = status, error, waiting


def stripe_event_process(*, event_pk: int) -> StripeEvent:
    """Process one stored event at most once at a time; safe to call again.

    Never raises for a bad event: the error is kept on the row (status failed)
    and staff may retry it. Returns the event with its final status.
    """
    event = _claim(event_pk)
    if event is None:
        return StripeEvent.objects.get(pk=event_pk)
    obj = (event.payload.get("data") or {}).get("object") or {}
    handler = HANDLERS.get(event.type)
    if handler is None:
        _finish(event, StripeEvent.Status.IGNORED, error=_("Event type not handled."))
        return event
    try:
        note = handler(event, obj)
    except NotOurs as exc:
        _finish(event, StripeEvent.Status.IGNORED, error=str(exc))
    except EventNotReady as exc:
        _finish(event, StripeEvent.Status.FAILED, error=str(exc), waiting=exc.key)
    except (GatewayError, GiftError, DonorError, LedgerError, KeyError) as exc:
        # the message stays on the event row for staff; logs get its class
        logger.warning(
            "Stripe event %s failed: %s", event.stripe_id, exception_summary(exc)
        )
        _finish(event, StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    except MALFORMED as exc:
        # The webhook checks the envelope only; a field inside the object of a
        # shape Stripe never sends fails the event (kept, retryable), not the
        # worker. The message may quote the payload: it stays on the row.
        logger.warning(
            "Stripe event %s failed: malformed object (%s)",
            event.stripe_id,
            type(exc).__name__,
        )
        _finish(event, StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        logger.exception("Stripe event %s crashed", event.stripe_id)
        _finish(event, StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        _finish(event, StripeEvent.Status.DONE, error=note)
    return event


@transaction.atomic
def stripe_event_retry(*, event: StripeEvent, user) -> StripeEvent:
    """Staff retry of a failed (or abandoned) event: back to received, re-queued."""
    from campaigns.tasks import process_stripe_event

    event = StripeEvent.objects.select_for_update().get(pk=event.pk)
    abandoned = (
        event.status == StripeEvent.Status.PROCESSING
        and event.updated_at < timezone.now() - STALE_CLAIM
    )
    if event.status != StripeEvent.Status.FAILED and not abandoned:
        raise GatewayError(
            _("Only a failed event can be retried (this one is %(s)s).")
            % {"s": event.get_status_display()}
        )
    event.status = StripeEvent.Status.RECEIVED
    event.waiting_for = ""
    event.save(update_fields=["status", "waiting_for", "updated_at"])
    audit_log(
        event,
        "campaigns.stripe_event.retried",
        user=user,
        data={"event": event.stripe_id, "attempts": event.attempts},
    )
    pk = event.pk
    transaction.on_commit(lambda: process_stripe_event.delay(pk))
    return event


def _wake(key: str) -> None:
    """Re-run events that were waiting for ``key`` (after this transaction)."""

    def requeue() -> None:
        from campaigns.tasks import process_stripe_event

        for pk in StripeEvent.objects.filter(
            waiting_for=key, status=StripeEvent.Status.FAILED
        ).values_list("pk", flat=True):
            process_stripe_event.delay(pk)

    transaction.on_commit(requeue)


# -- lookups -----------------------------------------------------------------------


def _meta_intent(metadata: Any) -> str:
    if isinstance(metadata, dict):
        return str(metadata.get("intent") or "")
    return ""


def _subscription_details(invoice: dict[str, Any]) -> dict[str, Any]:
    # Stored events are checked as envelopes only: inside the object, a field
    # of an unexpected shape reads as missing.
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    return details if isinstance(details, dict) else {}


def _invoice_subscription(invoice: dict[str, Any]) -> str:
    return str(_subscription_details(invoice).get("subscription") or "")


def _invoice_intent(invoice: dict[str, Any]) -> str:
    return _meta_intent(_subscription_details(invoice).get("metadata"))


def _intent(*, uuid: str = "", session_id: str = "", subscription_id: str = ""):
    query = DonationIntent.objects.select_related("campaign")
    if uuid:
        try:
            found = query.filter(uuid=uuidlib.UUID(uuid)).first()
        except ValueError:  # a malformed id from outside is simply not ours
            found = None
        if found:
            return found
    if session_id:
        found = query.filter(checkout_session_id=session_id).first()
        if found:
            return found
    if subscription_id:
        return query.filter(stripe_subscription_id=subscription_id).first()
    return None


def _lock_intent(intent: DonationIntent) -> DonationIntent:
    return DonationIntent.objects.select_for_update().get(pk=intent.pk)


def _donor_for(intent: DonationIntent) -> Donor:
    """The donor of a locked intent: linked, found by email, or created."""
    if intent.donor_id:
        donor = Donor.objects.get(pk=intent.donor_id)
        while donor.merged_into_id:
            donor = Donor.objects.get(pk=donor.merged_into_id)
        return donor
    email = intent.email.strip().lower()
    donor = (
        Donor.objects.filter(email_key=email, merged_into__isnull=True)
        .order_by("pk")
        .first()
    )
    if donor is None:
        fields = {
            "family_name": intent.family_name,
            "given_name": intent.given_name,
            "email": intent.email,
            "country": intent.country or "JP",
            "postal_code": intent.postal_code,
            "prefecture": intent.prefecture,
            "region": intent.region,
            "city": intent.city,
            "address_line1": intent.address_line1,
            "address_line2": intent.address_line2,
            "preferred_language": intent.language,
            "source": Donor.Source.ONLINE,
        }
        try:
            with transaction.atomic():
                donor = donor_create(user=None, **fields)
        except DonorError:
            # Keep the gift: create the donor without the address and flag it.
            for name in ("postal_code", "prefecture", "region", "city"):
                fields[name] = ""
            donor = donor_create(
                user=None,
                needs_review=True,
                notes=_("Address from the donate form could not be read."),
                **{
                    k: v
                    for k, v in fields.items()
                    if k not in ("address_line1", "address_line2")
                },
            )
        if intent.consent_updates:
            consent_record(
                donor=donor,
                channel=Consent.Channel.EMAIL,
                granted=True,
                recorded_on=timezone.localdate(),
                source=_("Online donate form"),
                user=None,
            )
    intent.donor = donor
    intent.save(update_fields=["donor", "updated_at"])
    return donor


def _recurring_for(
    intent: DonationIntent, donor: Donor, subscription_id: str, customer_id: str
) -> RecurringGift:
    """Get or create the RecurringGift of ``subscription_id`` (intent is locked)."""
    recurring = RecurringGift.objects.filter(
        stripe_subscription_id=subscription_id
    ).first()
    created = False
    if recurring is None:
        deleted = StripeEvent.objects.filter(
            type="customer.subscription.deleted",
            object_ref=subscription_id,
            status=StripeEvent.Status.DONE,
        ).exists()
        today = timezone.localdate()
        try:
            with transaction.atomic():
                recurring = RecurringGift.objects.create(
                    donor=donor,
                    interval=RecurringGift.Interval.MONTH,
                    amount=intent.amount,
                    currency=intent.currency,
                    status=(
                        RecurringGift.Status.CANCELLED
                        if deleted
                        else RecurringGift.Status.ACTIVE
                    ),
                    cancelled_on=today if deleted else None,
                    fund=intent.campaign.fund,
                    campaign=intent.campaign,
                    started_on=today,
                    stripe_subscription_id=subscription_id,
                )
                created = True
                audit_log(
                    recurring,
                    "campaigns.recurring.started",
                    user=None,
                    data={"subscription": subscription_id, "intent": str(intent.uuid)},
                )
        except IntegrityError:
            recurring = RecurringGift.objects.get(
                stripe_subscription_id=subscription_id
            )
    changed = []
    if intent.recurring_gift_id != recurring.pk:
        intent.recurring_gift = recurring
        changed.append("recurring_gift")
    if subscription_id and intent.stripe_subscription_id != subscription_id:
        intent.stripe_subscription_id = subscription_id
        changed.append("stripe_subscription_id")
    if customer_id and intent.stripe_customer_id != customer_id:
        intent.stripe_customer_id = customer_id
        changed.append("stripe_customer_id")
    if changed:
        intent.save(update_fields=[*changed, "updated_at"])
    if created:
        _wake(f"subscription:{subscription_id}")
    return recurring


def _complete(intent: DonationIntent, *, gift: Gift | None = None) -> None:
    fields = ["status", "payment_pending", "updated_at"]
    intent.status = DonationIntent.Status.COMPLETED
    intent.payment_pending = False
    if gift is not None and intent.gift_id is None:
        intent.gift = gift
        fields.append("gift")
    intent.save(update_fields=fields)


def _after_gift(gift: Gift, created: bool) -> None:
    campaign_id = gift.campaign_id
    if campaign_id:
        transaction.on_commit(lambda: campaign_progress_invalidate(campaign_id))
    if gift.stripe_charge_id:
        _wake(f"charge:{gift.stripe_charge_id}")
    if created:
        from campaigns.tasks import gift_acknowledge

        pk = gift.pk
        transaction.on_commit(lambda: gift_acknowledge.delay(pk))


def _record(
    intent: DonationIntent,
    settlement: gateway.Settlement,
    *,
    invoice_id: str | None = None,
    subscription_id: str = "",
    customer_id: str = "",
) -> Gift:
    with transaction.atomic():
        intent = _lock_intent(intent)
        donor = _donor_for(intent)
        recurring = None
        if subscription_id:
            recurring = _recurring_for(intent, donor, subscription_id, customer_id)
        result = gift_record(
            donor=donor,
            kind=Gift.Kind.DONATION,
            amount=settlement.amount,
            amount_yen=None
            if settlement.amount.currency == "JPY"
            else (settlement.amount_yen),
            fee_yen=min(settlement.fee_yen, settlement.amount_yen),
            received_on=settlement.paid_on,
            method=Gift.Method.CARD,
            fund=intent.campaign.fund,
            campaign=intent.campaign,
            recurring_gift=recurring,
            anonymous_public=intent.anonymous_public,
            stripe_charge_id=settlement.charge_id,
            stripe_invoice_id=invoice_id,
        )
        if recurring is not None and recurring.status == RecurringGift.Status.PAST_DUE:
            RecurringGift.objects.filter(pk=recurring.pk).update(
                status=RecurringGift.Status.ACTIVE
            )
        _complete(intent, gift=result.gift if not subscription_id else None)
        _after_gift(result.gift, result.created)
        return result.gift


def _gift_for_charge(charge_id: str) -> Gift:
    gift = Gift.objects.filter(stripe_charge_id=charge_id).first()
    if gift is None:
        raise EventNotReady(
            f"charge:{charge_id}",
            _("Waiting for the gift of charge %(c)s to be recorded.")
            % {"c": charge_id},
        )
    return gift


def _superseded(event: StripeEvent, types: tuple[str, ...]) -> bool:
    """A newer event of ``types`` about the same object was already applied."""
    if event.stripe_created is None:
        return False
    return (
        StripeEvent.objects.filter(
            object_ref=event.object_ref,
            type__in=types,
            status=StripeEvent.Status.DONE,
            stripe_created__gt=event.stripe_created,
        )
        .exclude(pk=event.pk)
        .exists()
    )


# -- handlers ----------------------------------------------------------------------


def on_checkout_completed(event: StripeEvent, session: dict[str, Any]) -> str:
    intent = _intent(
        uuid=_meta_intent(session.get("metadata"))
        or str(session.get("client_reference_id") or ""),
        session_id=str(session.get("id") or ""),
    )
    if intent is None:
        raise NotOurs(_("No donation intent for this Checkout Session."))
    if session.get("mode") == "subscription":
        subscription_id = str(session.get("subscription") or "")
        with transaction.atomic():
            intent = _lock_intent(intent)
            donor = _donor_for(intent)
            if subscription_id:
                _recurring_for(
                    intent, donor, subscription_id, str(session.get("customer") or "")
                )
            if session.get("payment_status") in ("paid", "no_payment_required"):
                _complete(intent)
            else:
                _mark_pending(intent)
        return _("Monthly gift set up; instalments arrive as invoice.paid.")
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        with transaction.atomic():
            _mark_pending(_lock_intent(intent))
        return _("Checkout complete; payment not settled yet.")
    return _record_session_payment(intent, session)


def _mark_pending(intent: DonationIntent) -> None:
    if intent.status == DonationIntent.Status.PENDING and not intent.payment_pending:
        intent.payment_pending = True
        intent.save(update_fields=["payment_pending", "updated_at"])


def _record_session_payment(intent: DonationIntent, session: dict[str, Any]) -> str:
    pi = str(session.get("payment_intent") or "")
    if not pi:
        raise GatewayError("A paid Checkout Session without a payment_intent.")
    settlement = gateway.payment_intent_settlement(pi)
    if intent.stripe_payment_intent_id != pi:
        DonationIntent.objects.filter(pk=intent.pk).update(stripe_payment_intent_id=pi)
    gift = _record(intent, settlement)
    return _("Gift %(g)s (charge %(c)s).") % {"g": gift.pk, "c": settlement.charge_id}


def on_async_payment_succeeded(event: StripeEvent, session: dict[str, Any]) -> str:
    intent = _intent(
        uuid=_meta_intent(session.get("metadata")),
        session_id=str(session.get("id") or ""),
    )
    if intent is None:
        raise NotOurs(_("No donation intent for this Checkout Session."))
    if session.get("mode") == "subscription":
        return on_checkout_completed(event, {**session, "payment_status": "paid"})
    return _record_session_payment(intent, session)


def _intent_close(session: dict[str, Any], status: str) -> str:
    intent = _intent(
        uuid=_meta_intent(session.get("metadata")),
        session_id=str(session.get("id") or ""),
    )
    if intent is None:
        raise NotOurs(_("No donation intent for this Checkout Session."))
    with transaction.atomic():
        intent = _lock_intent(intent)
        if intent.status == DonationIntent.Status.PENDING:
            intent.status = status
            intent.payment_pending = False
            intent.save(update_fields=["status", "payment_pending", "updated_at"])
    return ""


def on_async_payment_failed(event: StripeEvent, session: dict[str, Any]) -> str:
    note = _intent_close(session, DonationIntent.Status.FAILED)
    payment_failure_note()
    return note


def on_checkout_expired(event: StripeEvent, session: dict[str, Any]) -> str:
    return _intent_close(session, DonationIntent.Status.EXPIRED)


def on_invoice_paid(event: StripeEvent, invoice: dict[str, Any]) -> str:
    subscription_id = _invoice_subscription(invoice)
    if not subscription_id:
        raise NotOurs(_("Invoice is not for a subscription."))
    if not invoice.get("amount_paid"):
        return _("Nothing was paid on this invoice.")
    intent = _intent(uuid=_invoice_intent(invoice), subscription_id=subscription_id)
    if intent is None:
        recurring = RecurringGift.objects.filter(
            stripe_subscription_id=subscription_id
        ).first()
        if recurring is None:
            raise NotOurs(_("No donation intent for this subscription."))
        intent = DonationIntent.objects.filter(recurring_gift=recurring).first()
        if intent is None:
            raise NotOurs(_("No donation intent for this subscription."))
    existing = Gift.objects.filter(stripe_invoice_id=invoice["id"]).first()
    if existing is not None:
        return _("Already recorded as gift %(g)s.") % {"g": existing.pk}
    settlement = gateway.invoice_settlement(str(invoice["id"]))
    gift = _record(
        intent,
        settlement,
        invoice_id=str(invoice["id"]),
        subscription_id=subscription_id,
        customer_id=str(invoice.get("customer") or ""),
    )
    return _("Gift %(g)s (invoice %(i)s).") % {"g": gift.pk, "i": invoice["id"]}


def on_invoice_payment_failed(event: StripeEvent, invoice: dict[str, Any]) -> str:
    subscription_id = _invoice_subscription(invoice)
    if not subscription_id:
        raise NotOurs(_("Invoice is not for a subscription."))
    with transaction.atomic():
        recurring = (
            RecurringGift.objects.select_for_update()
            .filter(stripe_subscription_id=subscription_id)
            .first()
        )
        if recurring is None:
            if _intent(uuid=_invoice_intent(invoice), subscription_id=subscription_id):
                raise EventNotReady(
                    f"subscription:{subscription_id}",
                    _("Waiting for the monthly gift to be set up."),
                )
            raise NotOurs(_("No monthly gift for this subscription."))
        if recurring.status == RecurringGift.Status.ACTIVE:
            recurring.status = RecurringGift.Status.PAST_DUE
            recurring.save(update_fields=["status"])
            audit_log(
                recurring,
                "campaigns.recurring.payment_failed",
                user=None,
                data={"invoice": invoice.get("id")},
            )
        # Stripe retries a failed invoice several times: tell the donor once.
        if int(invoice.get("attempt_count") or 1) <= 1:
            from campaigns.tasks import recurring_payment_failed_email

            pk = recurring.pk
            transaction.on_commit(lambda: recurring_payment_failed_email.delay(pk))
    payment_failure_note()
    return _("Donor told; the plan is kept while Stripe retries.")


SUBSCRIPTION_STATUS = {
    "active": RecurringGift.Status.ACTIVE,
    "trialing": RecurringGift.Status.ACTIVE,
    "past_due": RecurringGift.Status.PAST_DUE,
    "unpaid": RecurringGift.Status.PAST_DUE,
    "paused": RecurringGift.Status.PAUSED,
    "canceled": RecurringGift.Status.CANCELLED,
    "incomplete_expired": RecurringGift.Status.CANCELLED,
}
SUBSCRIPTION_TYPES = ("customer.subscription.updated", "customer.subscription.deleted")


def _locked_recurring(subscription: dict[str, Any]) -> RecurringGift:
    subscription_id = str(subscription["id"])
    recurring = (
        RecurringGift.objects.select_for_update()
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )
    if recurring is None:
        if _intent(
            uuid=_meta_intent(subscription.get("metadata")),
            subscription_id=subscription_id,
        ):
            raise EventNotReady(
                f"subscription:{subscription_id}",
                _("Waiting for the monthly gift to be set up."),
            )
        raise NotOurs(_("No monthly gift for this subscription."))
    return recurring


def on_subscription_updated(event: StripeEvent, subscription: dict[str, Any]) -> str:
    with transaction.atomic():
        recurring = _locked_recurring(subscription)
        if recurring.status == RecurringGift.Status.CANCELLED:
            return _("Already cancelled; a cancelled plan does not come back.")
        if _superseded(event, SUBSCRIPTION_TYPES):
            return _("A newer update was already applied.")
        before = {"status": recurring.status, "amount": recurring.amount}
        status = SUBSCRIPTION_STATUS.get(str(subscription.get("status")))
        if status:
            recurring.status = status
            if status == RecurringGift.Status.CANCELLED:
                recurring.cancelled_on = timezone.localdate()
        items = (subscription.get("items") or {}).get("data") or []
        if items:
            price = items[0].get("price") or {}
            if price.get("unit_amount") is not None:
                money = from_stripe_amount(
                    int(price["unit_amount"]) * int(items[0].get("quantity") or 1),
                    price.get("currency") or recurring.currency,
                )
                recurring.amount, recurring.currency = money.amount, money.currency
            period_end = items[0].get("current_period_end")
            if period_end:
                recurring.next_charge_on = timezone.localdate(
                    dt.datetime.fromtimestamp(int(period_end), tz=dt.UTC)
                )
        recurring.save()
        after = {"status": recurring.status, "amount": recurring.amount}
        if before != after:
            audit_log(
                recurring,
                "campaigns.recurring.updated",
                user=None,
                data={"before": before, "after": after, "event": event.stripe_id},
            )
    return ""


def on_subscription_deleted(event: StripeEvent, subscription: dict[str, Any]) -> str:
    with transaction.atomic():
        try:
            recurring = _locked_recurring(subscription)
        except EventNotReady:
            # Remembered: _recurring_for creates it already cancelled.
            return _("Cancelled before it was set up.")
        if recurring.status != RecurringGift.Status.CANCELLED:
            recurring.status = RecurringGift.Status.CANCELLED
            recurring.cancelled_on = timezone.localdate()
            recurring.save(update_fields=["status", "cancelled_on"])
            audit_log(
                recurring,
                "campaigns.recurring.cancelled",
                user=None,
                data={"event": event.stripe_id},
            )
    return ""


def on_charge_refunded(event: StripeEvent, charge: dict[str, Any]) -> str:
    gift = _gift_for_charge(str(charge["id"]))
    refunds = gateway.charge_refunds(str(charge["id"]))
    total = int(charge.get("amount") or 0)
    refunded = int(charge.get("amount_refunded") or 0)
    done = 0
    with transaction.atomic():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        for index, refund in enumerate(refunds):
            completes = index == len(refunds) - 1 and refunded >= total > 0
            if gift.refundable_yen <= 0:
                break
            if gift.refunds.filter(stripe_refund_id=refund.id).exists():
                continue
            yen = _refund_yen(gift, refund)
            gift_refund(
                gift=gift,
                amount_yen=None if completes else min(yen, gift.refundable_yen),
                refunded_on=_refund_date(refund),
                reason=_("Refunded in Stripe"),
                stripe_refund_id=refund.id,
            )
            gift.refresh_from_db()
            done += 1
        campaign_id = gift.campaign_id
        if done and campaign_id:
            transaction.on_commit(lambda: campaign_progress_invalidate(campaign_id))
    return _("%(n)s refund(s) recorded.") % {"n": done}


def _refund_yen(gift: Gift, refund: gateway.RefundInfo) -> int:
    if refund.amount_yen is not None:
        return refund.amount_yen
    if refund.amount.currency == "JPY":
        return refund.amount.amount
    # No balance transaction: the same share of the settled yen, rounded down.
    return max(1, gift.amount_yen * refund.amount.amount // gift.amount)


def _refund_date(refund: gateway.RefundInfo) -> dt.date:
    if not refund.created:
        return timezone.localdate()
    return min(
        timezone.localdate(dt.datetime.fromtimestamp(refund.created, tz=dt.UTC)),
        timezone.localdate(),
    )


DISPUTE_TYPES = ("charge.dispute.closed",)


def on_dispute_created(event: StripeEvent, dispute: dict[str, Any]) -> str:
    gift = _gift_for_charge(str(dispute.get("charge") or ""))
    if (
        _superseded(event, DISPUTE_TYPES)
        or StripeEvent.objects.filter(
            object_ref=event.object_ref,
            type="charge.dispute.closed",
            status=StripeEvent.Status.DONE,
        ).exists()
    ):
        return _("The dispute is already closed.")
    with transaction.atomic():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        if gift.status in (Gift.Status.RECEIVED, Gift.Status.PARTIALLY_REFUNDED):
            gift.status = Gift.Status.DISPUTED
            gift.save(update_fields=["status"])
            audit_log(
                gift,
                "campaigns.gift.disputed",
                user=None,
                data={"dispute": dispute.get("id"), "reason": dispute.get("reason")},
            )
    return ""


def on_dispute_closed(event: StripeEvent, dispute: dict[str, Any]) -> str:
    gift = _gift_for_charge(str(dispute.get("charge") or ""))
    outcome = str(dispute.get("status") or "")
    with transaction.atomic():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        if outcome == "lost":
            if gift.refundable_yen > 0:
                gift_refund(
                    gift=gift,
                    reason=_("Card dispute lost"),
                    stripe_refund_id=str(dispute["id"]),
                )
            campaign_id = gift.campaign_id
            if campaign_id:
                transaction.on_commit(lambda: campaign_progress_invalidate(campaign_id))
        elif gift.status == Gift.Status.DISPUTED:
            gift.status = (
                Gift.Status.PARTIALLY_REFUNDED
                if gift.refunded_yen
                else Gift.Status.RECEIVED
            )
            gift.save(update_fields=["status"])
        audit_log(
            gift,
            "campaigns.gift.dispute_closed",
            user=None,
            data={"dispute": dispute.get("id"), "outcome": outcome},
        )
    return outcome


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": on_async_payment_succeeded,
    "checkout.session.async_payment_failed": on_async_payment_failed,
    "checkout.session.expired": on_checkout_expired,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.subscription.updated": on_subscription_updated,
    "customer.subscription.deleted": on_subscription_deleted,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute_created,
    "charge.dispute.closed": on_dispute_closed,
}


# -- failed-payment spike ----------------------------------------------------------


def payment_failure_note(*, now: float | None = None) -> bool:
    """Count a failed payment; alert admins once per window past the threshold.

    Card testing shows up as a burst of failures. Returns True when this call
    raised the alert (admin notice in the cache + email to ADMINS).
    """
    bucket = int((now if now is not None else timezone.now().timestamp()) // 60)
    key = f"campaigns:failed-payments:{bucket}"
    cache.add(key, 0, SPIKE_WINDOW_SECONDS + 60)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, SPIKE_WINDOW_SECONDS + 60)
    minutes = SPIKE_WINDOW_SECONDS // 60
    keys = [f"campaigns:failed-payments:{bucket - i}" for i in range(minutes)]
    total = sum(v for v in cache.get_many(keys).values() if isinstance(v, int))
    if total < SPIKE_THRESHOLD:
        return False
    if not cache.add(SPIKE_ALERT_KEY, total, SPIKE_WINDOW_SECONDS):
        return False
    message = _(
        "%(n)s failed online payments in the last hour. This can be card testing: "
        "check the Stripe dashboard and the webhook events."
    ) % {"n": total}
    logger.warning(message)
    mail_admins(_("Kyosei: failed payments spike"), message, fail_silently=True)
    return True


def failed_payment_alert() -> int | None:
    """The failure count of an active spike alert, for the admin notice."""
    return cache.get(SPIKE_ALERT_KEY)
