"""Changes to a recurring (monthly or yearly) gift: amount, pause, resume, cancel.

Each service locks the row, checks the allowed status transition, saves and writes
an audit row in one transaction. They change Kyosei's record only: syncing a
Stripe subscription (``stripe_subscription_id``) belongs to online giving, which
calls or follows these services.

Allowed transitions::

    active | past_due --pause--> paused --resume--> active
    any but cancelled --cancel--> cancelled (final)
    amount changes on any but cancelled, in the gift's own currency
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donors.errors import GiftError
from donors.models import RecurringGift
from kyosei.audit import audit_log
from kyosei.money import Money

Status = RecurringGift.Status


def _lock(recurring_gift: RecurringGift) -> RecurringGift:
    return RecurringGift.objects.select_for_update().get(pk=recurring_gift.pk)


def _refuse_cancelled(gift: RecurringGift) -> None:
    if gift.status == Status.CANCELLED:
        raise GiftError(
            _("This recurring gift was cancelled on %(d)s; start a new one instead.")
            % {"d": gift.cancelled_on}
        )


@transaction.atomic
def recurring_gift_change(
    *, recurring_gift: RecurringGift, amount: Money, user: AbstractBaseUser | None
) -> RecurringGift:
    """Set a new amount for the next charges (same currency as before)."""
    gift = _lock(recurring_gift)
    _refuse_cancelled(gift)
    if not isinstance(amount, Money):
        raise GiftError(_("The amount must be Money (integer minor units + currency)."))
    if amount.currency != gift.currency:
        raise GiftError(
            _("A %(old)s recurring gift cannot change to %(new)s.")
            % {"old": gift.currency, "new": amount.currency}
        )
    if not amount.is_positive:
        raise GiftError(_("The amount must be more than zero."))
    before = gift.amount
    if before == amount.amount:
        return gift
    gift.amount = amount.amount
    gift.save(update_fields=["amount"])
    audit_log(
        gift,
        "donors.recurring_gift.changed",
        user=user,
        data={"from": before, "to": amount.amount, "currency": gift.currency},
    )
    return gift


@transaction.atomic
def recurring_gift_pause(
    *, recurring_gift: RecurringGift, user: AbstractBaseUser | None
) -> RecurringGift:
    gift = _lock(recurring_gift)
    _refuse_cancelled(gift)
    if gift.status == Status.PAUSED:
        raise GiftError(_("This recurring gift is already paused."))
    before = gift.status
    gift.status = Status.PAUSED
    gift.save(update_fields=["status"])
    audit_log(gift, "donors.recurring_gift.paused", user=user, data={"from": before})
    return gift


@transaction.atomic
def recurring_gift_resume(
    *, recurring_gift: RecurringGift, user: AbstractBaseUser | None
) -> RecurringGift:
    gift = _lock(recurring_gift)
    if gift.status != Status.PAUSED:
        raise GiftError(
            _("Only a paused recurring gift can be resumed (this one is %(s)s).")
            % {"s": gift.get_status_display()}
        )
    gift.status = Status.ACTIVE
    gift.save(update_fields=["status"])
    audit_log(gift, "donors.recurring_gift.resumed", user=user, data={})
    return gift


@transaction.atomic
def recurring_gift_cancel(
    *,
    recurring_gift: RecurringGift,
    user: AbstractBaseUser | None,
    cancelled_on: dt.date | None = None,
    reason: str = "",
) -> RecurringGift:
    gift = _lock(recurring_gift)
    _refuse_cancelled(gift)
    before = gift.status
    gift.status = Status.CANCELLED
    gift.cancelled_on = cancelled_on or timezone.localdate()
    gift.next_charge_on = None
    gift.save(update_fields=["status", "cancelled_on", "next_charge_on"])
    audit_log(
        gift,
        "donors.recurring_gift.cancelled",
        user=user,
        data={"from": before, "reason": reason},
    )
    return gift
