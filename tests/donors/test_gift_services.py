"""gift_record / gift_refund: rules, ledger posting, idempotency, concurrency."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone, translation

from donors.errors import GiftError
from donors.models import Gift, GiftRefund
from donors.services.donors import donor_create
from donors.services.gifts import gift_record, gift_refund
from grants.models import Account, Fund, LedgerEntry
from grants.selectors import fund_balance
from kyosei.audit import audit_entries
from kyosei.money import CurrencyError, MixedCurrencyError, Money

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    # the assertions read the (English) source text of the error messages
    with translation.override("en"):
        yield


D = dt.date


@pytest.fixture
def donor():
    return donor_create(
        user=None,
        family_name="山田",
        given_name="太郎",
        family_name_kana="やまだ",
        given_name_kana="たろう",
    )


@pytest.fixture
def general():
    return Fund.objects.get(code="general")


FIVE_THOUSAND = Money.yen(5_000)


def record(donor, fund, amount=FIVE_THOUSAND, **kwargs):
    defaults = dict(
        kind=Gift.Kind.DONATION, received_on=D(2025, 5, 1), method=Gift.Method.CASH
    )
    defaults.update(kwargs)
    return gift_record(donor=donor, amount=amount, fund=fund, **defaults)


def test_gift_posts_one_ledger_entry_and_audit(donor, general):
    result = record(donor, general)
    gift = result.gift
    assert result.created
    assert gift.amount_yen == 5_000 and gift.status == Gift.Status.RECEIVED
    entry = gift.ledger_entry
    assert (entry.fund, entry.account, entry.amount_yen) == (
        general,
        Account.DONATIONS,
        5_000,
    )
    assert fund_balance(general) == 5_000
    assert audit_entries(gift).filter(action="donors.gift.recorded").count() == 1


def test_member_dues_post_to_membership_account(donor, general):
    gift = record(donor, general, kind=Gift.Kind.MEMBER_DUES).gift
    assert gift.ledger_entry.account == Account.MEMBERSHIP_DUES


def test_foreign_currency_keeps_original_and_settled_yen(donor, general):
    gift = record(
        donor,
        general,
        amount=Money(5_000, "USD"),
        amount_yen=7_412,
        fee_yen=290,
        method=Gift.Method.CARD,
    ).gift
    assert (gift.amount, gift.currency, gift.amount_yen, gift.net_yen) == (
        5_000,
        "USD",
        7_412,
        7_122,
    )
    assert gift.ledger_entry.amount_yen == 7_412


def test_foreign_currency_needs_settled_yen(donor, general):
    with pytest.raises(GiftError, match="settled"):
        record(donor, general, amount=Money(5_000, "USD"))


@pytest.mark.parametrize("amount", [Money.yen(0), Money.yen(-100)])
def test_zero_or_negative_gift_refused(donor, general, amount):
    with pytest.raises(GiftError, match="more than zero"):
        record(donor, general, amount=amount)
    assert not Gift.objects.exists() and not LedgerEntry.objects.exists()


def test_unknown_currency_refused():
    with pytest.raises(CurrencyError):
        Money(100, "XYZ")


def test_mixed_currency_arithmetic_refused():
    with pytest.raises(MixedCurrencyError):
        Money.yen(100) + Money(100, "USD")


def test_future_date_refused(donor, general):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(GiftError, match="future"):
        record(donor, general, received_on=tomorrow)
    assert not Gift.objects.exists()


def test_closed_fund_refused(donor):
    closed = Fund.objects.create(
        code="old",
        name="旧キャンペーン",
        kind=Fund.Kind.RESTRICTED,
        closed_on=D(2024, 3, 31),
    )
    with pytest.raises(GiftError, match="closed"):
        record(donor, closed)
    assert not Gift.objects.exists()


def test_same_external_reference_records_once(donor, general):
    first = record(donor, general, method=Gift.Method.CARD, stripe_charge_id="ch_1")
    again = record(donor, general, method=Gift.Method.CARD, stripe_charge_id="ch_1")
    assert first.created and not again.created
    assert again.gift == first.gift
    assert Gift.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_import_fingerprint_is_an_idempotency_key(donor, general):
    record(donor, general, import_fingerprint="abc")
    record(donor, general, import_fingerprint="abc")
    assert Gift.objects.count() == 1


def test_refund_partial_then_full(donor, general):
    gift = record(donor, general, amount=Money.yen(10_000)).gift
    gift_refund(
        gift=gift, amount_yen=4_000, reason="二重振込", refunded_on=D(2025, 6, 1)
    )
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PARTIALLY_REFUNDED and gift.refunded_yen == 4_000
    assert fund_balance(general) == 6_000
    gift_refund(gift=gift, refunded_on=D(2025, 6, 2))
    gift.refresh_from_db()
    assert gift.status == Gift.Status.REFUNDED and fund_balance(general) == 0
    # reversing entries, nothing edited
    assert list(
        LedgerEntry.objects.order_by("id").values_list("amount_yen", flat=True)
    ) == [10_000, -4_000, -6_000]


def test_refund_larger_than_gift_refused(donor, general):
    gift = record(donor, general, amount=Money.yen(3_000)).gift
    with pytest.raises(GiftError, match="only ¥3,000"):
        gift_refund(gift=gift, amount_yen=3_001)
    assert not GiftRefund.objects.exists() and fund_balance(general) == 3_000


def test_refund_of_refunded_gift_refused(donor, general):
    gift = record(donor, general).gift
    gift_refund(gift=gift)
    with pytest.raises(GiftError):
        gift_refund(gift=gift)


def test_refund_idempotent_on_stripe_refund_id(donor, general):
    gift = record(
        donor, general, amount=Money.yen(10_000), method=Gift.Method.CARD
    ).gift
    gift_refund(gift=gift, amount_yen=1_000, stripe_refund_id="re_1")
    gift_refund(gift=gift, amount_yen=1_000, stripe_refund_id="re_1")
    assert GiftRefund.objects.count() == 1 and fund_balance(general) == 9_000


def test_anonymous_cash_box_gift_has_no_donor(general):
    gift = record(None, general, amount=Money.yen(1_234)).gift
    assert gift.donor is None and gift.ledger_entry.amount_yen == 1_234


def _race(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_gift_record_same_reference_records_one_gift():
    donor = donor_create(user=None, family_name="並行", given_name="花子")
    # transactional tests flush the migration's data: make our own fund
    fund = Fund.objects.create(code="race", name="並行テスト", kind=Fund.Kind.GENERAL)
    results, errors = _race(
        4,
        lambda: gift_record(
            donor=donor,
            kind=Gift.Kind.DONATION,
            amount=Money.yen(3_000),
            received_on=D(2025, 5, 1),
            method=Gift.Method.CARD,
            fund=fund,
            stripe_charge_id="ch_race",
        ),
    )
    assert errors == []
    assert sum(r.created for r in results) == 1
    assert len({r.gift.pk for r in results}) == 1
    assert Gift.objects.count() == 1
    assert LedgerEntry.objects.filter(fund=fund).count() == 1
    assert fund_balance(fund) == 3_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_refunds_never_exceed_the_gift():
    donor = donor_create(user=None, family_name="返金", given_name="次郎")
    fund = Fund.objects.create(code="race2", name="返金テスト", kind=Fund.Kind.GENERAL)
    gift = gift_record(
        donor=donor,
        kind=Gift.Kind.DONATION,
        amount=Money.yen(10_000),
        received_on=D(2025, 5, 1),
        method=Gift.Method.CASH,
        fund=fund,
    ).gift
    results, errors = _race(4, lambda: gift_refund(gift=gift, amount_yen=4_000))
    assert len(results) == 2 and len(errors) == 2
    assert all(isinstance(e, GiftError) for e in errors)
    assert fund_balance(fund) == 2_000
