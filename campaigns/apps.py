from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # donors cannot import campaigns (layers): online giving's personal data
        # joins a donor's erasure through donors' extension point.
        from campaigns.services.erasure import DonationDataEraser
        from donors.portal.erasure import register_erasure_step

        register_erasure_step(DonationDataEraser())
