"""Thank-you emails: after commit, donor's language, PDF attached, retried, recorded."""

import datetime as dt

import pytest

from donors.receipts.models import ReceiptEmail
from donors.receipts.services import receipt_email_mark_bounced, receipt_issue_single
from tests.donors.receipts.conftest import FlakyBackend, jp_donor, overseas_donor
from tests.factories.donors import make_gift

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def issue(donor, capture):
    gift = make_gift(donor=donor, amount=5000, received_on=DAY)
    with capture(execute=True):
        receipt = receipt_issue_single(gift=gift, user=None)
    return receipt


def test_email_sent_after_commit_with_pdf_in_japanese(
    profile, mailoutbox, django_capture_on_commit_callbacks
):
    gift = make_gift(donor=jp_donor(), amount=5000, received_on=DAY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipt = receipt_issue_single(gift=gift, user=None)
        assert mailoutbox == []  # nothing leaves inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    [message] = mailoutbox
    assert receipt.number in message.subject and "ご寄附" in message.subject
    assert "山田 花子 様" in message.body
    [(name, content, mimetype)] = message.attachments
    assert name == f"receipt-{receipt.number}.pdf" and mimetype == "application/pdf"
    assert content == receipt.pdf_bytes()
    email = ReceiptEmail.objects.get(receipt=receipt)
    assert (email.status, email.attempts, email.language) == ("sent", 1, "ja")
    assert email.sent_at is not None


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Thank you for your donation"), ("vi", "Cảm ơn bạn đã quyên góp")],
)
def test_email_in_donors_language(
    profile, mailoutbox, django_capture_on_commit_callbacks, language, expected
):
    issue(
        overseas_donor(preferred_language=language), django_capture_on_commit_callbacks
    )
    assert mailoutbox[0].subject.startswith(expected)
    assert "Nguyễn Văn An" in mailoutbox[0].body


def test_failed_send_is_retried_and_recorded(
    profile, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.donors.receipts.conftest.FlakyBackend"
    FlakyBackend.FAILURES, FlakyBackend.calls = 2, 0
    receipt = issue(jp_donor(), django_capture_on_commit_callbacks)
    email = ReceiptEmail.objects.get(receipt=receipt)
    assert (email.status, email.attempts, email.error) == ("sent", 3, "")


def test_email_stays_failed_with_error_after_last_retry(
    profile, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.donors.receipts.conftest.FlakyBackend"
    FlakyBackend.FAILURES, FlakyBackend.calls = 99, 0
    receipt = issue(jp_donor(), django_capture_on_commit_callbacks)
    email = ReceiptEmail.objects.get(receipt=receipt)
    assert email.status == "failed" and email.attempts == 5
    assert "SMTPServerDisconnected" in email.error


def test_no_email_address_no_email(profile, django_capture_on_commit_callbacks):
    issue(jp_donor(email=""), django_capture_on_commit_callbacks)
    assert not ReceiptEmail.objects.exists()


def test_bounce_is_recorded(profile, mailoutbox, django_capture_on_commit_callbacks):
    receipt = issue(jp_donor(), django_capture_on_commit_callbacks)
    email = receipt_email_mark_bounced(
        email=receipt.emails.get(), error="550 mailbox unavailable"
    )
    assert email.status == "bounced" and "550" in email.error


def test_gift_receipt_task_issues_once_and_emails(
    profile, mailoutbox, django_capture_on_commit_callbacks
):
    from donors.receipts.tasks import issue_gift_receipt

    gift = make_gift(donor=jp_donor(), amount=3000, received_on=DAY)
    with django_capture_on_commit_callbacks(execute=True):
        number = issue_gift_receipt.delay(gift.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        again = issue_gift_receipt.delay(gift.pk).get()
    assert number and again is None
    assert [m.subject for m in mailoutbox] == [mailoutbox[0].subject]
    assert number in mailoutbox[0].subject
