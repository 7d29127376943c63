"""Giving totals (the Board's view): whole months, and no figure of fewer than 5
gifts — on the page and in its CSV / XLSX exports — so narrowing the period to a
single day does not show one donor's gift."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from donors.selectors import giving_totals, whole_months
from kyosei.roles import Role
from tests.factories.donors import DonorFactory, FundFactory, make_gift
from tests.factories.users import mfa_login, staff_user

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 6, 17)
ONE_GIFT = 12_345


@pytest.fixture
def june():
    """Six ¥1,000 gifts to the general fund in June 2025, and one ¥12,345 gift on
    17 June to a small fund."""
    for n in range(6):
        make_gift(
            donor=DonorFactory(family_name=f"多数{n}"),
            amount=1_000,
            received_on=dt.date(2025, 6, 1 + n),
        )
    small_fund = FundFactory(name="小さな基金")
    single = make_gift(
        donor=DonorFactory(family_name="一人", given_name="目立子"),
        amount=ONE_GIFT,
        fund=small_fund,
        received_on=DAY,
    )
    return single


def test_periods_are_whole_months():
    assert whole_months(DAY, DAY) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert whole_months(dt.date(2024, 12, 31), dt.date(2025, 2, 1)) == (
        dt.date(2024, 12, 1),
        dt.date(2025, 2, 28),
    )


def test_selector_withholds_the_single_gift_and_its_complement(june):
    totals = giving_totals(start=DAY, end=DAY)
    assert (totals.start, totals.end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert totals.gift_count == 7 and totals.total_yen == 6_000 + ONE_GIFT
    by_fund = {row["fund__name"]: row for row in totals.by_fund}
    assert by_fund["小さな基金"]["hidden"] == "small"
    assert by_fund["小さな基金"]["total"] is None
    # Shown, the general fund's total would give the small fund away
    # (total − general = the single gift): hidden too.
    general = next(r for name, r in by_fund.items() if name != "小さな基金")
    assert general["hidden"] == "complement" and general["total"] is None
    # One month and one kind hold all seven gifts: shown.
    assert [r["count"] for r in totals.by_month] == [7]
    assert [r["count"] for r in totals.by_kind] == [7]


def test_board_narrowing_to_one_day_sees_no_single_gift(client, june):
    mfa_login(client, staff_user(Role.BOARD))
    url = reverse("giving_totals:index")
    query = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    response = client.get(url, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "12,345" not in html and "¥6,000" not in html
    assert "<td>&lt;5</td>" in html and "…" in html
    assert "fewer than 5 gifts" in html
    assert "一人" not in html

    csv_response = client.get(url, {**query, "export": "csv"})
    assert csv_response.status_code == 200
    rows = list(
        csv.reader(io.StringIO(b"".join(csv_response.streaming_content).decode()))
    )
    fund_rows = {r[1]: r for r in rows if r[0] == "By fund"}
    assert fund_rows["小さな基金"][2:] == ["<5", "<5"]
    assert "12345" not in {cell for row in rows for cell in row}

    xlsx_response = client.get(url, {**query, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx_response.streaming_content))).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["By fund", "小さな基金", "<5", "<5"] in cells
    assert ONE_GIFT not in {v for row in cells for v in row}


def test_fewer_than_five_gifts_in_the_period_hides_every_figure(client):
    donor = DonorFactory(family_name="少数")
    for day in (3, 4):
        make_gift(donor=donor, amount=7_777, received_on=dt.date(2025, 6, day))
    totals = giving_totals(start=DAY, end=DAY)
    assert totals.hidden == "small"
    assert (totals.total_yen, totals.gift_count, totals.donor_count) == (None,) * 3
    assert all(
        row["hidden"] == "small" and row["total"] is None
        for row in totals.by_fund + totals.by_month + totals.by_kind
    )
    mfa_login(client, staff_user(Role.BOARD))
    html = client.get(
        reverse("giving_totals:index"), {"start": "2025-06-01", "end": "2025-06-30"}
    ).content.decode()
    assert "15,554" not in html and "7,777" not in html


def test_a_period_with_enough_gifts_shows_every_figure(client, june):
    for _ in range(4):
        make_gift(donor=DonorFactory(), amount=1_000, fund=june.fund, received_on=DAY)
    totals = giving_totals(start=DAY, end=DAY)
    assert all(not row["hidden"] for row in totals.by_fund)
    mfa_login(client, staff_user(Role.BOARD))
    html = client.get(
        reverse("giving_totals:index"), {"start": "2025-06-01", "end": "2025-06-30"}
    ).content.decode()
    assert "¥16,345" in html and "¥6,000" in html and "&lt;5" not in html
