"""kyosei.spreadsheets: which cells are escaped, and how, in CSV and XLSX."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from kyosei.spreadsheets import (
    csv_cell,
    is_formula_like,
    unescape_cell,
    xlsx_row,
)

TRIGGERED = [
    '=HYPERLINK("http://x","y")',
    "+81 90-1234-5678",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "＝ＳＵＭ（１）",
    "＋８１",
    "－１",
    "＠ＳＵＭ",
]
PLAIN = [
    "山田 花子",
    "Nguyễn Văn An",
    "ヤマダ ハナコ",
    "ーのつく名",
    "−1",
    " =1",
    "a=b",
    "",
]


@pytest.mark.parametrize("text", TRIGGERED)
def test_formula_like_text_gets_an_apostrophe_in_csv(text):
    assert is_formula_like(text)
    assert csv_cell(text) == "'" + text
    assert unescape_cell(csv_cell(text)) == text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_unchanged(text):
    assert not is_formula_like(text)
    assert csv_cell(text) == text
    assert unescape_cell(text) == text


@pytest.mark.parametrize(
    "value", [-5, 0, 12, -1.5, Decimal("-3"), dt.date(2025, 4, 1), True, None]
)
def test_numbers_dates_and_empty_cells_stay_as_they_are(value):
    assert csv_cell(value) is value


def test_unescape_only_takes_off_the_apostrophe_an_export_added():
    assert unescape_cell("'=x") == "=x"
    assert unescape_cell("'Ohana' group") == "'Ohana' group"
    assert unescape_cell("''=x") == "''=x"  # typed that way: kept


def test_xlsx_cells_are_strings_with_quote_prefix_and_numbers_stay_numbers():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append(xlsx_row(sheet, [*TRIGGERED, -5, 3000, dt.date(2025, 4, 1), "山田"]))
    out = io.BytesIO()
    book.save(out)

    row = next(load_workbook(out)["s"].iter_rows())
    for cell, text in zip(row, TRIGGERED, strict=False):
        assert cell.data_type == "s" and cell.quotePrefix
        # XML reads a carriage return back as a line feed
        assert cell.value == text.replace("\r", "\n")
    number, amount, day, name = row[len(TRIGGERED) :]
    assert (number.value, number.data_type) == (-5, "n")
    assert (amount.value, amount.data_type) == (3000, "n")
    assert day.is_date and not name.quotePrefix
