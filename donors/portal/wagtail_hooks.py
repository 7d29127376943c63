from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

PORTAL_AUDIT_ACTIONS = {
    "donors.donor.portal_linked": _("Donor portal account linked"),
    "donors.donor.anonymised": _("Donor anonymised (account deleted)"),
    "donors.deletion_request.created": _("Account deletion requested"),
    "donors.deletion_request.processed": _("Account deletion processed"),
    "donors.deletion_request.rejected": _("Account deletion rejected"),
}


@hooks.register("register_log_actions")
def register_portal_audit_actions(actions):
    for action, label in PORTAL_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


@hooks.register("register_admin_urls")
def register_portal_admin_urls():
    from donors.portal import admin_views

    return [path("donors/portal/", include(admin_views))]


class _PermissionMenuItem(MenuItem):
    def __init__(self, *args, permissions: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.permissions = permissions

    def is_shown(self, request):
        return request.user.has_perms(self.permissions)


@hooks.register("register_admin_menu_item")
def register_register_menu_item():
    return _PermissionMenuItem(
        _("Donor register"),
        reverse("donor_portal_admin:register"),
        name="donor-register",
        icon_name="table",
        order=330,
        permissions=("donors.view_gift", "donors.export_gift"),
    )


@hooks.register("register_admin_menu_item")
def register_deletion_requests_menu_item():
    return _PermissionMenuItem(
        _("Deletion requests"),
        reverse("donor_portal_admin:deletion_requests"),
        name="donor-deletion-requests",
        icon_name="bin",
        order=340,
        permissions=("donor_portal.view_deletionrequest",),
    )
