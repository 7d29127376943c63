"""Issuing, reissuing and voiding receipts: japan-npo.md §3 rules."""

import datetime as dt
import hashlib

import pytest

from donors.models import Gift
from donors.receipts.errors import ReceiptError
from donors.receipts.models import Receipt, ReceiptGift, ReceiptSequence
from donors.receipts.services import (
    receipt_issue_annual,
    receipt_issue_single,
    receipt_reissue,
    receipt_void,
)
from donors.services.donors import donor_update
from donors.services.gifts import gift_refund
from tests.donors.receipts.conftest import jp_donor, overseas_donor, pdf_text
from tests.factories.donors import make_gift

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 20)
MAY = dt.date(2026, 5, 10)
JUL = dt.date(2026, 7, 1)


def test_single_receipt_numbered_and_stored_with_hash(profile):
    gift = make_gift(donor=jp_donor(), amount=5000, received_on=MAY)
    receipt = receipt_issue_single(gift=gift, user=None)
    year = receipt.issued_at.year
    assert receipt.number == f"{year}-000001"
    assert receipt.kind == Receipt.Kind.SINGLE
    assert receipt.total_yen == 5000
    assert receipt.year == 2026
    assert receipt.language == "ja"
    data = receipt.pdf_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == receipt.pdf_sha256
    assert ReceiptSequence.objects.get(year=year).last_number == 1
    second = receipt_issue_single(
        gift=make_gift(donor=receipt.donor, amount=1000, received_on=JUL), user=None
    )
    assert second.number == f"{year}-000002"


def test_gift_on_a_standing_receipt_is_not_receipted_twice(profile):
    gift = make_gift(donor=jp_donor(), received_on=MAY)
    first = receipt_issue_single(gift=gift, user=None)
    with pytest.raises(ReceiptError, match=first.number):
        receipt_issue_single(gift=gift, user=None)


def test_certified_gift_after_certification_date_gets_tax_receipt(certified, tmp_path):
    # §3: only gifts received on or after the certification date qualify.
    gift = make_gift(donor=jp_donor(), amount=12345, received_on=MAY)
    receipt = receipt_issue_single(gift=gift, user=None)
    assert receipt.certified
    text = pdf_text(receipt.pdf_bytes(), tmp_path)
    for required in (
        "寄附金受領証明書",
        "特定非営利活動法人 ひだまり共生ネット",  # NPO name
        "東京都新宿区百人町1-2-3",  # NPO address
        "認定特定非営利活動法人",  # certification status
        "東京都生文第1234号",  # notice number
        "2026年4月1日",  # certification date
        "山田 花子",  # donor name
        "〒160-0023",  # donor address
        "東京都新宿区西新宿2-8-1",
        "¥12,345",  # amount
        "2026年5月10日",  # date received
        "特定非営利活動に係る事業に関連する寄附金",  # the §3 statement
        receipt.number,
    ):
        assert required in text, required


def test_gift_before_certification_date_gets_plain_receipt(certified, tmp_path):
    gift = make_gift(donor=jp_donor(), amount=3000, received_on=JAN)
    receipt = receipt_issue_single(gift=gift, user=None)
    assert not receipt.certified
    text = pdf_text(receipt.pdf_bytes(), tmp_path)
    assert "寄附金領収書" in text
    assert "寄附金受領証明書" not in text
    assert "特定非営利活動に係る事業に関連する寄附金" not in text
    assert "東京都生文第1234号" not in text
    assert "より前" in text and "寄附金控除" in text


def test_uncertified_npo_issues_plain_thank_you_receipt(profile, tmp_path):
    gift = make_gift(donor=jp_donor(), amount=3000, received_on=MAY)
    receipt = receipt_issue_single(gift=gift, user=None)
    assert not receipt.certified
    text = pdf_text(receipt.pdf_bytes(), tmp_path)
    assert "寄附金領収書" in text
    assert "認定" not in text
    assert "特定非営利活動に係る事業に関連する寄附金" not in text
    assert "本書は税法上の寄附金控除を受けるための証明書ではありません" in text


def test_overseas_donor_gets_english_receipt_without_tax_claim(certified, tmp_path):
    # §3: donors abroad get an English receipt that claims no Japanese tax status;
    # a foreign-currency gift shows the original amount and the yen settled.
    gift = make_gift(
        donor=overseas_donor(), amount="100.00", currency="USD", amount_yen=14_830,
        method=Gift.Method.CARD, received_on=MAY,
    )  # fmt: skip
    receipt = receipt_issue_single(gift=gift, user=None)
    assert receipt.language == "en" and not receipt.certified
    text = pdf_text(receipt.pdf_bytes(), tmp_path)
    assert "Donation Receipt" in text
    assert "Nguyễn Văn An" in text
    assert "US$100.00" in text
    assert "¥14,830" in text
    assert "not issued for Japanese tax-deduction purposes" in text
    assert "特定非営利活動に係る事業に関連する寄附金" not in text
    assert "東京都生文第1234号" not in text


def test_member_dues_are_not_receipted(certified):
    donor = jp_donor()
    dues = make_gift(donor=donor, kind=Gift.Kind.MEMBER_DUES, received_on=MAY)
    with pytest.raises(ReceiptError, match="正会員会費"):
        receipt_issue_single(gift=dues, user=None)
    make_gift(donor=donor, amount=2000, received_on=JUL)
    [annual] = receipt_issue_annual(donor=donor, year=2026, user=None)
    assert list(annual.gifts.values_list("kind", flat=True)) == ["donation"]
    assert annual.total_yen == 2000


def test_donor_without_address_is_refused_until_address_added(profile):
    donor = jp_donor(postal_code="", prefecture="", city="", address_line1="")
    gift = make_gift(donor=donor, received_on=MAY)
    with pytest.raises(ReceiptError, match="address"):
        receipt_issue_single(gift=gift, user=None)
    assert not Receipt.objects.exists()
    donor_update(
        donor=donor,
        user=None,
        postal_code="160-0023",
        prefecture="東京都",
        city="新宿区",
        address_line1="西新宿2-8-1",
    )
    assert receipt_issue_single(gift=gift, user=None).number


def test_donor_without_name_is_refused(profile):
    donor = jp_donor(family_name="", given_name="", latin_name="")
    gift = make_gift(donor=donor, received_on=MAY)
    with pytest.raises(ReceiptError, match="no name"):
        receipt_issue_single(gift=gift, user=None)


def test_refunded_gift_is_refused(profile):
    gift = make_gift(donor=jp_donor(), received_on=MAY)
    gift_refund(gift=gift, reason="duplicate transfer")
    gift.refresh_from_db()
    with pytest.raises(ReceiptError, match="refunded"):
        receipt_issue_single(gift=gift, user=None)


def test_annual_receipt_lists_each_gift_and_skips_receipted_ones(certified, tmp_path):
    donor = jp_donor()
    single = make_gift(donor=donor, amount=1000, received_on=dt.date(2026, 4, 2))
    receipt_issue_single(gift=single, user=None)
    for month in (5, 6, 7):
        make_gift(donor=donor, amount=3000, received_on=dt.date(2026, month, 15))
    make_gift(donor=donor, amount=9999, received_on=dt.date(2025, 12, 31))
    [annual] = receipt_issue_annual(donor=donor, year=2026, user=None)
    assert annual.kind == Receipt.Kind.ANNUAL and annual.certified
    assert annual.total_yen == 9000
    assert annual.lines.count() == 3
    text = pdf_text(annual.pdf_bytes(), tmp_path)
    for day in ("2026年5月15日", "2026年6月15日", "2026年7月15日"):
        assert day in text
    assert "¥9,000" in text
    assert "2026年4月2日" not in text  # on its own receipt already
    with pytest.raises(ReceiptError, match="no gifts in 2026"):
        receipt_issue_annual(donor=donor, year=2026, user=None)


def test_annual_straddling_certification_date_is_split(certified):
    donor = jp_donor()
    make_gift(donor=donor, amount=2000, received_on=JAN)
    make_gift(donor=donor, amount=5000, received_on=MAY)
    plain, tax = receipt_issue_annual(donor=donor, year=2026, user=None)
    assert (plain.certified, plain.total_yen) == (False, 2000)
    assert (tax.certified, tax.total_yen) == (True, 5000)
    assert plain.number < tax.number


def test_annual_for_a_year_without_gifts_is_refused(profile):
    donor = jp_donor()
    make_gift(donor=donor, received_on=MAY)
    with pytest.raises(ReceiptError, match="no gifts in 2025"):
        receipt_issue_annual(donor=donor, year=2025, user=None)


def test_reissue_marks_new_voids_old_and_keeps_old_pdf(certified, tmp_path):
    donor = jp_donor()
    gift = make_gift(donor=donor, amount=7000, received_on=MAY)
    other = receipt_issue_single(
        gift=make_gift(donor=donor, amount=1000, received_on=JUL), user=None
    )
    other_hash, other_bytes = other.pdf_sha256, other.pdf_bytes()
    old = receipt_issue_single(gift=gift, user=None)
    old_bytes = old.pdf_bytes()
    donor_update(donor=donor, user=None, address_line1="西新宿3-1-1")
    new = receipt_reissue(receipt=old, user=None, reason="moved house")
    old.refresh_from_db()
    assert old.status == Receipt.Status.VOID and "moved house" in old.void_reason
    assert new.kind == Receipt.Kind.REISSUE and new.replaces == old
    assert new.number != old.number
    assert list(new.gifts.all()) == [gift]
    text = pdf_text(new.pdf_bytes(), tmp_path)
    assert "再発行" in text and old.number in text
    assert "西新宿3-1-1" in text
    # Stored PDFs never change: neither the replaced one nor an unrelated one.
    assert old.pdf_bytes() == old_bytes and old.pdf_is_intact()
    other.refresh_from_db()
    assert other.pdf_sha256 == other_hash and other.pdf_bytes() == other_bytes
    assert other.pdf_is_intact()


def test_voided_receipt_cannot_be_reissued(profile):
    receipt = receipt_issue_single(
        gift=make_gift(donor=jp_donor(), received_on=MAY), user=None
    )
    receipt_void(receipt=receipt, user=None, reason="issued by mistake")
    with pytest.raises(ReceiptError, match="void"):
        receipt_reissue(receipt=receipt, user=None, reason="again")
    with pytest.raises(ReceiptError, match="already void"):
        receipt_void(receipt=receipt, user=None, reason="again")


def test_void_needs_a_reason_and_frees_the_gift(profile):
    gift = make_gift(donor=jp_donor(), received_on=MAY)
    receipt = receipt_issue_single(gift=gift, user=None)
    with pytest.raises(ReceiptError, match="reason"):
        receipt_void(receipt=receipt, user=None, reason=" ")
    receipt_void(receipt=receipt, user=None, reason="wrong donor")
    assert receipt_issue_single(gift=gift, user=None).number != receipt.number


def test_refund_after_issue_flags_receipt_to_void_and_tells_staff(
    profile, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories.users import staff_user

    finance = staff_user("Finance", mfa=False)
    gift = make_gift(donor=jp_donor(email=""), amount=8000, received_on=MAY)
    receipt = receipt_issue_single(gift=gift, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        gift_refund(gift=gift, amount_yen=3000, reason="partial", user=finance)
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.TO_VOID
    assert "¥3,000" in receipt.flagged_reason
    assert [m.to for m in mailoutbox] == [[finance.email]]
    assert receipt.number in mailoutbox[0].subject
    # Reissue prints what is left of the gift.
    new = receipt_reissue(receipt=receipt, user=finance, reason="partial refund")
    assert new.total_yen == 5000


def test_pdf_is_write_once(profile):
    receipt = receipt_issue_single(
        gift=make_gift(donor=jp_donor(), received_on=MAY), user=None
    )
    receipt.pdf_sha256 = "0" * 64
    with pytest.raises(ReceiptError, match="never replaced"):
        receipt.save()
    receipt.refresh_from_db()
    receipt.status = Receipt.Status.VOID
    receipt.save()  # other fields may change


def test_issue_is_audited(profile):
    from kyosei.audit import audit_entries

    receipt = receipt_issue_single(
        gift=make_gift(donor=jp_donor(), received_on=MAY), user=None
    )
    entry = audit_entries(receipt).get()
    assert entry.action == "receipts.receipt.issued"
    assert entry.data["sha256"] == receipt.pdf_sha256
    assert ReceiptGift.objects.get(receipt=receipt).amount_yen == receipt.total_yen


def test_bulk_refund_flags_standing_receipts_and_tells_staff_once(
    profile, mailoutbox, django_capture_on_commit_callbacks
):
    """An undone import refunds its gifts in bulk: their receipts must be flagged
    as with a single refund, in one email."""
    from donors.services.gifts import gift_refund_many
    from tests.factories.users import staff_user

    finance = staff_user("Finance", mfa=False)
    donor = jp_donor(email="")
    receipted = [make_gift(donor=donor, amount=2000, received_on=MAY) for _ in "ab"]
    receipts = [receipt_issue_single(gift=g, user=None) for g in receipted]
    plain = make_gift(donor=donor, amount=1000, received_on=JUL)
    with django_capture_on_commit_callbacks(execute=True):
        count = gift_refund_many(
            gift_ids=[g.pk for g in (*receipted, plain)],
            reason="import undone",
            audit_on=donor,
            user=finance,
        )
    assert count == 3
    for receipt in receipts:
        receipt.refresh_from_db()
        assert receipt.status == Receipt.Status.TO_VOID
        assert receipt.flagged_reason == "import undone"
    assert len(mailoutbox) == 1
    assert all(r.number in mailoutbox[0].subject for r in receipts)
