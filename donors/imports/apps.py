from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonorImportsConfig(AppConfig):
    """Imports of bank and postal transfers (全銀協 files and CSV statements)."""

    name = "donors.imports"
    label = "donor_imports"
    verbose_name = _("Transfer imports")
    default_auto_field = "django.db.models.BigAutoField"
