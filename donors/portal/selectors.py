"""Reads for the donor portal. Every query is scoped to one donor."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from donors.models import Consent, Donor, Gift, RecurringGift

# What a donor sees as their giving: received gifts of every kind (dues too: it is
# their history, not the register).
VISIBLE_STATUSES = (
    Gift.Status.RECEIVED,
    Gift.Status.PARTIALLY_REFUNDED,
    Gift.Status.REFUNDED,
    Gift.Status.DISPUTED,
)


def portal_gifts(donor: Donor) -> QuerySet[Gift]:
    return (
        Gift.objects.filter(donor=donor, status__in=VISIBLE_STATUSES)
        .select_related("fund")
        .order_by("-received_on", "-id")
    )


@dataclass(frozen=True)
class YearTotal:
    year: int
    total_yen: int
    count: int


def portal_year_totals(donor: Donor) -> list[YearTotal]:
    """Calendar-year totals (the tax year of receipts), newest first."""
    totals: dict[int, list[int]] = {}
    for received_on, amount_yen, refunded_yen in portal_gifts(donor).values_list(
        "received_on", "amount_yen", "refunded_yen"
    ):
        entry = totals.setdefault(received_on.year, [0, 0])
        entry[0] += amount_yen - refunded_yen
        entry[1] += 1
    return [YearTotal(y, t, c) for y, (t, c) in sorted(totals.items(), reverse=True)]


def portal_lifetime_yen(donor: Donor) -> int:
    result = portal_gifts(donor).aggregate(
        gross=Sum("amount_yen"), refunded=Sum("refunded_yen")
    )
    return (result["gross"] or 0) - (result["refunded"] or 0)


def portal_recurring_gifts(donor: Donor) -> QuerySet[RecurringGift]:
    return RecurringGift.objects.filter(donor=donor).order_by("status", "-started_on")


def portal_consents(donor: Donor) -> dict[str, bool]:
    """The latest recorded answer per channel (no record = not consented)."""
    current = {channel: False for channel in Consent.Channel.values}
    seen: set[str] = set()
    for consent in Consent.objects.filter(donor=donor).order_by(
        "-recorded_on", "-created_at", "-id"
    ):
        if consent.channel not in seen:
            seen.add(consent.channel)
            current[consent.channel] = consent.granted
    return current
