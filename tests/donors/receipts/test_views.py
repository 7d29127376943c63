"""Staff screens: who may see, issue, reissue and void receipts (deny by default)."""

import datetime as dt

import pytest
from django.urls import reverse

from donors.receipts.models import Receipt
from donors.receipts.services import receipt_issue_single
from kyosei.audit import audit_entries
from kyosei.roles import Role
from tests.donors.receipts.conftest import jp_donor
from tests.factories.donors import make_gift
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


@pytest.fixture
def receipt(profile):
    gift = make_gift(donor=jp_donor(email=""), amount=4000, received_on=DAY)
    return receipt_issue_single(gift=gift, user=None)


def login(client, role):
    user = staff_user(role)
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.FUNDRAISER, 200),
        (Role.FINANCE, 200),
        (Role.ADMIN, 200),
        (Role.BOARD, 302),  # Wagtail's permission_denied redirects to the dashboard
        (Role.CASEWORKER, 302),
        (Role.EDITOR, 302),
    ],
)
def test_who_sees_receipts(client, receipt, role, code):
    login(client, role)
    for url in (
        reverse("receipts:index"),
        reverse("receipts:detail", args=[receipt.pk]),
        reverse("receipts:pdf", args=[receipt.pk]),
    ):
        assert client.get(url).status_code == code, url


def test_anonymous_is_sent_to_login(client, receipt):
    response = client.get(reverse("receipts:pdf", args=[receipt.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_search_by_number_and_name(client, receipt, profile):
    other = receipt_issue_single(
        gift=make_gift(donor=jp_donor(family_name="佐藤", email=""), received_on=DAY),
        user=None,
    )
    login(client, Role.FUNDRAISER)
    page = client.get(reverse("receipts:index"), {"q": receipt.number}).content
    assert receipt.number.encode() in page and other.number.encode() not in page
    page = client.get(reverse("receipts:index"), {"q": "佐藤"}).content.decode()
    assert other.number in page and receipt.number not in page


def test_pdf_download_is_the_stored_file(client, receipt):
    login(client, Role.FINANCE)
    response = client.get(reverse("receipts:pdf", args=[receipt.pk]))
    assert b"".join(response.streaming_content) == receipt.pdf_bytes()
    assert response["Content-Type"] == "application/pdf"


def test_fundraiser_issues_and_reissues_but_cannot_void(client, receipt, profile):
    user = login(client, Role.FUNDRAISER)
    gift = make_gift(donor=receipt.donor, received_on=DAY)
    response = client.post(reverse("receipts:issue"), {"gift": gift.pk})
    issued = Receipt.objects.get(lines__gift=gift)
    assert response["Location"] == reverse("receipts:detail", args=[issued.pk])
    assert issued.issued_by == user
    response = client.post(
        reverse("receipts:void", args=[receipt.pk]), {"reason": "mistake"}
    )
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.ISSUED
    client.post(reverse("receipts:reissue", args=[receipt.pk]), {"reason": "typo"})
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.VOID
    assert audit_entries(receipt).filter(action="receipts.receipt.reissued").exists()


def test_finance_voids_with_reason_audited(client, receipt):
    user = login(client, Role.FINANCE)
    client.post(reverse("receipts:void", args=[receipt.pk]), {"reason": ""})
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.ISSUED  # a reason is required
    client.post(reverse("receipts:void", args=[receipt.pk]), {"reason": "wrong donor"})
    receipt.refresh_from_db()
    assert (receipt.status, receipt.voided_by) == (Receipt.Status.VOID, user)
    entry = audit_entries(receipt).get(action="receipts.receipt.voided")
    assert entry.user_id == user.pk and entry.data["reason"] == "wrong donor"


def test_refused_issue_shows_the_reason(client, profile):
    login(client, Role.FINANCE)
    gift = make_gift(donor=jp_donor(address_line1="", postal_code=""), received_on=DAY)
    response = client.post(reverse("receipts:issue"), {"gift": gift.pk}, follow=True)
    # The message (in the admin's language) names the donor and says why.
    page = response.content.decode()
    assert "山田 花子" in page and ("address" in page or "住所" in page)
    assert not Receipt.objects.exists()


def test_emails_list_and_batch_screen(
    client, profile, django_capture_on_commit_callbacks
):
    login(client, Role.FINANCE)
    donor = jp_donor()
    make_gift(donor=donor, received_on=DAY)
    assert client.get(reverse("receipts:emails")).status_code == 200
    assert client.get(reverse("receipts:batch")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("receipts:batch"), {"year": 2026})
    assert response.status_code == 302
    progress = client.get(reverse("receipts:batch_progress"), {"year": 2026}).json()
    assert progress["finished"] and progress["issued"] == 1
    assert Receipt.objects.filter(donor=donor, kind="annual").count() == 1
    page = client.get(reverse("receipts:emails")).content.decode()
    assert donor.email in page


def test_board_cannot_run_the_batch(client, profile):
    login(client, Role.BOARD)
    response = client.post(reverse("receipts:batch"), {"year": 2026})
    assert response.status_code == 302
    assert not Receipt.objects.exists()
