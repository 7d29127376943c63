"""Receipt logs name gifts, receipts and emails by id, never the donor: not the
name a refusal message carries, not the address an SMTP refusal lists."""

import datetime as dt
import logging
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from donors.receipts.models import ReceiptEmail
from donors.receipts.services import receipt_issue_single
from donors.receipts.tasks import issue_gift_receipt, send_receipt_email
from kyosei.redact import RedactedError
from tests.donors.receipts.conftest import jp_donor
from tests.factories.donors import make_gift

pytestmark = pytest.mark.django_db

NAME = ("鈴木", "里奈")
EMAIL = "rina.suzuki@example.jp"


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every recipient, quoting the address."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {
                m.to[0]: (550, f"5.1.1 <{m.to[0]}>: Recipient rejected".encode())
                for m in messages
            }
        )


def assert_no_personal_data(text: str) -> None:
    for value in (*NAME, EMAIL):
        assert value not in text


def test_refused_receipt_is_logged_by_gift_id_and_code(profile, caplog):
    donor = jp_donor(
        family_name=NAME[0], given_name=NAME[1], email=EMAIL, address_line1=""
    )
    gift = make_gift(donor=donor, amount=5000, received_on=dt.date(2026, 6, 1))
    caplog.set_level(logging.DEBUG)

    assert issue_gift_receipt(gift.pk) is None

    assert f"No receipt for gift {gift.pk}: no_address" in caplog.text
    assert_no_personal_data(caplog.text)


def test_failed_receipt_email_logs_no_address(
    profile, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    donor = jp_donor(family_name=NAME[0], given_name=NAME[1], email=EMAIL)
    gift = make_gift(donor=donor, amount=5000, received_on=dt.date(2026, 6, 1))
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = receipt_issue_single(gift=gift, user=None)

    email = ReceiptEmail.objects.get(receipt=receipt)
    assert email.status == "failed" and EMAIL in email.error  # staff see it
    assert f"Receipt email {email.pk} failed: SMTPRecipientsRefused" in caplog.text
    assert_no_personal_data(caplog.text)

    # With a worker, the task retries: Celery logs the exception it retries on.
    with pytest.raises(RedactedError) as raised:
        send_receipt_email(email.pk)
    assert str(raised.value) == "SMTPRecipientsRefused"
    assert raised.value.__suppress_context__ or raised.value.__context__ is None


def test_staff_notice_refused_by_smtp_logs_no_address_nor_reason(
    profile, settings, caplog, django_capture_on_commit_callbacks
):
    from donors.services.gifts import gift_refund
    from kyosei.roles import Role
    from tests.factories.users import staff_user

    finance = staff_user(Role.FINANCE, email="finance.officer@example.org")
    donor = jp_donor(family_name=NAME[0], given_name=NAME[1], email="")
    gift = make_gift(donor=donor, amount=5000, received_on=dt.date(2026, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        receipt = receipt_issue_single(gift=gift, user=None)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        gift_refund(gift=gift, reason=f"{NAME[0]}さんの依頼", user=finance)

    assert f"Could not email staff about receipts ['{receipt.number}']" in caplog.text
    assert "SMTPRecipientsRefused" in caplog.text
    assert finance.email not in caplog.text
    assert_no_personal_data(caplog.text)
