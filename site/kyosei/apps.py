from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kyosei.spreadsheets import protect_wagtail_exports


class KyoseiConfig(AppConfig):
    name = "kyosei"
    verbose_name = _("Kyosei core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared_task to our configured app in every process (web and worker).
        from allauth.mfa.signals import authenticator_added

        from kyosei import celery  # noqa: F401
        from kyosei.auth import record_enrolment

        # allauth's sign-in flow event (not a model signal): a factor enrolled in
        # this session counts as this session's second factor (kyosei.auth).
        authenticator_added.connect(
            record_enrolment, dispatch_uid="kyosei-mfa-enrolled"
        )

        # Wagtail's CSV exports (reports, site history) escape formulas too.
        protect_wagtail_exports()
