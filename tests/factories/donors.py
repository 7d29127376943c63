"""Factories for donors, households and funds, and ``make_gift`` for gifts.

Donors are created through ``donor_create`` (so the normalised fields, blocking
keys and search text are exactly what the services write); gifts only through
``gift_record``, so each has its ledger entry and audit row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from donors.models import Donor, Gift, Household
from donors.services.donors import donor_create
from donors.services.gifts import gift_record
from grants.models import Fund
from kyosei.money import Money


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    name = factory.Sequence(lambda n: f"世帯{n}")


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"fund-{n}")
    name = factory.Sequence(lambda n: f"指定基金{n}")
    name_en = factory.Sequence(lambda n: f"Restricted fund {n}")
    kind = Fund.Kind.RESTRICTED
    purpose = "Shelter for technical interns"


def general_fund() -> Fund:
    """The general fund the grants migration creates (code ``general``)."""
    return Fund.objects.get_or_create(
        code="general",
        defaults={"name": "一般会計", "name_en": "General fund", "kind": "general"},
    )[0]


class DonorFactory(factory.Factory):
    """``DonorFactory(family_name="山田", tags=["monthly"], user=staff)``.

    Builds through ``donor_create``; ``user`` is the acting staff user for the
    audit row (None = system), ``tags`` and ``consents`` go to the service.
    """

    class Meta:
        model = Donor

    kind = Donor.Kind.INDIVIDUAL
    family_name = "山田"
    given_name = factory.Sequence(lambda n: f"花子{n}")
    family_name_kana = "ヤマダ"
    given_name_kana = "ハナコ"
    email = factory.Sequence(lambda n: f"donor{n}@example.jp")
    country = "JP"

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        return model_class(**kwargs)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        user = kwargs.pop("user", None)
        tags = kwargs.pop("tags", None)
        consents = kwargs.pop("consents", None)
        return donor_create(user=user, tags=tags, consents=consents, **kwargs)


def make_gift(
    *,
    donor: Donor | None = None,
    amount: int | str = 10_000,
    currency: str = "JPY",
    amount_yen: int | None = None,
    fund: Fund | None = None,
    kind: str = Gift.Kind.DONATION,
    method: str = Gift.Method.BANK_TRANSFER,
    received_on: dt.date | None = None,
    user: Any = None,
    **extra: Any,
) -> Gift:
    """Record a gift through ``gift_record`` and return it.

    ``amount`` is in major units (``"12.34"`` USD, ``10000`` JPY). For a non-JPY
    gift, ``amount_yen`` defaults to 150 yen per major unit, rounded down.
    """
    money = Money.of(str(amount), currency)
    if currency != "JPY" and amount_yen is None:
        amount_yen = max(1, int(str(amount).split(".")[0]) * 150)
    result = gift_record(
        donor=donor,
        kind=kind,
        amount=money,
        amount_yen=amount_yen,
        received_on=received_on or timezone.localdate(),
        method=method,
        fund=fund or general_fund(),
        received_by=user,
        **extra,
    )
    return result.gift
