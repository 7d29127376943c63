"""Formula injection: every CSV and XLSX Kyosei writes keeps donors' text as text.

A donor named ``=HYPERLINK("http://x","y")`` with the address line ``@SUM(1)``
and the phone ``+81 …`` goes through every export path: ``export_gifts``, the
django-import-export resources (gifts and donors, both formats, and back in),
the donor register (command and admin download) and Wagtail's own listing
exports (site history). CSV cells start with an apostrophe; XLSX cells are
strings, never formulas.
"""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import load_workbook

from donors.exporters.resources import DonorResource, GiftResource
from kyosei.roles import Role
from kyosei.spreadsheets import is_formula_like
from tests.factories.donors import DonorFactory, make_gift
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://x","y")'
LINE = "@SUM(1)"
PHONE = "+81 90-1234-5678"


def hostile_donor():
    return DonorFactory(
        family_name=NAME,
        given_name="",
        family_name_kana="",
        given_name_kana="",
        phone=PHONE,
        postal_code="160-0022",
        prefecture="東京都",
        city="新宿区",
        address_line1=LINE,
        notes="-1 (a note)",
    )


@pytest.fixture
def hostile():
    donor = hostile_donor()
    assert donor.display_name() == NAME and donor.phone.startswith("+")
    make_gift(donor=donor, amount=5_000, received_on=dt.date(2025, 5, 1))
    return donor


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_csv_safe(text: str, *expected: str) -> None:
    cells = csv_cells(text)
    assert not [c for c in cells if is_formula_like(c)]
    for value in expected:
        assert "'" + value in cells, value


def xlsx_cells(data: bytes):
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row]


def assert_xlsx_safe(data: bytes, *expected: str, quote_prefix: bool = True) -> None:
    """No formula anywhere; each expected text is a string cell, as typed and
    quote-prefixed (``quote_prefix``) or with the CSV apostrophe (tablib)."""
    cells = xlsx_cells(data)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for value in expected:
        found = [c for c in cells if c.value in (value, "'" + value)]
        assert found, value
        for cell in found:
            assert cell.data_type == "s"
            if cell.value == value:
                assert cell.quotePrefix or not quote_prefix


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_gifts_command(tmp_path, hostile, fmt):
    path = tmp_path / f"gifts.{fmt}"
    call_command("export_gifts", "--output", str(path), stdout=io.StringIO())
    if fmt == "csv":
        assert_csv_safe(path.read_text(encoding="utf-8-sig"), NAME)
    else:
        assert_xlsx_safe(path.read_bytes(), NAME)


@pytest.mark.parametrize("fmt", [CSV(), XLSX()], ids=["csv", "xlsx"])
def test_gift_resource_export(hostile, fmt):
    data = fmt.export_data(GiftResource().export())
    if isinstance(fmt, CSV):
        assert_csv_safe(data, NAME)
    else:
        assert_xlsx_safe(data, NAME, quote_prefix=False)


@pytest.mark.parametrize("fmt", [CSV(), XLSX()], ids=["csv", "xlsx"])
def test_donor_resource_export_and_back(hostile, fmt):
    data = fmt.export_data(DonorResource().export())
    if isinstance(fmt, CSV):
        assert_csv_safe(data, NAME, LINE, hostile.phone, hostile.notes)
    else:
        assert_xlsx_safe(data, NAME, LINE, hostile.phone, quote_prefix=False)

    # the apostrophe comes off on the way back in: nothing changes
    result = DonorResource().import_data(fmt.create_dataset(data), dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 1 and result.totals["update"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_donor_register_command(tmp_path, hostile, fmt):
    path = tmp_path / f"register.{fmt}"
    call_command(
        "donor_register",
        "--fy=2025",
        f"--format={fmt}",
        f"--output={path}",
        stdout=io.StringIO(),
    )
    if fmt == "csv":
        assert_csv_safe(path.read_text(encoding="utf-8-sig"), NAME)
    else:
        assert_xlsx_safe(path.read_bytes(), NAME)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_donor_register_admin_download(client, hostile, fmt):
    client.force_login(staff_user(Role.FINANCE))
    response = client.get(
        "/admin/donors/portal/register/",
        {"fiscal_year": 2025, "format": fmt, "download": "1"},
    )
    assert response.status_code == 200
    if fmt == "csv":
        assert_csv_safe(response.content.decode("utf-8-sig"), NAME)
    else:
        assert_xlsx_safe(response.content, NAME)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_wagtail_site_history_export(client, fmt):
    """The log entries' labels are donors' names (Wagtail writes the CSV)."""
    hostile_donor()  # its "Donor created" entry is labelled with the name
    client.force_login(staff_user(Role.ADMIN))
    response = client.get("/admin/reports/site-history/", {"export": fmt})
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else None
    if fmt == "csv":
        assert_csv_safe(data.decode(), NAME)
    else:
        # Wagtail's XLSX writer already keeps formula-looking text a string
        assert_xlsx_safe(data, NAME, quote_prefix=False)
