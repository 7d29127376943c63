import pytest
from django.db import transaction

from kyosei.audit import UnknownAuditAction, audit_entries, audit_log
from kyosei.models import organisation_profile
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_log_records_user_action_and_data():
    profile = organisation_profile()
    user = UserFactory()
    entry = audit_log(
        profile, "kyosei.roles.changed", user=user, data={"role": "Board"}
    )
    assert entry.user == user
    assert entry.data == {"role": "Board"}
    assert audit_entries(profile).first() == entry


def test_unknown_action_is_refused():
    with pytest.raises(UnknownAuditAction):
        audit_log(organisation_profile(), "kyosei.typo", user=None)


def test_audit_row_rolls_back_with_the_change():
    profile = organisation_profile()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_log(profile, "kyosei.roles.changed", user=None)
        raise RuntimeError("the change failed")
    assert not audit_entries(profile).exists()
