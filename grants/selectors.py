"""Reads of the fund ledger: balances and movements."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet, Sum

from grants.models import Fund, LedgerEntry


def fund_balance(fund: Fund, *, as_of: dt.date | None = None) -> int:
    """Balance in yen: the sum of the fund's entries dated on or before ``as_of``."""
    entries = LedgerEntry.objects.filter(fund=fund)
    if as_of is not None:
        entries = entries.filter(entry_date__lte=as_of)
    return entries.aggregate(total=Sum("amount_yen"))["total"] or 0


def fund_balances(*, as_of: dt.date | None = None) -> dict[int, int]:
    """{fund id: balance} for every fund, in one grouped query."""
    entries = LedgerEntry.objects.all()
    if as_of is not None:
        entries = entries.filter(entry_date__lte=as_of)
    totals = dict(
        entries.order_by()
        .values_list("fund_id")
        .annotate(total=Sum("amount_yen"))
        .values_list("fund_id", "total")
    )
    return {
        fund_id: totals.get(fund_id, 0)
        for fund_id in Fund.objects.values_list("id", flat=True)
    }


def fund_list_with_balances(*, as_of: dt.date | None = None) -> QuerySet[Fund]:
    condition = Q(entries__entry_date__lte=as_of) if as_of else Q()
    return Fund.objects.annotate(balance=Sum("entries__amount_yen", filter=condition))


def fund_movements(
    fund: Fund, *, start: dt.date, end: dt.date
) -> QuerySet[LedgerEntry]:
    """Entries of ``fund`` dated within [start, end], oldest first."""
    return (
        LedgerEntry.objects.filter(fund=fund, entry_date__range=(start, end))
        .select_related("fund", "posted_by")
        .order_by("entry_date", "id")
    )


def fund_movement_summary(
    fund: Fund, *, start: dt.date, end: dt.date
) -> dict[str, int]:
    """Opening, increase, decrease, closing for the period (restricted note)."""
    opening = fund_balance(fund, as_of=start - dt.timedelta(days=1))
    within = LedgerEntry.objects.filter(fund=fund, entry_date__range=(start, end))
    increase = within.filter(amount_yen__gt=0).aggregate(t=Sum("amount_yen"))["t"] or 0
    decrease = -(
        within.filter(amount_yen__lt=0).aggregate(t=Sum("amount_yen"))["t"] or 0
    )
    return {
        "opening": opening,
        "increase": increase,
        "decrease": decrease,
        "closing": opening + increase - decrease,
    }
