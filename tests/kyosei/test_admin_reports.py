"""Wagtail's built-in reports per role (kyosei/admin_reports.py), and the home of
the Board's aggregate permission (donors.GivingTotalsReport)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from wagtail.models import ModelLogEntry

from donors.models import Donor, GivingTotalsReport
from kyosei.roles import Role
from tests.factories.donors import DonorFactory, make_gift
from tests.factories.users import UserFactory, give_totp, mfa_login, staff_user

pytestmark = pytest.mark.django_db

SITE_HISTORY = reverse("wagtailadmin_reports:site_history")
SITE_HISTORY_RESULTS = reverse("wagtailadmin_reports:site_history_results")


def denied(response) -> bool:
    """Wagtail's refusal: back to the dashboard (403 for a script's request)."""
    return response.status_code == 403 or (
        response.status_code == 302
        and response["Location"] == reverse("wagtailadmin_home")
    )


@pytest.fixture
def gift():
    """A donor and a gift, each with audit entries (created, recorded)."""
    donor = DonorFactory(
        family_name="履歴", given_name="見子", email="rireki@example.jp"
    )
    return make_gift(donor=donor, amount=4_321)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FUNDRAISER, Role.FINANCE])
def test_site_history_renders_for_roles_that_see_donors(client, gift, role):
    mfa_login(client, staff_user(role))
    response = client.get(SITE_HISTORY)
    assert response.status_code == 200
    html = response.content.decode()
    # The gift's entries link to its page (gifts have no edit view: this was a
    # NoReverseMatch, a server error, for the Admin).
    assert reverse("gifts:detail", args=[gift.pk]) in html
    assert "履歴 見子" in html
    for export in ("csv", "xlsx"):
        assert client.get(SITE_HISTORY, {"export": export}).status_code == 200
    assert client.get(SITE_HISTORY_RESULTS).status_code == 200


def test_site_history_renders_for_a_superuser(client, gift):
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    give_totp(user)
    mfa_login(client, user)
    html = client.get(SITE_HISTORY).content.decode()
    assert reverse("gifts:detail", args=[gift.pk]) in html


@pytest.mark.parametrize("role", [Role.BOARD, Role.EDITOR, Role.CASEWORKER])
def test_site_history_is_refused_to_roles_that_must_not_see_donors(client, gift, role):
    mfa_login(client, staff_user(role))
    for query in ({}, {"export": "csv"}, {"export": "xlsx"}):
        assert denied(client.get(SITE_HISTORY, query)), (role, query)
    assert denied(client.get(SITE_HISTORY_RESULTS))
    assert (
        client.get(
            SITE_HISTORY_RESULTS, HTTP_X_REQUESTED_WITH="XMLHttpRequest"
        ).status_code
        == 403
    )
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert SITE_HISTORY not in dashboard


def test_editor_keeps_the_page_reports(client):
    mfa_login(client, staff_user(Role.EDITOR))
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    for name in ("locked_pages", "workflow", "aging_pages", "page_types_usage"):
        url = reverse(f"wagtailadmin_reports:{name}")
        assert url in dashboard
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", [Role.BOARD, Role.CASEWORKER])
def test_roles_without_page_rights_open_no_report(client, role):
    mfa_login(client, staff_user(role))
    for name in ("locked_pages", "workflow", "aging_pages", "page_types_usage"):
        assert denied(client.get(reverse(f"wagtailadmin_reports:{name}"))), name


def test_fundraiser_sees_the_site_history_menu_item(client):
    mfa_login(client, staff_user(Role.FUNDRAISER))
    assert SITE_HISTORY in client.get(reverse("wagtailadmin_home")).content.decode()


# -- the giving-totals permission is on no personal-data model ----------------------


def test_giving_totals_permission_lives_on_a_model_of_no_personal_data():
    permission = Permission.objects.get(codename="view_giving_totals")
    assert permission.content_type.model_class() is GivingTotalsReport
    assert not GivingTotalsReport.objects.exists()
    assert [f.name for f in GivingTotalsReport._meta.get_fields()] == ["id"]
    board = Group.objects.get(name=Role.BOARD)
    assert board.permissions.filter(pk=permission.pk).exists()
    donor_type = ContentType.objects.get_for_model(Donor)
    assert not board.permissions.filter(content_type=donor_type).exists()


@pytest.mark.parametrize("role", [Role.BOARD, Role.EDITOR, Role.CASEWORKER])
def test_no_donor_audit_entry_is_viewable_by_roles_that_must_not_see_donors(gift, role):
    user = staff_user(role)
    types = set(
        ModelLogEntry.objects.viewable_by_user(user).values_list(
            "content_type__app_label", flat=True
        )
    )
    assert not types & {"donors", "donor_imports", "receipts", "donor_portal"}


def test_migration_moves_the_old_permission_and_its_holders():
    """The data step of donors 0009, run against an old-style permission on Donor
    held by a user and by a group outside the roles."""
    migration = importlib.import_module(
        "donors.migrations.0009_giving_totals_permission_off_donor"
    )
    old = Permission.objects.create(
        codename="view_giving_totals",
        name="old",
        content_type=ContentType.objects.get_for_model(Donor),
    )
    user = UserFactory(username="holder")
    user.user_permissions.add(old)
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(old)

    migration.move_permission(apps, None)

    assert not Permission.objects.filter(pk=old.pk).exists()
    new = Permission.objects.get(codename="view_giving_totals")
    assert new.content_type.model_class() is GivingTotalsReport
    assert user.user_permissions.filter(pk=new.pk).exists()
    assert auditors.permissions.filter(pk=new.pk).exists()
    assert Group.objects.get(name=Role.BOARD).permissions.filter(pk=new.pk).exists()
