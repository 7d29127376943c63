"""Posting to the fund ledger. Every write of money in or out goes through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from grants.errors import LedgerError
from grants.models import Account, BudgetLine, Fund, LedgerEntry
from kyosei.audit import audit_log
from kyosei.bulk import ids_in, insert_rows, reserve_ids


@transaction.atomic
def ledger_post(
    *,
    fund: Fund,
    account: str,
    amount_yen: int,
    entry_date: dt.date,
    source: models.Model | None = None,
    memo: str = "",
    budget_line: BudgetLine | None = None,
    posted_by: AbstractBaseUser | None = None,
) -> LedgerEntry:
    """Append one signed yen entry. Refuses zero, non-integers, unknown accounts,
    a closed fund, a date after the fund closed, and a budget line of another fund.
    The caller's transaction holds the entry together with its source."""
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int):
        raise LedgerError(_("Ledger amounts are whole yen (an integer)."))
    if amount_yen == 0:
        raise LedgerError(_("A ledger entry cannot be zero."))
    if account not in Account.values:
        raise LedgerError(_("Unknown account %(account)r.") % {"account": account})
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if fund.closed_on is not None:
        raise LedgerError(
            _("Fund “%(fund)s” was closed on %(date)s; it accepts no postings.")
            % {"fund": fund.name, "date": fund.closed_on}
        )
    if budget_line is not None and budget_line.fund_id != fund.pk:
        raise LedgerError(_("The budget line belongs to another fund."))
    entry = LedgerEntry.objects.create(
        fund=fund,
        account=account,
        amount_yen=amount_yen,
        entry_date=entry_date,
        source_type=ContentType.objects.get_for_model(source) if source else None,
        source_id=str(source.pk) if source else "",
        memo=memo[:300],
        budget_line=budget_line,
        posted_by=posted_by,
    )
    return entry


@transaction.atomic
def ledger_reverse(
    *,
    entry: LedgerEntry,
    entry_date: dt.date,
    amount_yen: int | None = None,
    memo: str = "",
    source: models.Model | None = None,
    posted_by: AbstractBaseUser | None = None,
) -> LedgerEntry:
    """Post the opposite of ``entry`` (all of what is left, or ``amount_yen`` of it).

    Reversals may be partial (a partial refund) but never exceed the original.
    Closed funds still accept reversals: a correction must always be possible.
    """
    original = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if original.reverses_id is not None:
        raise LedgerError(_("A reversing entry cannot itself be reversed."))
    already = original.reversals.aggregate(total=Sum("amount_yen"))["total"] or 0
    remaining = original.amount_yen + already
    if remaining == 0:
        raise LedgerError(_("This entry has already been reversed in full."))
    if amount_yen is not None and (
        isinstance(amount_yen, bool)
        or not isinstance(amount_yen, int)
        or amount_yen <= 0
    ):
        raise LedgerError(_("A reversal amount is a positive number of yen."))
    amount = abs(remaining) if amount_yen is None else amount_yen
    if amount > abs(remaining):
        raise LedgerError(
            _("Cannot reverse ¥%(amount)s: only ¥%(left)s of the entry is left.")
            % {"amount": f"{amount:,}", "left": f"{abs(remaining):,}"}
        )
    signed = -amount if original.amount_yen > 0 else amount
    reversal = LedgerEntry.objects.create(
        fund=original.fund,
        account=original.account,
        amount_yen=signed,
        entry_date=entry_date,
        source_type=ContentType.objects.get_for_model(source)
        if source
        else original.source_type,
        source_id=str(source.pk) if source else original.source_id,
        memo=(memo or _("Reversal of entry %(id)s") % {"id": original.pk})[:300],
        budget_line=original.budget_line,
        reverses=original,
        posted_by=posted_by,
    )
    audit_log(
        reversal,
        "grants.ledger.reversed",
        user=posted_by,
        data={"reverses": original.pk, "amount_yen": signed},
    )
    return reversal


@transaction.atomic
def ledger_reverse_many(
    *,
    entry_ids: Sequence[int],
    entry_date: dt.date,
    memos: Sequence[str],
    posted_by: AbstractBaseUser | None = None,
) -> list[int]:
    """Reverse all that is left of each entry in ``entry_ids`` at once (undoing an
    import): :func:`ledger_reverse`'s rules for every entry — not itself a
    reversal, something left to reverse — checked before anything is written,
    the originals locked in id order. No audit row per reversal: the caller
    writes one for the whole operation. Returns the reversals' ids, in order."""
    if len(memos) != len(entry_ids):
        raise ValueError("one memo per entry")
    originals = {
        row[0]: row
        for row in LedgerEntry.objects.select_for_update()
        .filter(pk__in=ids_in(entry_ids))
        .order_by("pk")
        .values_list(
            "pk",
            "fund_id",
            "account",
            "amount_yen",
            "source_type_id",
            "source_id",
            "budget_line_id",
            "reverses_id",
        )
    }
    already = dict(
        LedgerEntry.objects.filter(reverses_id__in=ids_in(entry_ids))
        .values("reverses_id")
        .annotate(total=Sum("amount_yen"))
        .values_list("reverses_id", "total")
    )
    rows = []
    for entry_id, memo in zip(entry_ids, memos, strict=True):
        original = originals.get(entry_id)
        if original is None:
            raise LedgerError(
                _("Ledger entry %(id)s does not exist.") % {"id": entry_id}
            )
        pk, fund_id, account, amount, type_id, source_id, line_id, reverses = original
        if reverses is not None:
            raise LedgerError(_("A reversing entry cannot itself be reversed."))
        remaining = amount + already.get(pk, 0)
        if remaining == 0:
            raise LedgerError(_("This entry has already been reversed in full."))
        rows.append(
            (fund_id, account, -remaining, entry_date, type_id, source_id,
             memo[:300], line_id, pk)
        )  # fmt: skip
    ids = reserve_ids(LedgerEntry, len(rows))
    posted_by_id = posted_by.pk if posted_by is not None else None
    insert_rows(
        LedgerEntry,
        ["id", "fund_id", "account", "amount_yen", "entry_date", "source_type_id",
         "source_id", "memo", "budget_line_id", "reverses_id", "posted_by_id"],
        ((pk, *row, posted_by_id) for pk, row in zip(ids, rows, strict=True)),
    )  # fmt: skip
    return ids


@dataclass(frozen=True)
class Posting:
    """One entry for :func:`ledger_post_many`; ``source_id`` is the source's pk."""

    fund: Fund
    account: str
    amount_yen: int
    entry_date: dt.date
    source_type: ContentType | None = None
    source_id: str = ""
    memo: str = ""


@transaction.atomic
def ledger_post_many(
    *,
    postings: Sequence[Posting],
    posted_by: AbstractBaseUser | None = None,
) -> list[int]:
    """Append many entries at once (imports): the same rules as
    :func:`ledger_post` (whole non-zero yen, known account, open fund), checked
    for every posting before anything is written; each distinct fund is locked
    once, in id order. Returns the new entries' ids, in the order given."""
    funds: dict[int, Fund] = {}
    accounts = set(Account.values)
    for posting in postings:
        amount = posting.amount_yen
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LedgerError(_("Ledger amounts are whole yen (an integer)."))
        if amount == 0:
            raise LedgerError(_("A ledger entry cannot be zero."))
        if posting.account not in accounts:
            raise LedgerError(
                _("Unknown account %(account)r.") % {"account": posting.account}
            )
        funds[posting.fund.pk] = posting.fund
    locked = Fund.objects.select_for_update().filter(pk__in=sorted(funds))
    for fund in locked.order_by("pk"):
        if fund.closed_on is not None:
            raise LedgerError(
                _("Fund “%(fund)s” was closed on %(date)s; it accepts no postings.")
                % {"fund": fund.name, "date": fund.closed_on}
            )
    ids = reserve_ids(LedgerEntry, len(postings))
    posted_by_id = posted_by.pk if posted_by is not None else None
    insert_rows(
        LedgerEntry,
        [
            "id",
            "fund_id",
            "account",
            "amount_yen",
            "entry_date",
            "source_type_id",
            "source_id",
            "memo",
            "posted_by_id",
        ],
        (
            (
                pk,
                p.fund.pk,
                p.account,
                p.amount_yen,
                p.entry_date,
                p.source_type.pk if p.source_type else None,
                p.source_id,
                p.memo[:300],
                posted_by_id,
            )
            for p, pk in zip(postings, ids, strict=True)
        ),
    )
    return ids
