"""Reads for campaigns: the progress bar, the staff lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone

from donors.models import Gift
from grants.models import LedgerEntry

PROGRESS_TTL = 300  # seconds; gifts and refunds invalidate it at once anyway


@dataclass(frozen=True)
class Progress:
    raised_yen: int
    goal_yen: int
    donors: int
    days_left: int | None

    @property
    def percent(self) -> int:
        """Whole per cent of the goal, capped at 100 for the bar's width."""
        if self.goal_yen <= 0:
            return 0
        return min(100, self.raised_yen * 100 // self.goal_yen)


def _key(campaign_id: int) -> str:
    return f"campaigns:progress:{campaign_id}"


def campaign_progress(campaign, *, today: dt.date | None = None) -> Progress:
    """Raised (from the ledger: the campaign's gift entries less their reversals),
    number of donors, and days left. Cached; invalidated when a gift is recorded
    or refunded (``campaign_progress_invalidate``)."""
    cached = cache.get(_key(campaign.pk))
    if cached is None:
        gifts = Gift.objects.filter(campaign_id=campaign.pk)
        entry_ids = gifts.exclude(ledger_entry__isnull=True).values("ledger_entry_id")
        raised = (
            LedgerEntry.objects.filter(
                Q(pk__in=entry_ids) | Q(reverses_id__in=entry_ids)
            ).aggregate(total=Sum("amount_yen"))["total"]
            or 0
        )
        donors = (
            gifts.filter(
                status__in=[Gift.Status.RECEIVED, Gift.Status.PARTIALLY_REFUNDED],
                donor__isnull=False,
            )
            .values("donor_id")
            .distinct()
            .count()
        )
        cached = (raised, donors)
        cache.set(_key(campaign.pk), cached, PROGRESS_TTL)
    raised, donors = cached
    today = today or timezone.localdate()
    days_left = None
    if campaign.end_date is not None:
        days_left = max(0, (campaign.end_date - today).days)
    return Progress(raised, int(campaign.goal_yen), donors, days_left)


def campaign_progress_invalidate(campaign_id: int) -> None:
    cache.delete(_key(campaign_id))
