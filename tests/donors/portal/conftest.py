import datetime as dt

import pytest

from donors.models import RecurringGift
from tests.factories.donors import DonorFactory, general_fund
from tests.factories.users import UserFactory

ADDRESS = {
    "postal_code": "160-0022",
    "prefecture": "東京都",
    "city": "新宿区",
    "address_line1": "新宿1-2-3",
}


def portal_donor(username: str, **fields):
    """A donor with a portal account (verified email = the donor's email)."""
    email = f"{username}@example.jp"
    donor = DonorFactory(email=email, **{**ADDRESS, **fields})
    user = UserFactory(username=username, email=email)
    return donor, user


def monthly(donor, **fields) -> RecurringGift:
    return RecurringGift.objects.create(
        donor=donor,
        interval=RecurringGift.Interval.MONTH,
        amount=fields.pop("amount", 3_000),
        fund=general_fund(),
        started_on=fields.pop("started_on", dt.date(2025, 1, 1)),
        **fields,
    )


@pytest.fixture
def alice():
    return portal_donor("alice")


@pytest.fixture
def bob():
    return portal_donor("bob", family_name="佐藤")
