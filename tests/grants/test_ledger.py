"""The fund ledger: append-only in the database, reversals, balances."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from grants.errors import LedgerError
from grants.models import Account, AppendOnlyError, Fund, LedgerEntry
from grants.selectors import (
    fund_balance,
    fund_balances,
    fund_list_with_balances,
    fund_movement_summary,
    fund_movements,
)
from grants.services.ledger import ledger_post, ledger_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    # the assertions read the (English) source text of the error messages
    with translation.override("en"):
        yield


D = dt.date


@pytest.fixture
def fund():
    return Fund.objects.create(
        code="food", name="子ども食堂の食材", kind=Fund.Kind.RESTRICTED
    )


MAY_FIRST = D(2025, 5, 1)


def post(fund, amount, day=MAY_FIRST, account=Account.DONATIONS):
    return ledger_post(fund=fund, account=account, amount_yen=amount, entry_date=day)


def test_changed_entry_is_refused_by_the_database(fund):
    entry = post(fund, 1000)
    with pytest.raises(Exception) as excinfo, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE grants_ledgerentry SET amount_yen = 5 WHERE id = %s", [entry.pk]
            )
    assert "append-only" in str(excinfo.value)
    entry.refresh_from_db()
    assert entry.amount_yen == 1000


def test_deleted_entry_is_refused_by_the_database(fund):
    entry = post(fund, 1000)
    with pytest.raises(Exception) as excinfo, transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert "append-only" in str(excinfo.value)
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_no_update_or_delete_path_in_code(fund):
    entry = post(fund, 1000)
    entry.amount_yen = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


@pytest.mark.parametrize("amount", [0, 1.5, "100", True])
def test_bad_amounts_are_refused(fund, amount):
    with pytest.raises(LedgerError):
        post(fund, amount)
    assert not LedgerEntry.objects.exists()


def test_zero_is_refused_by_the_database_too(fund):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            fund=fund, account=Account.DONATIONS, amount_yen=0, entry_date=D(2025, 1, 1)
        )


def test_closed_fund_refuses_postings(fund):
    Fund.objects.filter(pk=fund.pk).update(closed_on=D(2025, 3, 31))
    with pytest.raises(LedgerError, match="closed"):
        post(fund, 1000)


def test_unknown_account_is_refused(fund):
    with pytest.raises(LedgerError):
        post(fund, 1000, account="bogus")


def test_reversal_full_and_partial(fund):
    entry = post(fund, 10_000)
    part = ledger_reverse(entry=entry, entry_date=D(2025, 6, 1), amount_yen=3_000)
    assert part.amount_yen == -3_000 and part.reverses == entry
    rest = ledger_reverse(entry=entry, entry_date=D(2025, 6, 2))
    assert rest.amount_yen == -7_000
    assert fund_balance(fund) == 0
    with pytest.raises(LedgerError, match="already been reversed"):
        ledger_reverse(entry=entry, entry_date=D(2025, 6, 3))


def test_reversal_larger_than_entry_is_refused(fund):
    entry = post(fund, 1_000)
    with pytest.raises(LedgerError):
        ledger_reverse(entry=entry, entry_date=D(2025, 6, 1), amount_yen=1_001)
    assert fund_balance(fund) == 1_000


def test_reversal_of_a_reversal_is_refused(fund):
    reversal = ledger_reverse(entry=post(fund, 1_000), entry_date=D(2025, 6, 1))
    with pytest.raises(LedgerError):
        ledger_reverse(entry=reversal, entry_date=D(2025, 6, 2))


def test_reversal_allowed_on_closed_fund(fund):
    entry = post(fund, 1_000)
    Fund.objects.filter(pk=fund.pk).update(closed_on=D(2025, 12, 31))
    ledger_reverse(entry=entry, entry_date=D(2026, 1, 5))
    assert fund_balance(fund) == 0


def test_balance_as_of_and_movements(fund):
    post(fund, 5_000, D(2025, 4, 1))
    post(fund, 3_000, D(2025, 5, 1))
    post(fund, -2_000, D(2025, 6, 1), account=Account.PROGRAMME_OTHER)
    assert fund_balance(fund, as_of=D(2025, 4, 30)) == 5_000
    assert fund_balance(fund) == 6_000
    assert [
        e.amount_yen
        for e in fund_movements(fund, start=D(2025, 5, 1), end=D(2025, 6, 30))
    ] == [3_000, -2_000]
    general = Fund.objects.get(code="general")
    assert fund_balances() == {general.pk: 0, fund.pk: 6_000}
    listed = {f.pk: f.balance for f in fund_list_with_balances()}
    assert listed[fund.pk] == 6_000


def test_restricted_note_worked_example(fund):
    """japan-npo.md 'Restricted note': ¥100,000 restricted to food for a children's
    cafeteria, ¥60,000 spent in the year → opening 0, increase 100,000,
    decrease 60,000, closing 40,000."""
    post(fund, 100_000, D(2025, 4, 10))
    post(fund, -60_000, D(2025, 9, 1), account=Account.PROGRAMME_OTHER)
    summary = fund_movement_summary(fund, start=D(2025, 4, 1), end=D(2026, 3, 31))
    assert summary == {
        "opening": 0,
        "increase": 100_000,
        "decrease": 60_000,
        "closing": 40_000,
    }
