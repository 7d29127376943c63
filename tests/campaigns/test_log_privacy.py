"""Thanking a donor logs the gift's id and why, never the donor's name or email."""

import datetime as dt
import logging
import smtplib

import pytest
from django.core import mail

from campaigns.services.acknowledge import gift_acknowledge
from campaigns.tasks import gift_acknowledge as gift_acknowledge_task
from kyosei.redact import RedactedError
from tests.donors.receipts.test_log_privacy import (
    EMAIL,
    NAME,
    assert_no_personal_data,
)
from tests.factories.donors import DonorFactory, make_gift

pytestmark = pytest.mark.django_db


@pytest.fixture
def gift(demo_core):
    donor = DonorFactory(family_name=NAME[0], given_name=NAME[1], email=EMAIL)
    return make_gift(donor=donor, amount=3000, received_on=dt.date(2026, 6, 1))


def test_no_receipt_yet_is_logged_with_the_reason_code_only(gift, caplog):
    caplog.set_level(logging.DEBUG)
    assert gift_acknowledge(gift_pk=gift.pk) == "thank-you"
    assert len(mail.outbox) == 1  # the donor is still thanked
    assert f"No receipt for gift {gift.pk} yet: no_address" in caplog.text
    assert_no_personal_data(caplog.text)


def test_smtp_refusal_is_retried_without_the_address(gift, settings):
    settings.EMAIL_BACKEND = "tests.donors.receipts.test_log_privacy.RefusingBackend"
    with pytest.raises(RedactedError) as raised:
        gift_acknowledge_task(gift.pk)
    assert str(raised.value) == "SMTPRecipientsRefused"
    assert raised.value.__suppress_context__
    assert not isinstance(raised.value, smtplib.SMTPException)
