"""Portal services: recurring-gift changes, account linking, deletion requests and
anonymisation (gifts kept)."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress

from donors.errors import DonorError, GiftError
from donors.models import Donor, RecurringGift
from donors.portal.models import DeletionRequest
from donors.portal.services import (
    deletion_request_create,
    deletion_request_process,
    deletion_request_reject,
    donor_anonymise,
    donor_portal_link,
)
from donors.register import Reason, donor_register_rows
from donors.services.donors import donor_update
from donors.services.recurring import (
    recurring_gift_cancel,
    recurring_gift_change,
    recurring_gift_pause,
    recurring_gift_resume,
)
from kyosei.audit import audit_entries
from kyosei.money import Money
from kyosei.roles import Role
from tests.donors.portal.conftest import monthly
from tests.factories.donors import DonorFactory, HouseholdFactory, make_gift
from tests.factories.users import UserFactory, staff_user

pytestmark = pytest.mark.django_db


# --- recurring gifts -----------------------------------------------------------------


def test_change_amount_is_audited(alice):
    donor, user = alice
    gift = monthly(donor)
    recurring_gift_change(recurring_gift=gift, amount=Money.yen(5_000), user=user)
    gift.refresh_from_db()
    assert gift.amount == 5_000
    entry = audit_entries(gift).first()
    assert entry.action == "donors.recurring_gift.changed"
    assert entry.data == {"from": 3_000, "to": 5_000, "currency": "JPY"}


def test_change_refuses_other_currency_and_zero(alice):
    donor, user = alice
    gift = monthly(donor)
    with pytest.raises(GiftError, match="cannot change to USD"):
        recurring_gift_change(recurring_gift=gift, amount=Money(500, "USD"), user=user)
    with pytest.raises(GiftError, match="more than zero"):
        recurring_gift_change(recurring_gift=gift, amount=Money.yen(0), user=user)


def test_pause_resume_cancel_transitions(alice):
    donor, user = alice
    gift = monthly(donor, next_charge_on=dt.date(2026, 12, 1))
    recurring_gift_pause(recurring_gift=gift, user=user)
    with pytest.raises(GiftError, match="already paused"):
        recurring_gift_pause(recurring_gift=gift, user=user)
    recurring_gift_resume(recurring_gift=gift, user=user)
    with pytest.raises(GiftError, match="Only a paused"):
        recurring_gift_resume(recurring_gift=gift, user=user)
    recurring_gift_cancel(
        recurring_gift=gift, user=user, cancelled_on=dt.date(2026, 11, 2)
    )
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.CANCELLED
    assert (gift.cancelled_on, gift.next_charge_on) == (dt.date(2026, 11, 2), None)
    for service in (recurring_gift_pause, recurring_gift_cancel):
        with pytest.raises(GiftError, match="was cancelled"):
            service(recurring_gift=gift, user=user)
    with pytest.raises(GiftError, match="was cancelled"):
        recurring_gift_change(recurring_gift=gift, amount=Money.yen(1_000), user=user)
    actions = [e.action for e in audit_entries(gift)]
    assert actions == [
        "donors.recurring_gift.cancelled",
        "donors.recurring_gift.resumed",
        "donors.recurring_gift.paused",
    ]


# --- linking a portal account --------------------------------------------------------


def test_link_by_verified_email_only(alice):
    donor, user = alice
    assert donor_portal_link(user=user) == donor
    donor.refresh_from_db()
    assert donor.user == user
    assert audit_entries(donor).first().action == "donors.donor.portal_linked"
    assert donor_portal_link(user=user) == donor  # idempotent

    other = DonorFactory(email="unverified@example.jp")
    stranger = UserFactory(username="stranger", email="unverified@example.jp")
    EmailAddress.objects.filter(user=stranger).update(verified=False)
    assert donor_portal_link(user=stranger) is None
    other.refresh_from_db()
    assert other.user is None


def test_no_link_for_duplicate_donors_or_staff():
    DonorFactory(email="twice@example.jp")
    DonorFactory(email="twice@example.jp")
    assert donor_portal_link(user=UserFactory(username="twice")) is None
    DonorFactory(email="fundraiser-staff@example.com")
    staff = staff_user(Role.FUNDRAISER)
    assert donor_portal_link(user=staff) is None


# --- deletion requests and anonymisation ---------------------------------------------


def test_one_open_request_at_a_time(alice):
    donor, user = alice
    deletion_request_create(donor=donor, user=user, reason="引っ越します")
    with pytest.raises(DonorError, match="already have your request"):
        deletion_request_create(donor=donor, user=user)


def test_processing_anonymises_but_keeps_gifts(alice):
    donor, user = alice
    donor_portal_link(user=user)
    home = HouseholdFactory()
    donor_update(donor=donor, user=user, household=home, phone="03-1234-5678")
    donor.tags.add("monthly")
    gift = make_gift(donor=donor, amount=10_000, received_on=dt.date(2025, 5, 1))
    recurring = monthly(donor)
    staff = staff_user(Role.FUNDRAISER)
    request = deletion_request_create(donor=donor, user=user, reason="山田です")
    deletion_request_process(deletion_request=request, user=staff)

    donor.refresh_from_db()
    for name in ("family_name", "given_name", "email", "phone", "postal_code",
                 "address_line1", "search_text", "email_key", "kana_key"):  # fmt: skip
        assert getattr(donor, name) == "", name
    assert donor.household is None and donor.user is None
    assert list(donor.tags.names()) == []
    gift.refresh_from_db()
    assert gift.donor == donor and gift.amount_yen == 10_000
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED
    user.refresh_from_db()
    assert not user.is_active and user.email == "" and not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    request.refresh_from_db()
    assert request.status == DeletionRequest.Status.DONE and request.reason == ""
    assert request.processed_by == staff
    # earlier audit rows no longer carry the name or the changed values
    for entry in audit_entries(donor):
        assert "山田" not in entry.label
        assert "03-1234-5678" not in str(entry.data)
    # the register keeps the gift, without name or address, never counted
    (row,) = donor_register_rows(2025)
    assert (row.name, row.address, row.reason) == ("", "", Reason.NO_NAME_OR_ADDRESS)
    with pytest.raises(DonorError, match="already handled"):
        deletion_request_process(deletion_request=request, user=staff)


def test_reject_needs_a_note(alice):
    donor, user = alice
    request = deletion_request_create(donor=donor, user=user)
    staff = staff_user(Role.FUNDRAISER)
    with pytest.raises(DonorError, match="Say why"):
        deletion_request_reject(deletion_request=request, user=staff, staff_note=" ")
    deletion_request_reject(
        deletion_request=request, user=staff, staff_note="Open receipt dispute"
    )
    assert Donor.objects.get(pk=donor.pk).family_name == "山田"


def test_merged_donor_cannot_be_anonymised():
    survivor, merged = DonorFactory(), DonorFactory()
    Donor.objects.filter(pk=merged.pk).update(merged_into=survivor)
    with pytest.raises(DonorError, match="merged into"):
        donor_anonymise(donor=merged, user=None)
