from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonorPortalConfig(AppConfig):
    name = "donors.portal"
    label = "donor_portal"
    verbose_name = _("Donor portal")
    default_auto_field = "django.db.models.BigAutoField"
