"""issue_annual_receipts: restartable, each receipt once, a print run for the post."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from donors.receipts import batch
from donors.receipts.models import Receipt, ReceiptEmail
from tests.donors.receipts.conftest import jp_donor
from tests.factories.donors import make_gift

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def _donors(count, **kwargs):
    donors = []
    for i in range(count):
        donor = jp_donor(postal_code=f"1{i % 9}0-00{i:02d}"[:8], **kwargs)
        make_gift(donor=donor, amount=1000 + i, received_on=DAY)
        make_gift(donor=donor, amount=500, received_on=DAY.replace(month=8))
        donors.append(donor)
    return donors


def run(*args):
    out = StringIO()
    call_command("issue_annual_receipts", *args, stdout=out)
    return out.getvalue()


def test_run_twice_issues_each_receipt_once(profile, tmp_path):
    donors = _donors(3)
    out = run("--year", "2026", "--print-output", str(tmp_path / "print.pdf"))
    assert "3 donors, issued 3 receipts" in out
    assert Receipt.objects.filter(kind="annual").count() == 3
    assert ReceiptEmail.objects.count() == 3  # every donor has an email
    out = run("--year", "2026", "--print-output", str(tmp_path / "print.pdf"))
    assert "0 donors, issued 0 receipts" in out
    assert Receipt.objects.count() == 3
    assert sorted(Receipt.objects.values_list("donor", flat=True)) == sorted(
        d.pk for d in donors
    )


def test_dry_run_writes_nothing_and_names_problems(profile):
    _donors(2)
    jp_donor(address_line1="", postal_code="")  # no gifts: not a candidate
    no_address = jp_donor(address_line1="", postal_code="", prefecture="")
    make_gift(donor=no_address, received_on=DAY)
    out = run("--year", "2026", "--dry-run")
    assert "3 donors, would issue 2 receipts, skipped 1" in out
    assert f"donor #{no_address.pk}: no postal address" in out
    assert not Receipt.objects.exists()


def test_crash_halfway_then_rerun_completes_without_duplicates(profile, monkeypatch):
    donors = _donors(5)
    real = batch.receipt_issue_annual
    calls = {"n": 0}

    def crash_after_two(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(batch, "receipt_issue_annual", crash_after_two)
    with pytest.raises(RuntimeError):
        run("--year", "2026", "--no-email")
    assert Receipt.objects.count() == 2
    monkeypatch.setattr(batch, "receipt_issue_annual", real)
    out = run("--year", "2026", "--no-email")
    assert "3 donors, issued 3 receipts" in out
    assert Receipt.objects.count() == 5
    assert Receipt.objects.values("donor").distinct().count() == len(donors)
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    year = Receipt.objects.first().issued_at.year
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 6)]  # no gaps


def test_donors_without_email_get_one_print_pdf_in_postal_order(profile, tmp_path):
    from pypdf import PdfReader

    for postal in ("530-0001", "060-0001", "160-0023"):
        donor = jp_donor(email="", postal_code=postal)
        make_gift(donor=donor, received_on=DAY)
    jp_donor_with_email = jp_donor(postal_code="100-0001")
    make_gift(donor=jp_donor_with_email, received_on=DAY)
    output = tmp_path / "print.pdf"
    out = run("--year", "2026", "--print-output", str(output))
    assert "Print run: 3 receipts" in out
    pages = PdfReader(output).pages
    assert len(pages) == 3
    order = [page.extract_text() for page in pages]
    assert ["060-0001" in order[0], "160-0023" in order[1], "530-0001" in order[2]] == [
        True,
        True,
        True,
    ]
