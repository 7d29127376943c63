"""Demo funds for the fictional NPO: the general fund (created by migration 0002)
and restricted funds for its programmes and one finished campaign.

Idempotent: funds are keyed by ``code``; a second run changes nothing. The past
campaign fund is created open so the donors demo can record its gifts, and is
closed by :func:`close_ended_funds` once they are in (a closed fund accepts no
postings, only reversals).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from grants.models import Fund
from kyosei.audit import audit_log

GENERAL = "general"
MEDICAL = "medical-consultation"
SHELTER = "vietnamese-shelter"
RENT_AID = "rent-utility-aid"
PAST_CAMPAIGN = "noto-quake-2024"

RESTRICTED_FUNDS: list[dict[str, str]] = [
    {
        "code": MEDICAL,
        "name": "医療相談基金",
        "name_en": "Medical consultation fund",
        "purpose": "在留資格のない方の医療相談・通院同行・医療費の一部負担に限る。",
    },
    {
        "code": SHELTER,
        "name": "ベトナム人シェルター基金",
        "name_en": "Vietnamese shelter fund",
        "purpose": "技能実習生・特定技能のベトナム人のシェルター運営と就労支援に限る。",
    },
    {
        "code": RENT_AID,
        "name": "家賃・光熱費緊急支援基金",
        "name_en": "Emergency rent and utility aid fund",
        "purpose": "生活困窮した外国人住民の家賃・電気・ガス・水道代の緊急支援に限る。",
    },
]


def past_campaign_end(today: dt.date) -> dt.date:
    """The finished campaign ran for the first half of the fiscal year two years
    back (fiscal years start in April in the demo organisation)."""
    fy_start_year = today.year if today.month >= 4 else today.year - 1
    return dt.date(fy_start_year - 2, 9, 30)


@transaction.atomic
def seed() -> None:
    today = timezone.localdate()
    Fund.objects.get_or_create(
        code=GENERAL,
        defaults={"name": "一般会計", "name_en": "General fund", "kind": "general"},
    )
    for spec in RESTRICTED_FUNDS:
        _fund(kind=Fund.Kind.RESTRICTED, **spec)
    _fund(
        code=PAST_CAMPAIGN,
        name="能登半島地震 外国人被災者支援募金（終了）",
        name_en="Noto earthquake appeal for foreign residents (closed)",
        kind=Fund.Kind.RESTRICTED,
        purpose="能登半島地震で被災した外国人住民への緊急支援に限る（募集終了）。",
        end_date=past_campaign_end(today),
    )


def _fund(*, code: str, **fields) -> Fund:
    fund, created = Fund.objects.get_or_create(code=code, defaults=fields)
    if created:
        audit_log(fund, "grants.fund.created", user=None, data={"demo": True})
    return fund


@transaction.atomic
def close_ended_funds(*, today: dt.date | None = None) -> list[Fund]:
    """Close the demo funds whose end date has passed and that are still open.

    Called by the donors demo after it has recorded the campaign's gifts.
    """
    today = today or timezone.localdate()
    closed = []
    for fund in Fund.objects.select_for_update().filter(
        code=PAST_CAMPAIGN, closed_on__isnull=True, end_date__lt=today
    ):
        fund.closed_on = fund.end_date
        fund.save(update_fields=["closed_on"])
        audit_log(
            fund,
            "grants.fund.closed",
            user=None,
            data={"closed_on": fund.closed_on.isoformat(), "demo": True},
        )
        closed.append(fund)
    return closed
