from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet

from donors.imports.models import TransferProfile

IMPORT_AUDIT_ACTIONS = {
    "donor_imports.batch.applied": _("Transfer import applied"),
    "donor_imports.batch.undone": _("Transfer import undone"),
    "donor_imports.batch.retried": _("Transfer import retried"),
    "donor_imports.batch.abandoned": _("Transfer import abandoned"),
    "donor_imports.alias.created": _("Payer name alias learnt"),
}


@hooks.register("register_log_actions")
def register_import_audit_actions(actions):
    for action, label in IMPORT_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


class ImportsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("donor_imports.view_importbatch")


@hooks.register("register_admin_urls")
def register_import_urls():
    return [path("transfer-imports/", include("donors.imports.urls"))]


@hooks.register("register_admin_menu_item")
def register_imports_menu_item():
    return ImportsMenuItem(
        _("Transfer imports"),
        reverse_lazy("donor_imports:index"),
        icon_name="upload",
        order=320,
    )


class TransferProfileViewSet(ModelViewSet):
    """CSV column-mapping profiles; model permissions (view/add/change) apply."""

    model = TransferProfile
    icon = "table"
    menu_label = _("Transfer CSV profiles")
    add_to_settings_menu = True
    list_display = ["name", "method", "encoding", "date_column", "date_format"]
    form_fields = [
        "name",
        "description",
        "method",
        "encoding",
        "delimiter",
        "has_header",
        "skip_rows",
        "date_column",
        "date_format",
        "amount_column",
        "credit_column",
        "debit_column",
        "payer_column",
        "reference_column",
        "description_column",
        "balance_column",
        "skip_keywords",
    ]


@hooks.register("register_admin_viewset")
def register_transfer_profile_viewset():
    return TransferProfileViewSet("transfer_profiles")


# -- donor and gift spreadsheets ----------------------------------------------------

SPREADSHEET_AUDIT_ACTIONS = {
    "donor_imports.spreadsheet.applied": _("Spreadsheet import applied"),
    "donor_imports.spreadsheet.retried": _("Spreadsheet import retried"),
    "donor_imports.spreadsheet.abandoned": _("Spreadsheet import abandoned"),
}


@hooks.register("register_log_actions")
def register_spreadsheet_audit_actions(actions):
    for action, label in SPREADSHEET_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


class SpreadsheetImportsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("donor_imports.view_spreadsheetimport")


@hooks.register("register_admin_menu_item")
def register_spreadsheet_imports_menu_item():
    return SpreadsheetImportsMenuItem(
        _("Spreadsheet imports"),
        reverse_lazy("donor_imports:spreadsheet_index"),
        icon_name="table",
        order=321,
    )
