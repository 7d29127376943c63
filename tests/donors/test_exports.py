"""Gift and donor exports: export_gifts, GiftResource and DonorResource imports."""

import csv
import datetime as dt
from io import StringIO

import pytest
import tablib
from django.core.management import CommandError, call_command
from import_export.formats.base_formats import CSV, XLSX

from donors.exporters.resources import DonorResource, GiftResource
from donors.models import Consent, Donor, Gift, Household
from donors.services.gifts import gift_refund
from grants.models import LedgerEntry
from kyosei.audit import audit_entries
from tests.factories.donors import DonorFactory, FundFactory, general_fund, make_gift

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def gifts():
    """Gifts in yen and US dollars, an anonymous cash gift, a partial refund."""
    shelter = FundFactory(code="shelter", name="シェルター基金")
    donor = DonorFactory(family_name="山田", given_name="花子")
    abroad = DonorFactory(
        family_name="",
        given_name="",
        family_name_kana="",
        given_name_kana="",
        latin_name="Nguyễn Văn An",
        country="VN",
    )
    made = [
        make_gift(donor=donor, amount=10_000, received_on=D(2025, 4, 1)),
        make_gift(
            donor=abroad,
            amount="12.34",
            currency="USD",
            amount_yen=1_850,
            fund=shelter,
            method=Gift.Method.CARD,
            fee_yen=66,
            received_on=D(2025, 6, 30),
            stripe_charge_id="ch_demo_1",
        ),
        make_gift(donor=None, amount=3_000, method="cash", received_on=D(2025, 9, 1)),
        make_gift(donor=donor, amount=5_000, received_on=D(2026, 3, 31)),
        make_gift(donor=donor, amount=7_000, received_on=D(2026, 4, 1)),  # next FY
    ]
    gift_refund(gift=made[3], amount_yen=2_000, refunded_on=D(2026, 4, 5))
    return made


def export(tmp_path, fmt, *args):
    out = StringIO()
    path = tmp_path / f"gifts.{fmt}"
    call_command(
        "export_gifts", *args, "--format", fmt, "--output", str(path), stdout=out
    )
    return path, out.getvalue()


def load(path):
    if path.suffix == ".xlsx":
        return XLSX().create_dataset(path.read_bytes())
    return CSV().create_dataset(path.read_text(encoding="utf-8-sig"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_gifts_reimports_through_dry_run_with_zero_errors(tmp_path, gifts, fmt):
    path, out = export(tmp_path, fmt, "--from", "2025-04-01", "--to", "2026-03-31")
    assert "Wrote 4 gift rows" in out
    dataset = load(path)
    assert len(dataset) == 4
    before = (Gift.objects.count(), LedgerEntry.objects.count())

    result = GiftResource().import_data(dataset, dry_run=True)

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 4 and result.totals["new"] == 0
    assert (Gift.objects.count(), LedgerEntry.objects.count()) == before


def test_export_gifts_columns_and_values(tmp_path, gifts):
    path, _ = export(tmp_path, "csv", "--from", "2025-04-01", "--to", "2026-03-31")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id", "donor_id", "donor_name", "kind", "amount", "currency", "amount_yen",
        "fee_yen", "refunded_yen", "received_on", "method", "fund", "status",
        "stripe_charge_id", "stripe_invoice_id", "import_fingerprint", "campaign_id",
    ]  # fmt: skip
    usd = next(r for r in rows if r["currency"] == "USD")
    assert usd["amount"] == "12.34"  # exact major units, never a float
    assert (usd["amount_yen"], usd["fee_yen"]) == ("1850", "66")
    assert usd["donor_name"] == "Nguyễn Văn An" and usd["fund"] == "shelter"
    assert usd["stripe_charge_id"] == "ch_demo_1"
    refunded = next(r for r in rows if r["received_on"] == "2026-03-31")
    assert refunded["refunded_yen"] == "2000"
    assert refunded["status"] == "partially_refunded"
    cash = next(r for r in rows if r["method"] == "cash")
    assert cash["donor_id"] == "" and cash["donor_name"] == ""
    assert [r["received_on"] for r in rows] == sorted(r["received_on"] for r in rows)


def test_export_gifts_xlsx_keeps_numbers_and_dates_typed(tmp_path, gifts):
    from openpyxl import load_workbook

    path, _ = export(tmp_path, "xlsx")
    sheet = load_workbook(path, read_only=True).active
    header, first = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    row = dict(zip(header, first, strict=True))
    assert row["amount_yen"] == 10_000 and isinstance(row["amount_yen"], int)
    assert row["received_on"].date() == D(2025, 4, 1)
    assert row["amount"] == "10000"  # text: the original amount stays exact


def test_export_escapes_spreadsheet_formulas_in_names(tmp_path):
    donor = DonorFactory(family_name="", given_name="", latin_name="=HYPERLINK(1)")
    make_gift(donor=donor, amount=1_000, received_on=D(2025, 5, 1))
    path, _ = export(tmp_path, "csv")
    text = path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_gift_import_records_new_rows_through_gift_record_once(tmp_path, gifts):
    path, _ = export(tmp_path, "csv", "--from", "2025-04-01", "--to", "2025-06-30")
    dataset = load(path)
    # The same gifts as if from another system: no ids, no references.
    for column in ("id", "stripe_charge_id", "import_fingerprint"):
        index = dataset.headers.index(column)
        dataset = tablib.Dataset(
            *[[*r[:index], "", *r[index + 1 :]] for r in dataset],
            headers=dataset.headers,
        )
    before = Gift.objects.count()

    dry = GiftResource().import_data(dataset, dry_run=True)
    assert not dry.has_errors() and not dry.has_validation_errors()
    assert dry.totals["new"] == 2 and Gift.objects.count() == before

    real = GiftResource().import_data(dataset, dry_run=False)
    assert real.totals["new"] == 2 and Gift.objects.count() == before + 2
    new = Gift.objects.order_by("-id")[:2]
    for gift in new:
        assert gift.ledger_entry.amount_yen == gift.amount_yen
        assert gift.import_fingerprint.startswith("gift-import:")
        assert audit_entries(gift).filter(action="donors.gift.recorded").exists()
    usd = next(g for g in new if g.currency == "USD")
    assert (usd.amount, usd.amount_yen, usd.fee_yen) == (1234, 1_850, 66)

    again = GiftResource().import_data(dataset, dry_run=False)
    assert again.totals["skip"] == 2 and Gift.objects.count() == before + 2


def _row(**values):
    row = {
        "id": "",
        "donor_id": "",
        "kind": "donation",
        "amount": "1000",
        "currency": "JPY",
        "amount_yen": "",
        "refunded_yen": "",
        "received_on": "2025-05-01",
        "method": "cash",
        "fund": "general",
        "status": "received",
    }
    row.update(values)
    return row


def _import(*rows, dry_run=True):
    dataset = tablib.Dataset(headers=list(rows[0]))
    for row in rows:
        dataset.append(list(row.values()))
    return GiftResource().import_data(dataset, dry_run=dry_run)


def test_gift_import_reports_bad_rows_clearly_and_writes_nothing():
    general_fund()
    result = _import(
        _row(),
        _row(fund="nope", donor_id="999999"),
        _row(amount="1.5"),
        _row(currency="XXX"),
        _row(kind="gift"),
        _row(status="refunded", refunded_yen="1000"),
        _row(received_on="2999-01-01"),
        _row(amount="0"),
        dry_run=False,
    )
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert errors[2] == {"fund": ["No fund “nope”."], "donor": ["No donor “999999”."]}
    assert "not an amount in JPY" in errors[3]["amount"][0]
    assert errors[4] == {"currency": ["Unknown currency “XXX”."]}
    assert "Unknown kind “gift”" in errors[5]["kind"][0]
    assert "record the refund" in errors[6]["refunded_yen"][0]
    assert "status" in errors[6]
    assert "in the future" in str(errors[7])  # gift_record's own rule
    assert "more than zero" in str(errors[8])
    assert result.totals["new"] == 1 and result.totals["invalid"] == 7
    # An invalid row rolls the whole import back: nothing half-imported.
    assert Gift.objects.count() == 0 and LedgerEntry.objects.count() == 0


def test_gift_import_matches_existing_gift_by_external_reference(gifts):
    result = _import(
        _row(stripe_charge_id="ch_demo_1", amount="999", received_on="2025-01-01")
    )
    assert result.totals["skip"] == 1 and not result.has_validation_errors()


def test_gift_import_as_staff_user_records_received_by(django_user_model):
    general_fund()
    user = django_user_model.objects.create(username="finance-x")
    dataset = tablib.Dataset(headers=list(_row()))
    dataset.append(list(_row().values()))
    GiftResource(user=user).import_data(dataset, dry_run=False)
    assert Gift.objects.get().received_by == user


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-04-01", "--to", "2025-03-31"], "is after --to"),
        (["--from", "2025-02-30"], "is not a date; use YYYY-MM-DD"),
        (["--to", "31/03/2026"], "is not a date; use YYYY-MM-DD"),
        (["--format", "pdf"], "Unknown format “pdf”; use one of: csv, xlsx"),
    ],
)
def test_export_gifts_bad_arguments(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_gifts", *args, "--output", str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()


def test_export_gifts_unwritable_paths(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_gifts", "--output", str(tmp_path / "missing" / "x.csv"))
    with pytest.raises(CommandError, match="is a directory"):
        call_command("export_gifts", "--output", str(tmp_path))
    (tmp_path / "file").write_text("")
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("export_gifts", "--output", str(tmp_path / "file" / "x.csv"))
    # Writable-looking to root, refused by the kernel.
    with pytest.raises(CommandError, match="Cannot write /proc/x.csv"):
        call_command("export_gifts", "--output", "/proc/x.csv")


def test_export_gifts_format_from_extension_and_empty_range(tmp_path, gifts):
    out = StringIO()
    path = tmp_path / "g.xlsx"
    call_command(
        "export_gifts", "--from", "2030-01-01", "--output", str(path), stdout=out
    )
    assert "Wrote 0 gift rows" in out.getvalue() and "(xlsx)" in out.getvalue()
    assert len(load(path)) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["g.xlsx"]  # no temp file left


# -- donors ---------------------------------------------------------------------------


@pytest.fixture
def donors():
    household = Household.objects.create(name="山田家")
    first = DonorFactory(
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        household=household,
        postal_code="160-0022",
        phone="090-1234-5678",
        tags=["newsletter", "board"],
        consents=[
            {
                "channel": Consent.Channel.EMAIL,
                "granted": True,
                "recorded_on": D(2025, 4, 1),
                "source": "web form",
            }
        ],
        is_officer=True,
        officer_since=D(2020, 6, 1),
    )
    org = DonorFactory(
        kind=Donor.Kind.ORGANISATION,
        donor_type=Donor.DonorType.CERTIFIED_NPO,
        family_name="",
        given_name="",
        family_name_kana="",
        given_name_kana="",
        organisation_name="認定NPO法人 あおぞら",
        organisation_name_kana="アオゾラ",
    )
    return first, org


def test_donor_export_has_contact_fields_tags_household_and_consents(donors):
    first, org = donors
    dataset = DonorResource().export()
    rows = {row["id"]: row for row in dataset.dict}
    row = rows[first.pk]
    assert row["display_name"] == "山田 太郎"
    assert (row["family_name_kana"], row["given_name_kana"]) == ("ヤマダ", "タロウ")
    assert row["prefecture"] == "東京都" and row["city"] == "新宿区"
    assert row["household"] == "山田家" and row["tags"] == "board, newsletter"
    assert row["consents"] == "email: yes (2025-04-01, web form)"
    assert (row["is_officer"], row["officer_since"]) == ("1", "2020-06-01")
    assert rows[org.pk]["donor_type"] == "certified_npo"


@pytest.mark.parametrize("fmt", [CSV(), XLSX()])
def test_donor_export_reimports_unchanged(donors, fmt):
    data = fmt.export_data(DonorResource().export())
    result = DonorResource().import_data(fmt.create_dataset(data), dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 2


def test_donor_import_updates_and_creates_through_the_services(donors):
    first, _ = donors
    dataset = DonorResource().export()
    headers = dataset.headers
    changed = list(dataset[0])
    changed[headers.index("email")] = "Taro@Example.COM"
    changed[headers.index("tags")] = "board"
    new = ["" for _ in headers]
    for name, value in {
        "kind": "individual",
        "donor_type": "individual",
        "family_name_kana": "ぐえん",
        "given_name_kana": "ばん あん",
        "latin_name": "Nguyễn Văn An",
        "phone": "０８０－１１１１－２２２２",
        "country": "JP",
        "preferred_language": "vi",
        "is_officer": "0",
        "source": "import",
    }.items():
        new[headers.index(name)] = value
    upload = tablib.Dataset(changed, new, headers=headers)

    dry = DonorResource().import_data(upload, dry_run=True)
    assert not dry.has_errors() and not dry.has_validation_errors()
    assert (dry.totals["update"], dry.totals["new"]) == (1, 1)
    assert Donor.objects.count() == 2

    DonorResource().import_data(upload, dry_run=False)
    first.refresh_from_db()
    assert first.email == "taro@example.com" and list(first.tags.names()) == ["board"]
    assert audit_entries(first).filter(action="donors.donor.updated").exists()
    created = Donor.objects.get(latin_name="Nguyễn Văn An")
    assert created.family_name_kana == "グエン" and created.phone == "080-1111-2222"


def test_donor_import_refuses_a_nameless_donor():
    dataset = tablib.Dataset(headers=["id", "kind", "email"])
    dataset.append(["", "individual", "x@example.com"])
    result = DonorResource().import_data(dataset, dry_run=True)
    assert result.has_validation_errors()
    assert "needs a name" in str(result.invalid_rows[0].error_dict)


def test_gift_import_without_id_column():
    general_fund()
    row = _row()
    del row["id"]
    result = _import(row, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Gift.objects.count() == 1
