"""Acceptance (issue 3): after ``seed_demo`` the books agree with the gifts.

For every fund: the sum of its ledger entries == ``fund_balance`` == the balance
the admin's fund list shows == received gifts designated to it minus refunds.

Seeding about 2,000 gifts through the real services takes seconds, so the demo
is seeded once and one test runs every check on it (separate test functions
would each seed again, or seed once per xdist worker).
"""

import datetime as dt
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from donors import demo
from donors.models import Donor, Gift, GiftRefund, Household
from grants import demo as grants_demo
from grants.models import Fund, LedgerEntry
from grants.selectors import fund_balance, fund_balances, fund_list_with_balances

GIFT_STATUSES_IN_BOOKS = (
    Gift.Status.RECEIVED,
    Gift.Status.PARTIALLY_REFUNDED,
    Gift.Status.REFUNDED,
)
KATAKANA = re.compile(r"^[\u30a0-\u30ff ]*$")


def _sum(queryset, field="amount_yen") -> int:
    return queryset.aggregate(total=Sum(field))["total"] or 0


def check_every_fund_balance_equals_its_gifts_minus_refunds():
    listed = {fund.code: fund.balance or 0 for fund in fund_list_with_balances()}
    grouped = fund_balances()
    assert Fund.objects.count() >= 5
    for fund in Fund.objects.all():
        ledger = _sum(LedgerEntry.objects.filter(fund=fund))
        gifts = Gift.objects.filter(fund=fund, status__in=GIFT_STATUSES_IN_BOOKS)
        refunds = _sum(GiftRefund.objects.filter(gift__fund=fund))
        expected = _sum(gifts) - refunds
        assert gifts.exists(), fund.code
        assert ledger == fund_balance(fund) == expected, fund.code
        assert listed[fund.code] == grouped[fund.pk] == expected, fund.code
        # The gifts' own running figures say the same.
        assert _sum(gifts) - _sum(gifts, "refunded_yen") == expected, fund.code
    # Every gift posted exactly one entry; every refund one reversing entry.
    assert LedgerEntry.objects.filter(reverses__isnull=True).count() == (
        Gift.objects.count()
    )
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == (
        GiftRefund.objects.count()
    )


def check_demo_data_has_the_promised_shape():
    today = timezone.localdate()
    fy_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    start = fy_start.replace(year=fy_start.year - 2)

    donors = Donor.objects.all()
    assert 280 <= donors.count() <= 330
    assert donors.exclude(country="JP").count() >= 15
    assert donors.filter(kind=Donor.Kind.ORGANISATION).count() >= 5
    assert {"corporation", "certified_npo"} <= set(
        donors.values_list("donor_type", flat=True)
    )
    officers = donors.filter(is_officer=True)
    assert officers.count() >= 4
    assert not officers.filter(officer_since__isnull=True).exists()
    assert officers.filter(officer_until__isnull=False).exists()
    sizes = set(
        Household.objects.annotate(n=Count("members")).values_list("n", flat=True)
    )
    assert sizes <= {2, 3} and sizes
    assert donors.filter(latin_name__contains="ễ").exists()  # diacritics kept
    for donor in donors.filter(kind=Donor.Kind.INDIVIDUAL).exclude(family_name=""):
        assert donor.family_name_kana and KATAKANA.match(donor.kana_name), donor

    gifts = Gift.objects.all()
    assert 1_600 <= gifts.count() <= 2_400
    assert not gifts.filter(received_on__gt=today).exists()
    assert not gifts.filter(received_on__lt=start).exists()
    assert set(gifts.values_list("method", flat=True)) >= {
        "card", "bank_transfer", "postal_transfer", "cash", "in_kind",
    }  # fmt: skip
    assert set(gifts.values_list("currency", flat=True)) >= {
        "JPY", "USD", "EUR", "AUD", "VND",
    }  # fmt: skip
    assert set(gifts.values_list("kind", flat=True)) == set(Gift.Kind.values)
    assert gifts.filter(donor__isnull=True).exists()  # cash boxes
    years = {
        g.year if g.month >= 4 else g.year - 1
        for g in gifts.dates("received_on", "month")
    }
    assert years == {start.year, start.year + 1, start.year + 2}

    refunds = GiftRefund.objects.all()
    assert refunds.count() == 20
    assert gifts.filter(status=Gift.Status.PARTIALLY_REFUNDED).exists()
    assert gifts.filter(status=Gift.Status.REFUNDED).exists()
    assert not refunds.filter(refunded_on__gt=today).exists()

    closed = Fund.objects.get(code=grants_demo.PAST_CAMPAIGN)
    assert closed.closed_on is not None and closed.closed_on < today
    assert not gifts.filter(fund=closed, received_on__gt=closed.closed_on).exists()


def check_seed_demo_twice_changes_nothing():
    def counts():
        return {
            model._meta.label: model.objects.count()
            for model in apps.get_models()
            if not model._meta.proxy and model._meta.label != "sessions.Session"
        }

    before = counts()
    call_command("seed_demo", stdout=StringIO())
    demo.seed()
    assert counts() == before
    demo_gifts = Gift.objects.filter(import_fingerprint__startswith="demo-")
    assert demo_gifts.count() >= 1_600


@pytest.mark.django_db
def test_seed_demo_books_balance_and_data_shape():
    call_command("seed_demo", stdout=StringIO())
    check_every_fund_balance_equals_its_gifts_minus_refunds()
    check_demo_data_has_the_promised_shape()
    check_seed_demo_twice_changes_nothing()
