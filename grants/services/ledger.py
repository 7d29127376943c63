"""Posting to the fund ledger. Every write of money in or out goes through here."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from grants.errors import LedgerError
from grants.models import Account, BudgetLine, Fund, LedgerEntry
from kyosei.audit import audit_log


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
