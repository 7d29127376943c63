from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

RECEIPTS_AUDIT_ACTIONS = {
    "receipts.receipt.issued": _("Receipt issued"),
    "receipts.receipt.reissued": _("Receipt reissued"),
    "receipts.receipt.voided": _("Receipt voided"),
    "receipts.receipt.flagged": _("Receipt flagged to void (gift refunded)"),
    "receipts.email.bounced": _("Receipt email bounced"),
}


@hooks.register("register_log_actions")
def register_receipts_audit_actions(actions):
    for action, label in RECEIPTS_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


@hooks.register("register_admin_urls")
def register_receipt_urls():
    from django.urls import include, path

    from donors.receipts import views

    return [path("receipts/", include((views.urlpatterns, "receipts")))]


class ReceiptsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("receipts.view_receipt")


@hooks.register("register_admin_menu_item")
def register_receipts_menu_item():
    return ReceiptsMenuItem(
        _("Receipts"),
        reverse("receipts:index"),
        name="receipts",
        icon_name="doc-full",
        order=330,
    )
