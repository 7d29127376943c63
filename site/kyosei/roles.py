"""Staff roles as Django groups, deny by default.

``ROLE_PERMISSIONS`` is the one table of who may do what. Each app's migration that
adds models calls :func:`sync_role_groups` so the groups pick up the new
permissions; permissions of apps not yet migrated are skipped and arrive with that
app's migration. Views state what they need with ``permission_required`` (or
Wagtail's permission policies) using these codenames.
``tests/kyosei/test_roles.py`` checks the groups against the table and
``tests/kyosei/test_permission_matrix.py`` holds the URL × role matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    ADMIN = "Admin", _("Admin")
    FUNDRAISER = "Fundraiser", _("Fundraiser")
    CASEWORKER = "Caseworker", _("Caseworker")
    FINANCE = "Finance", _("Finance")
    BOARD = "Board", _("Board")
    EDITOR = "Editor", _("Editor")


ALL = "*"
WAGTAIL_SAMPLE_GROUPS = ("Moderators", "Editors")

# "app_label.codename"; ALL means every permission that exists.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: [ALL],
    Role.FUNDRAISER: [
        "wagtailadmin.access_admin",
        "kyosei.view_organisationprofile",
        "donors.view_donor",
        "donors.add_donor",
        "donors.change_donor",
        "donors.view_household",
        "donors.add_household",
        "donors.change_household",
        "donors.view_gift",
        "donors.add_gift",
        "donors.view_recurringgift",
        "donors.merge_donor",
        "donors.export_donor",
        "receipts.view_receipt",
        "receipts.issue_receipt",
        "receipts.view_receiptemail",
        "donor_imports.add_importbatch",
        "donor_imports.view_importbatch",
        "donor_imports.view_transferprofile",
        "donor_imports.add_spreadsheetimport",
        "donor_imports.view_spreadsheetimport",
        "donor_portal.view_deletionrequest",
        "donor_portal.process_deletionrequest",
        "grants.view_fund",
        "grants.view_ledgerentry",
        "campaigns.view_donationintent",
        "campaigns.view_stripeevent",
        "campaigns.view_reconciliationrun",
        "wagtailimages.choose_image",
        "wagtaildocs.choose_document",
    ],
    Role.CASEWORKER: [
        "wagtailadmin.access_admin",
    ],
    Role.FINANCE: [
        "wagtailadmin.access_admin",
        "kyosei.view_organisationprofile",
        "donors.view_donor",
        "donors.change_donor",
        "donors.view_household",
        "donors.view_gift",
        "donors.add_gift",
        "donors.refund_gift",
        "donors.view_recurringgift",
        "donors.export_donor",
        "donors.export_gift",
        "receipts.view_receipt",
        "receipts.issue_receipt",
        "receipts.void_receipt",
        "receipts.view_receiptemail",
        "donor_imports.add_importbatch",
        "donor_imports.view_importbatch",
        "donor_imports.apply_importbatch",
        "donor_imports.undo_importbatch",
        "donor_imports.view_transferprofile",
        "donor_imports.add_transferprofile",
        "donor_imports.change_transferprofile",
        "donor_imports.add_spreadsheetimport",
        "donor_imports.view_spreadsheetimport",
        "donor_imports.apply_spreadsheetimport",
        "grants.view_fund",
        "grants.add_fund",
        "grants.change_fund",
        "grants.view_ledgerentry",
        "grants.add_ledgerentry",
        "grants.override_ledgerentry",
        "campaigns.view_donationintent",
        "campaigns.view_stripeevent",
        "campaigns.retry_stripeevent",
        "campaigns.view_reconciliationrun",
        "campaigns.run_reconciliationrun",
    ],
    # Read-only, aggregates only: no permission on any personal record. Wagtail
    # lists a model's audit entries to anyone with any permission on it, so the
    # giving-totals permission lives on a model of no rows (GivingTotalsReport),
    # not on Donor.
    Role.BOARD: [
        "wagtailadmin.access_admin",
        "grants.view_fund",
        "donors.view_giving_totals",
    ],
    Role.EDITOR: [
        "wagtailadmin.access_admin",
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
    ],
}

# Page-tree permissions (on the root page) per role.
ROLE_PAGE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: [
        "add_page",
        "change_page",
        "publish_page",
        "lock_page",
        "unlock_page",
        "bulk_delete_page",
    ],
    Role.EDITOR: [
        "add_page",
        "change_page",
        "publish_page",
        "lock_page",
        "unlock_page",
    ],
    Role.FUNDRAISER: ["add_page", "change_page"],
}

# Collection permissions (images, documents) on the root collection.
ROLE_COLLECTION_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: [
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtailimages.delete_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
        "wagtaildocs.delete_document",
    ],
    Role.EDITOR: [
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
    ],
    Role.FUNDRAISER: ["wagtailimages.choose_image", "wagtaildocs.choose_document"],
}


def sync_role_groups(apps, schema_editor=None) -> None:  # noqa: ARG001
    """Create the role groups and give them exactly the permissions in the tables.

    Usable as a ``RunPython`` function (takes the historical ``apps``). Idempotent.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Wagtail's sample groups would grant page rights outside our roles.
    Group.objects.filter(name__in=WAGTAIL_SAMPLE_GROUPS).delete()
    all_permissions = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=str(role))
        if ALL in wanted:
            perms = list(all_permissions.values())
        else:
            perms = [
                all_permissions[name] for name in wanted if name in all_permissions
            ]
        group.permissions.set(perms)

    _sync_tree_permissions(apps, all_permissions)


def _sync_tree_permissions(apps, all_permissions) -> None:
    try:
        Page = apps.get_model("wagtailcore", "Page")
        GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
        Collection = apps.get_model("wagtailcore", "Collection")
        GroupCollectionPermission = apps.get_model(
            "wagtailcore", "GroupCollectionPermission"
        )
    except LookupError:
        return
    Group = apps.get_model("auth", "Group")
    root_page = Page.objects.filter(depth=1).first()
    root_collection = Collection.objects.filter(depth=1).first()
    for role, codenames in ROLE_PAGE_PERMISSIONS.items():
        group = Group.objects.get(name=str(role))
        if root_page is None:
            break
        for codename in codenames:
            perm = all_permissions.get(f"wagtailcore.{codename}")
            if perm is not None:
                GroupPagePermission.objects.get_or_create(
                    group=group, page=root_page, permission=perm
                )
    for role, names in ROLE_COLLECTION_PERMISSIONS.items():
        group = Group.objects.get(name=str(role))
        if root_collection is None:
            break
        for name in names:
            perm = all_permissions.get(name)
            if perm is not None:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection, permission=perm
                )


def is_staff_user(user: AbstractBaseUser | AnonymousUser) -> bool:
    """A back-office user: active and allowed into the Wagtail admin."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("wagtailadmin.access_admin"))
    )


# Wagtail's site history names the objects of its audit entries (donors among
# them): only users who may view donors open it (Admin, Fundraiser, Finance).
SITE_HISTORY_PERMISSION = "donors.view_donor"


def may_view_site_history(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm(SITE_HISTORY_PERMISSION))
    )


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(user.groups.values_list("name", flat=True))


def has_demo_mfa_waiver(user: AbstractBaseUser) -> bool:
    from kyosei.models import DemoMFAWaiver

    return DemoMFAWaiver.objects.filter(user=user).exists()
