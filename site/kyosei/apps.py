from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KyoseiConfig(AppConfig):
    name = "kyosei"
    verbose_name = _("Kyosei core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared_task to our configured app in every process (web and worker).
        from kyosei import celery  # noqa: F401
