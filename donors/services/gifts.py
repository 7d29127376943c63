"""Recording gifts and refunds; each posts to the fund ledger in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from donors.errors import GiftError
from donors.models import Donor, Gift, GiftRefund, RecurringGift
from grants.errors import LedgerError
from grants.models import Account, Fund
from grants.services.ledger import ledger_post, ledger_reverse
from kyosei.audit import audit_log
from kyosei.money import MAX_AMOUNT, Money, format_yen

ACCOUNT_FOR_KIND = {
    Gift.Kind.DONATION: Account.DONATIONS,
    Gift.Kind.SUPPORTING_FEE: Account.DONATIONS,
    Gift.Kind.IN_KIND: Account.DONATIONS,
    Gift.Kind.MEMBER_DUES: Account.MEMBERSHIP_DUES,
}
EXTERNAL_REFS = ("stripe_charge_id", "stripe_invoice_id", "import_fingerprint")

#: Gifts that can still be refunded.
REFUNDABLE_STATUSES = (
    Gift.Status.RECEIVED,
    Gift.Status.PARTIALLY_REFUNDED,
    Gift.Status.DISPUTED,
)


@dataclass(frozen=True)
class GiftResult:
    gift: Gift
    created: bool


def _existing(refs: dict[str, str]) -> Gift | None:
    for name, value in refs.items():
        gift = Gift.objects.filter(**{name: value}).first()
        if gift is not None:
            return gift
    return None


def gift_record(
    *,
    donor: Donor | None,
    kind: str,
    amount: Money,
    received_on: dt.date,
    method: str,
    fund: Fund,
    amount_yen: int | None = None,
    fee_yen: int = 0,
    campaign=None,
    recurring_gift: RecurringGift | None = None,
    anonymous_public: bool = False,
    in_kind_description: str = "",
    notes: str = "",
    received_by: AbstractBaseUser | None = None,
    stripe_charge_id: str | None = None,
    stripe_invoice_id: str | None = None,
    import_fingerprint: str | None = None,
) -> GiftResult:
    """Record a received gift and post it to ``fund`` — exactly once.

    Idempotency key: any of ``stripe_charge_id``, ``stripe_invoice_id``,
    ``import_fingerprint`` (unique in the database). A second call with the same
    key returns the first gift with ``created=False`` and writes nothing, also when
    two calls race (the loser's insert fails on the unique index inside a
    savepoint and it returns the winner's row). ``amount`` keeps the original
    currency; ``amount_yen`` is the yen settled (required unless JPY). The ledger
    entry (受取寄付金 or 受取会費, gross yen) and the audit row commit with the gift.
    """
    refs = {
        name: value
        for name, value in (
            ("stripe_charge_id", stripe_charge_id),
            ("stripe_invoice_id", stripe_invoice_id),
            ("import_fingerprint", import_fingerprint),
        )
        if value
    }
    if refs:
        found = _existing(refs)
        if found is not None:
            return GiftResult(found, False)
    _check(kind, amount, received_on, method, fund, amount_yen, fee_yen, donor)
    settled = amount.amount if amount.currency == "JPY" else amount_yen
    try:
        with transaction.atomic():
            gift = Gift.objects.create(
                donor=donor,
                kind=kind,
                amount=amount.amount,
                currency=amount.currency,
                amount_yen=settled,
                fee_yen=fee_yen,
                received_on=received_on,
                method=method,
                fund=fund,
                campaign=campaign,
                recurring_gift=recurring_gift,
                anonymous_public=anonymous_public,
                in_kind_description=in_kind_description,
                notes=notes,
                received_by=received_by,
                status=Gift.Status.RECEIVED,
                **refs,
            )
            try:
                entry = ledger_post(
                    fund=fund,
                    account=ACCOUNT_FOR_KIND[kind],
                    amount_yen=settled,
                    entry_date=received_on,
                    source=gift,
                    posted_by=received_by,
                    memo=_("Gift %(id)s") % {"id": gift.pk},
                )
            except LedgerError as exc:
                raise GiftError(str(exc)) from None
            gift.ledger_entry = entry
            gift.save(update_fields=["ledger_entry"])
            audit_log(
                gift,
                "donors.gift.recorded",
                user=received_by,
                data={
                    "amount": amount.amount,
                    "currency": amount.currency,
                    "amount_yen": settled,
                    "fund": fund.code,
                    **refs,
                },
            )
    except IntegrityError:
        if refs:
            found = _existing(refs)
            if found is not None:
                return GiftResult(found, False)
        raise
    return GiftResult(gift, True)


def _check(kind, amount, received_on, method, fund, amount_yen, fee_yen, donor) -> None:
    if kind not in Gift.Kind.values:
        raise GiftError(_("Unknown gift kind %(k)r.") % {"k": kind})
    if method not in Gift.Method.values:
        raise GiftError(_("Unknown payment method %(m)r.") % {"m": method})
    if not isinstance(amount, Money):
        raise GiftError(_("The amount must be Money (integer minor units + currency)."))
    if not amount.is_positive:
        raise GiftError(_("A gift must be more than zero (got %(a)s).") % {"a": amount})
    if amount.amount > MAX_AMOUNT or (
        isinstance(amount_yen, int) and amount_yen > MAX_AMOUNT
    ):
        raise GiftError(_too_large(amount))
    if amount.currency != "JPY":
        if amount_yen is None:
            raise GiftError(
                _("A %(c)s gift needs the yen actually settled.")
                % {"c": amount.currency}
            )
        if (
            isinstance(amount_yen, bool)
            or not isinstance(amount_yen, int)
            or amount_yen <= 0
        ):
            raise GiftError(_("The settled yen must be a positive whole number."))
    elif amount_yen is not None and amount_yen != amount.amount:
        raise GiftError(_("For a yen gift the settled yen equals the amount."))
    settled = amount.amount if amount.currency == "JPY" else amount_yen
    if (
        isinstance(fee_yen, bool)
        or not isinstance(fee_yen, int)
        or not 0 <= fee_yen <= settled
    ):
        raise GiftError(_("The fee must be between ¥0 and the settled amount."))
    today = timezone.localdate()
    if received_on > today:
        raise GiftError(
            _("The date received (%(d)s) is in the future.") % {"d": received_on}
        )
    if kind == Gift.Kind.IN_KIND and amount.currency != "JPY":
        raise GiftError(_("An in-kind gift is valued in yen at market value."))
    if fund.closed_on is not None:
        raise GiftError(
            _("Fund “%(f)s” is closed; choose another fund.") % {"f": fund.name}
        )
    if donor is not None and donor.merged_into_id:
        raise GiftError(
            _("Donor #%(d)s was merged; record the gift on #%(s)s.")
            % {"d": donor.pk, "s": donor.merged_into_id}
        )


def _too_large(amount: Money) -> str:
    return _("%(a)s is more than the largest amount Kyosei records (%(max)s).") % {
        "a": amount,
        "max": format_yen(MAX_AMOUNT),
    }


@transaction.atomic
def gift_refund(
    *,
    gift: Gift,
    amount_yen: int | None = None,
    refunded_on: dt.date | None = None,
    reason: str = "",
    user: AbstractBaseUser | None = None,
    stripe_refund_id: str | None = None,
) -> GiftRefund:
    """Refund all that is left of ``gift`` or ``amount_yen`` of it.

    Posts a reversing ledger entry against the gift's entry; the gift becomes
    refunded or partially refunded. Idempotent on ``stripe_refund_id``.
    """
    if stripe_refund_id:
        found = GiftRefund.objects.filter(stripe_refund_id=stripe_refund_id).first()
        if found is not None:
            return found
    gift = Gift.objects.select_for_update().get(pk=gift.pk)
    if gift.status not in REFUNDABLE_STATUSES or gift.ledger_entry_id is None:
        raise GiftError(
            _("Only a received gift can be refunded (this one is %(s)s).")
            % {"s": gift.get_status_display()}
        )
    amount = gift.refundable_yen if amount_yen is None else amount_yen
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise GiftError(_("A refund is a positive number of yen."))
    if amount > gift.refundable_yen:
        raise GiftError(
            _("Cannot refund ¥%(a)s: only ¥%(left)s of this gift is left to refund.")
            % {"a": f"{amount:,}", "left": f"{gift.refundable_yen:,}"}
        )
    day = refunded_on or timezone.localdate()
    entry = ledger_reverse(
        entry=gift.ledger_entry,
        entry_date=day,
        amount_yen=amount,
        posted_by=user,
        memo=_("Refund of gift %(id)s") % {"id": gift.pk},
    )
    refund = GiftRefund.objects.create(
        gift=gift,
        amount_yen=amount,
        refunded_on=day,
        reason=reason,
        stripe_refund_id=stripe_refund_id,
        ledger_entry=entry,
        refunded_by=user,
    )
    gift.refunded_yen += amount
    gift.status = (
        Gift.Status.REFUNDED
        if gift.refunded_yen == gift.amount_yen
        else Gift.Status.PARTIALLY_REFUNDED
    )
    gift.save(update_fields=["refunded_yen", "status"])
    audit_log(
        gift,
        "donors.gift.refunded",
        user=user,
        data={"amount_yen": amount, "reason": reason, "refund": refund.pk},
    )
    # A receipt issued for this gift now states the wrong amount: flag it.
    from donors.receipts.services import receipts_flag_refunded

    receipts_flag_refunded(gift=gift, user=user)
    return refund


@transaction.atomic
def gift_refund_many(
    *,
    gift_ids: list[int],
    reason: str,
    audit_on: models.Model,
    user: AbstractBaseUser | None = None,
    release_import_fingerprints: bool = False,
) -> int:
    """Refund all that is left of each of ``gift_ids`` at once (undoing an
    import): :func:`gift_refund`'s effects — a reversing ledger entry and a
    :class:`GiftRefund` per gift, the gift refunded, its standing receipts
    flagged — written in bulk. Gifts with nothing left to refund are skipped.
    The gifts are locked in id order; one audit row on ``audit_on`` names them
    (id ranges). Returns how many gifts were refunded.

    ``release_import_fingerprints`` also clears the refunded gifts'
    ``import_fingerprint`` in the same update (an undone import's transfers
    may then be imported again), rather than rewriting 100,000 gifts twice."""
    from donors.receipts.services import receipts_flag_refunded_many
    from grants.services.ledger import ledger_reverse_many
    from kyosei.audit import id_ranges
    from kyosei.bulk import ids_in, insert_rows

    rows = list(
        Gift.objects.select_for_update()
        .filter(pk__in=ids_in(gift_ids), status__in=REFUNDABLE_STATUSES)
        .filter(amount_yen__gt=F("refunded_yen"), ledger_entry__isnull=False)
        .order_by("pk")
        .values_list("pk", "amount_yen", "refunded_yen", "ledger_entry_id")
    )
    if not rows:
        return 0
    day = timezone.localdate()
    memo = _("Refund of gift %(id)s")
    try:
        entry_ids = ledger_reverse_many(
            entry_ids=[entry for _pk, _a, _r, entry in rows],
            entry_date=day,
            memos=[memo % {"id": pk} for pk, _a, _r, _e in rows],
            posted_by=user,
        )
    except LedgerError as exc:
        raise GiftError(str(exc)) from None
    user_id = user.pk if user is not None else None
    insert_rows(
        GiftRefund,
        ["gift_id", "amount_yen", "refunded_on", "reason", "ledger_entry_id",
         "refunded_by_id"],
        (
            (pk, amount - refunded, day, reason[:300], entry_id, user_id)
            for (pk, amount, refunded, _e), entry_id
            in zip(rows, entry_ids, strict=True)
        ),
    )  # fmt: skip
    refunded = Gift.objects.filter(pk__in=ids_in(pk for pk, _a, _r, _e in rows))
    changes: dict[str, Any] = {
        "refunded_yen": F("amount_yen"),
        "status": Gift.Status.REFUNDED,
    }
    if release_import_fingerprints:
        changes["import_fingerprint"] = None
    refunded.update(**changes)
    receipts_flag_refunded_many(gifts=refunded, reason=reason, user=user)
    audit_log(
        audit_on,
        "donors.gift.refunded_many",
        user=user,
        data={
            "gifts": len(rows),
            "amount_yen": sum(amount - refunded for _p, amount, refunded, _e in rows),
            "reason": reason,
            "gift_id_ranges": id_ranges([pk for pk, _a, _r, _e in rows]),
        },
    )
    return len(rows)


@dataclass(frozen=True)
class GiftItem:
    """One gift for :func:`gift_record_many` (a received yen transfer)."""

    donor_id: int | None
    kind: str
    amount: Money
    received_on: dt.date
    method: str
    fund: Fund
    import_fingerprint: str
    notes: str = ""


def gift_items_check(*, items: Sequence[GiftItem]) -> None:
    """Every rule :func:`gift_record_many` applies before it writes, writing
    nothing: a dry run calls it to refuse exactly what the import would.
    Raises :class:`GiftError` with ``index`` set to the item that broke a rule.
    """
    # The rules that depend on kind, method, fund and currency are checked once
    # per combination; the per-gift ones (amount, date, fingerprint) for each.
    checked: set[tuple] = set()
    today = timezone.localdate()
    merged = dict(
        Donor.objects.filter(merged_into__isnull=False).values_list(
            "pk", "merged_into_id"
        )
    )
    for index, item in enumerate(items):
        try:
            _item_check(item, checked, today, merged)
        except GiftError as exc:
            exc.index = index
            raise


def _item_check(item: GiftItem, checked: set, today: dt.date, merged: dict) -> None:
    if not item.import_fingerprint:
        raise GiftError(_("Every imported gift needs an import fingerprint."))
    if not isinstance(item.amount, Money):
        raise GiftError(_("The amount must be Money (integer minor units + currency)."))
    if item.amount.currency != "JPY":
        raise GiftError(_("Imported transfers are in yen."))
    combo = (item.kind, item.method, item.fund.pk)
    if combo not in checked:
        _check(item.kind, item.amount, item.received_on, item.method,
               item.fund, None, 0, None)  # fmt: skip
        checked.add(combo)
    if not item.amount.is_positive:
        raise GiftError(
            _("A gift must be more than zero (got %(a)s).") % {"a": item.amount}
        )
    if item.amount.amount > MAX_AMOUNT:
        raise GiftError(_too_large(item.amount))
    if item.received_on > today:
        raise GiftError(
            _("The date received (%(d)s) is in the future.") % {"d": item.received_on}
        )
    if item.donor_id in merged:
        raise GiftError(
            _("Donor #%(d)s was merged; record the gift on #%(s)s.")
            % {"d": item.donor_id, "s": merged[item.donor_id]}
        )


@transaction.atomic
def gift_record_many(
    *,
    items: list[GiftItem],
    audit_on: models.Model,
    received_by: AbstractBaseUser | None = None,
) -> list[int | None]:
    """Record many imported gifts at once, with :func:`gift_record`'s invariants.

    Every item is checked as ``gift_record`` checks one, before anything is
    written; each needs an ``import_fingerprint``. Items whose fingerprint is
    already recorded, or repeats an earlier item, are skipped. Returns the new
    gift's id per item (``None`` for a skipped duplicate), in input order.

    Each new gift gets exactly one ledger entry (through
    :func:`grants.services.ledger.ledger_post_many`), all in this transaction.
    The audit trail is one ``donors.gift.recorded_many`` row on ``audit_on`` (the
    import batch), by ``received_by``, listing every new gift's id (as ranges)
    with the count and total; each gift also keeps ``received_by`` and its
    ``notes``. Duplicates are filtered with one query per 50,000 fingerprints;
    the unique index on ``import_fingerprint`` stays the final guard (a
    concurrent import of the same rows fails this call as a whole).
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.log_actions import registry

    from grants.services.ledger import Posting, ledger_post_many
    from kyosei.audit import UnknownAuditAction, id_ranges
    from kyosei.bulk import insert_rows, reserve_ids

    if not registry.action_exists("donors.gift.recorded_many"):
        raise UnknownAuditAction("donors.gift.recorded_many is not registered")
    gift_items_check(items=items)
    existing = gift_fingerprints_existing([item.import_fingerprint for item in items])
    fresh: list[int] = []
    for index, item in enumerate(items):
        if item.import_fingerprint in existing:
            continue
        existing.add(item.import_fingerprint)
        fresh.append(index)
    results: list[int | None] = [None] * len(items)
    if not fresh:
        return results
    ids = reserve_ids(Gift, len(fresh))
    gift_type = ContentType.objects.get_for_model(Gift)
    memo = _("Gift %(id)s")
    try:
        entry_ids = ledger_post_many(
            postings=[
                Posting(
                    fund=items[index].fund,
                    account=ACCOUNT_FOR_KIND[items[index].kind],
                    amount_yen=items[index].amount.amount,
                    entry_date=items[index].received_on,
                    source_type=gift_type,
                    source_id=str(pk),
                    memo=memo % {"id": pk},
                )
                for index, pk in zip(fresh, ids, strict=True)
            ],
            posted_by=received_by,
        )
    except LedgerError as exc:
        raise GiftError(str(exc)) from None
    user_id = received_by.pk if received_by is not None else None
    insert_rows(
        Gift,
        [
            "id", "donor_id", "kind", "amount", "currency", "amount_yen",
            "received_on", "method", "fund_id", "notes", "received_by_id",
            "status", "import_fingerprint", "ledger_entry_id",
        ],
        (
            (
                pk, items[i].donor_id, items[i].kind, items[i].amount.amount,
                "JPY", items[i].amount.amount, items[i].received_on,
                items[i].method, items[i].fund.pk, items[i].notes, user_id,
                Gift.Status.RECEIVED.value, items[i].import_fingerprint, entry_id,
            )
            for i, pk, entry_id in zip(fresh, ids, entry_ids, strict=True)
        ),
    )  # fmt: skip
    # One audit row for the whole call, on the record that stands for it (the
    # import batch), naming every gift: 100,000 per-gift rows cost more to write
    # (eleven indexes on Wagtail's log table) than the gifts themselves.
    audit_log(
        audit_on,
        "donors.gift.recorded_many",
        user=received_by,
        data={
            "gifts": len(fresh),
            "amount_yen": sum(items[i].amount.amount for i in fresh),
            "currency": "JPY",
            "funds": sorted({items[i].fund.code for i in fresh}),
            "duplicates_skipped": len(items) - len(fresh),
            "gift_id_ranges": id_ranges(ids),
        },
    )
    for index, pk in zip(fresh, ids, strict=True):
        results[index] = pk
    return results


def gift_fingerprints_existing(fingerprints: list[str]) -> set[str]:
    """Which of ``fingerprints`` are already recorded as gifts' import
    fingerprints: one query per 50,000 on PostgreSQL (``= ANY(array)``),
    per 5,000 elsewhere."""
    from django.db import connection

    found: set[str] = set()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Gift._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(fingerprints), 50_000):
                part = fingerprints[start : start + 50_000]
                if any("\n" in fp for fp in part):
                    cursor.execute(
                        f"SELECT import_fingerprint FROM {table} "  # nosec B608  # table: the model's, quoted; values: parameters
                        "WHERE import_fingerprint = ANY(%s)",
                        [part],
                    )
                else:
                    # One text parameter split by the server: adapting a list
                    # of 50,000 strings costs more than the index lookups.
                    cursor.execute(
                        f"SELECT import_fingerprint FROM {table} WHERE "  # nosec B608  # table: the model's, quoted; values: parameters
                        "import_fingerprint = ANY(string_to_array(%s, E'\\n'))",
                        ["\n".join(part)],
                    )
                found.update(row[0] for row in cursor.fetchall())
        return found
    for start in range(0, len(fingerprints), 5000):
        found.update(
            Gift.objects.filter(
                import_fingerprint__in=fingerprints[start : start + 5000]
            ).values_list("import_fingerprint", flat=True)
        )
    return found
