"""The role matrix: deny by default, Board read-only, Caseworker sees no donors."""

import pytest
from django.contrib.auth.models import Group, Permission

from kyosei.roles import ROLE_PERMISSIONS, Role, is_staff_user
from tests.factories.users import UserFactory, staff_user

pytestmark = pytest.mark.django_db

WRITE_PREFIXES = (
    "add_",
    "change_",
    "delete_",
    "publish_",
    "lock_",
    "unlock_",
    "bulk_delete_",
    "refund_",
    "merge_",
    "override_",
)


def test_every_role_is_a_group():
    assert set(Group.objects.values_list("name", flat=True)) == {r.value for r in Role}


def test_wagtail_sample_groups_are_removed():
    assert not Group.objects.filter(name__in=["Moderators", "Editors"]).exists()


def test_role_permissions_match_the_table():
    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        if "*" in wanted:
            assert granted == {
                f"{p.content_type.app_label}.{p.codename}"
                for p in Permission.objects.select_related("content_type")
            }
        else:
            existing = {
                f"{p.content_type.app_label}.{p.codename}"
                for p in Permission.objects.select_related("content_type")
            }
            assert granted == {w for w in wanted if w in existing}


def test_board_holds_no_write_permission():
    group = Group.objects.get(name=Role.BOARD)
    writes = [
        p.codename
        for p in group.permissions.all()
        if p.codename.startswith(WRITE_PREFIXES)
    ]
    assert writes == []


def test_caseworker_cannot_see_donors_or_gifts():
    user = staff_user(Role.CASEWORKER)
    assert not any(
        user.has_perm(f"donors.{action}_{model}")
        for action in ("view", "add", "change", "delete")
        for model in ("donor", "gift", "household")
    )


def test_user_without_role_has_no_access():
    user = UserFactory(username="nobody")
    assert not is_staff_user(user)
    assert not user.get_all_permissions()


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_may_enter_back_office(role):
    assert is_staff_user(staff_user(role))
