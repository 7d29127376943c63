from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kyosei.spreadsheets import protect_wagtail_exports


class KyoseiConfig(AppConfig):
    name = "kyosei"
    verbose_name = _("Kyosei core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared_task to our configured app in every process (web and worker).
        from kyosei import celery  # noqa: F401

        # Wagtail's CSV exports (reports, site history) escape formulas too.
        protect_wagtail_exports()
