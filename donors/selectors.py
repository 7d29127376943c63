"""Reads of donors and gifts for the staff screens: list, search, detail, timeline,
totals. Writes live in ``donors.services``; duplicate candidates in
``donors.duplicates``.

Money read here is yen already settled (``Gift.amount_yen``), net of refunds
(``refunded_yen``); pending gifts do not count as given.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from donors import normalise
from donors.models import Consent, Donor, DonorMerge, Gift, GiftRefund
from kyosei import disclosure
from kyosei.audit import audit_entries

#: Statuses of money actually received (refunds are netted via refunded_yen).
GIVEN_STATUSES = (
    Gift.Status.RECEIVED,
    Gift.Status.PARTIALLY_REFUNDED,
    Gift.Status.REFUNDED,
    Gift.Status.DISPUTED,
)

_NET_YEN = F("amount_yen") - F("refunded_yen")
_PHONE_CHARS_RE = re.compile(r"^[+\d\s\-()]+$")


def given_gifts() -> QuerySet[Gift]:
    return Gift.objects.filter(status__in=GIVEN_STATUSES)


def donor_list() -> QuerySet[Donor]:
    """Active (not merged) donors with ``lifetime_yen`` and ``last_gift_on``.

    Totals are correlated subqueries, not joins, so that filters joining tags or
    consents cannot multiply them.
    """
    per_donor = given_gifts().filter(donor=OuterRef("pk")).order_by().values("donor")
    lifetime = per_donor.annotate(total=Sum(_NET_YEN)).values("total")
    last = per_donor.annotate(last=Max("received_on")).values("last")
    return (
        Donor.objects.filter(merged_into__isnull=True)
        .select_related("household")
        .annotate(
            lifetime_yen=Coalesce(
                Subquery(lifetime, output_field=IntegerField()), Value(0)
            ),
            last_gift_on=Subquery(last),
        )
    )


def search_variants(query: str) -> list[list[str]]:
    """What to look for in ``Donor.search_text``: for each word of ``query``, the
    forms it may take there (any one must match; every word must match).

    ``search_text`` holds names as typed (kanji, full-width katakana), the Latin
    name and its accent-free key, emails and phone digits, lower-cased. So a
    query is folded the same ways: NFKC (half-width kana, full-width letters),
    hiragana to katakana, accents removed, and a phone number to its digits.
    """
    folded = normalise.text(query)
    if not folded:
        return []
    digits = normalise.phone_key(folded)
    if _PHONE_CHARS_RE.match(normalise.dashes(folded)) and len(digits) >= 4:
        return [[digits]]
    groups = []
    for word in folded.split(" "):
        forms = {
            word.lower(),
            normalise.katakana(word).lower(),
            normalise.latin_key(word),
            normalise.email(word),
        }
        groups.append(sorted(f for f in forms if f))
    return [g for g in groups if g]


def donor_search(queryset: QuerySet[Donor], query: str) -> QuerySet[Donor]:
    """Filter ``queryset`` to donors matching every word of ``query``.

    Also matches a donor number typed as ``#123`` or ``123``.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    number = normalise.text(query).lstrip("#")
    condition = Q()
    for forms in search_variants(query):
        word = Q()
        for form in forms:
            word |= Q(search_text__contains=form)
        condition &= word
    if number.isdigit() and len(number) < 9:
        condition |= Q(pk=int(number))
    return queryset.filter(condition)


def current_consent_subquery(channel: str) -> Subquery:
    """The latest recorded answer for ``channel`` (a consent can be withdrawn)."""
    latest = (
        Consent.objects.filter(donor=OuterRef("pk"), channel=channel)
        .order_by("-recorded_on", "-id")
        .values("granted")[:1]
    )
    return Subquery(latest)


def donor_current_consents(donor: Donor) -> dict[str, Consent]:
    """{channel: latest consent} for the channels the donor has answered."""
    current: dict[str, Consent] = {}
    for consent in donor.consents.order_by("-recorded_on", "-id"):
        current.setdefault(consent.channel, consent)
    return current


@dataclass
class DonorTotals:
    lifetime_yen: int = 0
    refunded_yen: int = 0
    gift_count: int = 0
    first_gift_on: dt.date | None = None
    last_gift_on: dt.date | None = None
    by_fund: list[dict[str, Any]] = field(default_factory=list)


def donor_totals(donor: Donor) -> DonorTotals:
    gifts = given_gifts().filter(donor=donor)
    agg = gifts.aggregate(
        net=Sum(_NET_YEN),
        refunded=Sum("refunded_yen"),
        count=Count("id"),
        first=Min("received_on"),
        last=Max("received_on"),
    )
    by_fund = list(
        gifts.order_by()
        .values("fund__name")
        .annotate(total=Sum(_NET_YEN), count=Count("id"))
        .order_by("-total")
    )
    return DonorTotals(
        lifetime_yen=agg["net"] or 0,
        refunded_yen=agg["refunded"] or 0,
        gift_count=agg["count"],
        first_gift_on=agg["first"],
        last_gift_on=agg["last"],
        by_fund=by_fund,
    )


@dataclass
class TimelineItem:
    kind: str  # "gift", "refund", "merge", "audit"
    when: dt.date | dt.datetime
    sort_key: tuple
    obj: Any


def _order_key(day: dt.date, moment: dt.datetime | None) -> tuple:
    return (day, moment or timezone.now())


def donor_timeline(donor: Donor, *, limit: int = 200) -> list[TimelineItem]:
    """Gifts, refunds, merges into this donor and its audit rows, newest first."""
    items: list[TimelineItem] = []
    gifts = donor.gifts.select_related("fund", "received_by").order_by(
        "-received_on", "-id"
    )[:limit]
    for gift in gifts:
        items.append(
            TimelineItem(
                "gift",
                gift.received_on,
                _order_key(gift.received_on, gift.created_at),
                gift,
            )
        )
    refunds = (
        GiftRefund.objects.filter(gift__donor=donor)
        .select_related("gift", "refunded_by")
        .order_by("-refunded_on", "-id")[:limit]
    )
    for refund in refunds:
        items.append(
            TimelineItem(
                "refund",
                refund.refunded_on,
                _order_key(refund.refunded_on, refund.created_at),
                refund,
            )
        )
    for merge in DonorMerge.objects.filter(survivor=donor).select_related(
        "merged", "merged_by"
    )[:limit]:
        local = timezone.localtime(merge.merged_at)
        items.append(TimelineItem("merge", local, (local.date(), local), merge))
    for entry in audit_entries(donor).select_related("user")[:limit]:
        local = timezone.localtime(entry.timestamp)
        items.append(TimelineItem("audit", local, (local.date(), local), entry))
    items.sort(key=lambda item: item.sort_key, reverse=True)
    return items[:limit]


def gift_list() -> QuerySet[Gift]:
    return Gift.objects.select_related("donor", "fund")


@dataclass
class GivingTotals:
    """Aggregates only: no donor is named or identifiable from these.

    Figures that aggregate fewer than 5 gifts are ``None`` (see
    ``kyosei.disclosure``): ``hidden`` says why for the period's own figures, and
    each breakdown row carries its own ``hidden``.
    """

    start: dt.date
    end: dt.date
    total_yen: int | None
    gift_count: int | None
    donor_count: int | None
    hidden: str
    by_fund: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    by_kind: list[dict[str, Any]]


def whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end] widened to whole calendar months."""
    first = start.replace(day=1)
    following = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def giving_totals(*, start: dt.date, end: dt.date) -> GivingTotals:
    """Gifts received in [start, end], net of refunds, by fund, month and kind.

    The period is widened to whole months, and any figure that aggregates fewer
    than 5 gifts is withheld (``kyosei.disclosure``): otherwise a period of one
    day, or the difference of two periods a day apart, shows one donor's gift.
    """
    start, end = whole_months(start, end)
    gifts = given_gifts().filter(received_on__range=(start, end)).order_by()
    agg = gifts.aggregate(
        total=Sum(_NET_YEN),
        count=Count("id"),
        donors=Count("donor", distinct=True),
    )
    by_fund = list(
        gifts.values("fund__name", "fund__kind")
        .annotate(total=Sum(_NET_YEN), count=Count("id"))
        .order_by("fund__kind", "fund__name")
    )
    by_month = list(
        gifts.annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(total=Sum(_NET_YEN), count=Count("id"))
        .order_by("month")
    )
    kind_labels = dict(Gift.Kind.choices)
    by_kind = [
        {**row, "label": kind_labels.get(row["kind"], row["kind"])}
        for row in gifts.values("kind")
        .annotate(total=Sum(_NET_YEN), count=Count("id"))
        .order_by("kind")
    ]
    hidden = disclosure.SMALL if disclosure.is_small(agg["count"]) else ""
    return GivingTotals(
        start=start,
        end=end,
        total_yen=None if hidden else agg["total"] or 0,
        gift_count=None if hidden else agg["count"],
        donor_count=None if hidden else agg["donors"],
        hidden=hidden,
        by_fund=disclosure.suppress_breakdown(by_fund),
        by_month=disclosure.suppress_breakdown(by_month),
        by_kind=disclosure.suppress_breakdown(by_kind),
    )
