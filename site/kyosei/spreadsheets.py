"""Cells written to CSV and XLSX files, safe from formula injection.

Donors type their own names and addresses (portal, donate form) and banks print
the payer's name; written into a CSV or XLSX that staff open in Excel,
LibreOffice or Google Sheets, a name such as ``=HYPERLINK("http://x","y")``
would be a live formula (OWASP, "CSV Injection"). Every file Kyosei exports
writes its cells through this module:

- **CSV**: a text cell that starts with a trigger gets a leading apostrophe
  (``'=HYPERLINK…``), the only way CSV has to say "this is text".
- **XLSX**: such a cell is written as a string cell, never a formula, with the
  ``quotePrefix`` style: Excel's own way of storing a cell typed as ``'=…``. The
  name shows as typed, stays text when someone edits the cell, and reads back
  unchanged (an apostrophe in the value would be printed in the register).
- Numbers, dates, booleans and empty cells pass through: numbers stay numbers.
- Imports take the apostrophe off again (:func:`unescape_cell`), so an
  exported CSV re-imports unchanged.

Triggers (a text cell *starting* with one of them):

- ``= + - @``: Excel, LibreOffice Calc and Google Sheets start a formula with
  ``=``, ``+`` or ``-`` (``+81 3-1234-5678`` is computed), and ``@`` (Lotus
  style, and Excel's implicit intersection ``@SUM(…)``);
- TAB and CR: OWASP's list, because some readers strip leading whitespace and
  line breaks before parsing what follows;
- full-width ``＝ ＋ － ＠``: Excel's Japanese edition accepts a formula typed
  in full width (``＝ＳＵＭ（Ａ１：Ａ３）``) and converts it, as it turns
  full-width digits into numbers when it opens a CSV. Whether its CSV reader
  also starts formulas from them could not be checked here (no Excel); the
  cost of escaping them is one apostrophe on values no real name or address
  starts with, so they are escaped too. Other look-alikes (``−`` U+2212, the
  katakana ``ー``) start no formula anywhere and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV cell (or any plain-text table): formula-like text
    gets a leading apostrophe; anything else is returned as it is."""
    if is_formula_like(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """``value`` for ``sheet.append``: formula-like text becomes a string cell
    marked quote-prefixed; anything else is returned as it is (openpyxl types
    it: numbers stay numbers, dates dates)."""
    if not is_formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl makes every str starting with "=" a formula
    cell.quotePrefix = True
    return cell


def xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """A row for ``sheet.append``; cells already built (styled) are kept."""
    return [v if isinstance(v, Cell) else xlsx_cell(sheet, v) for v in values]


def unescape_cell(value: Any) -> Any:
    """The inverse of :func:`csv_cell`, for imports: ``'=x`` → ``=x``.

    Only an apostrophe in front of a trigger is taken off (one the export
    added); any other apostrophe is part of the text.
    """
    if isinstance(value, str) and value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value


def protect_wagtail_exports() -> None:
    """Escape the CSV cells of every Wagtail listing export (reports such as the
    site history, whose labels are donors' names, and any viewset's
    ``list_export``). Called once from ``KyoseiConfig.ready``.

    Wagtail's ``SpreadsheetExportMixin`` already writes formula-looking XLSX
    cells as strings, but its CSV writer does not escape. Its report views are
    Wagtail's own classes behind Wagtail's URLs, so the one place that covers
    them all — and any report a later Wagtail adds — is the mixin's per-cell
    hook, ``preprocess_field_value``, wrapped here.
    """
    # Imported when the apps are ready: Wagtail's admin views need the models.
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "kyosei_escapes_formulas", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        value = original(self, field, value, export_format)
        if export_format == SpreadsheetExportMixin.FORMAT_CSV:
            return csv_cell(value)
        return value

    preprocess_field_value.kyosei_escapes_formulas = True
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value
