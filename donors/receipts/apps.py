from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiptsConfig(AppConfig):
    """Receipts (寄附金受領証明書): a sub-app of donors with its own migrations."""

    name = "donors.receipts"
    label = "receipts"
    verbose_name = _("Receipts")
    default_auto_field = "django.db.models.BigAutoField"
