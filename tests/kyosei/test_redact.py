"""Failures described without personal data: exception summaries, bulk COPY
errors without the row's values, and no SQL or Stripe request logging."""

import logging
import smtplib

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from donors.models import Donor
from donors.receipts.errors import ReceiptError
from kyosei.bulk import BulkWriteError, insert_rows, update_rows
from kyosei.redact import RedactedError, exception_summary
from tests.factories.donors import DonorFactory

NAME = ("鈴木", "里奈")
EMAIL = "rina.suzuki@example.jp"


def test_summary_keeps_class_and_codes_not_the_message():
    refused = smtplib.SMTPRecipientsRefused({EMAIL: (550, b"unknown user")})
    assert exception_summary(refused) == "SMTPRecipientsRefused"
    data = smtplib.SMTPDataError(554, f"rejected for {EMAIL}".encode())
    assert exception_summary(data) == "SMTPDataError smtp_code=554"
    error = ReceiptError(f"{NAME[0]} has no address", code="no_address")
    assert exception_summary(error) == "ReceiptError code=no_address"
    assert str(RedactedError.of(error)) == "ReceiptError code=no_address"


def assert_values_withheld(error: BaseException, caplog) -> None:
    logging.getLogger("kyosei.test").error("bulk write failed", exc_info=error)
    for text in (str(error), caplog.text):
        for value in (*NAME, EMAIL):
            assert value not in text


@pytest.mark.postgres
@pytest.mark.django_db
def test_copy_error_keeps_sqlstate_and_column_not_the_row(caplog):
    rows = [
        ("佐藤", "一郎", "ichiro@example.jp"),
        (None, NAME[1], EMAIL),  # no family name: NOT NULL
    ]
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        insert_rows(Donor, ["family_name", "given_name", "email"], rows)

    error = raised.value
    assert isinstance(error, BulkWriteError)
    assert (error.sqlstate, error.table, error.column, error.line) == (
        "23502",
        "donors_donor",
        "family_name",
        2,
    )
    assert str(error) == (
        "COPY into donors_donor, line 2 failed: SQLSTATE 23502 "
        "(NotNullViolation), column family_name (row values withheld)"
    )
    assert_values_withheld(error, caplog)


@pytest.mark.postgres
@pytest.mark.django_db
def test_copy_error_with_a_value_in_the_primary_message(caplog):
    # PostgreSQL quotes a value it cannot read even in its first line
    with pytest.raises(DataError) as raised, transaction.atomic():
        insert_rows(Donor, ["id", "family_name"], [(f"{NAME[0]}{EMAIL}", "x")])
    error = raised.value
    assert isinstance(error, BulkWriteError) and error.column == "id"
    assert error.sqlstate == "22P02" and error.line == 1
    assert_values_withheld(error, caplog)


@pytest.mark.postgres
@pytest.mark.django_db
def test_bulk_update_error_keeps_no_values(caplog):
    donor = DonorFactory(family_name=NAME[0], given_name=NAME[1], email=EMAIL)
    with pytest.raises(IntegrityError) as raised:
        update_rows(Donor, ["family_name"], [(donor.pk, None)])
    error = raised.value
    assert isinstance(error, BulkWriteError) and error.column == "family_name"
    assert str(error).startswith("UPDATE of donors_donor failed: SQLSTATE 23502")
    assert_values_withheld(error, caplog)


@pytest.mark.django_db
def test_sql_is_not_logged_with_its_parameters_even_at_debug(caplog):
    caplog.set_level(logging.DEBUG)
    connection.force_debug_cursor = True
    try:
        list(Donor.objects.filter(email=EMAIL))
    finally:
        connection.force_debug_cursor = False
    assert EMAIL not in caplog.text


def test_stripe_request_log_stays_off():
    # the Stripe client logs each request's form data (donor's email) at DEBUG
    assert logging.getLogger("stripe").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("django.db.backends").getEffectiveLevel() > logging.DEBUG
