"""Build the fictional demo NPO. Idempotent: a second run changes nothing.

Each installed app may contribute a ``<app>.demo`` module with a ``seed()``
function; they run in INSTALLED_APPS order (core first), so ``kyosei`` never
imports the apps it seeds for.
"""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from kyosei.demo import demo_logins


class Command(BaseCommand):
    help = "Create the fictional demo organisation, its data and one user per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only seed when the database has no users yet; always print logins.",
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and get_user_model().objects.exists():
            self.stdout.write("Database already has data; not seeding.")
        else:
            for config in apps.get_app_configs():
                if not config.path.startswith(str(settings.BASE_DIR)):
                    continue
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                self.stdout.write(f"Seeding {config.label}…")
                module.seed()
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self._print_logins()

    def _print_logins(self) -> None:
        base = settings.KYOSEI_BASE_URL.rstrip("/")
        self.stdout.write("")
        self.stdout.write(f"Public site:  {base}/   ({base}/en/, {base}/vi/)")
        self.stdout.write(f"Back office:  {base}/admin/")
        self.stdout.write("Demo logins (DEMO ONLY — MFA enrolment is waived for these")
        self.stdout.write("users while KYOSEI_DEMO=1; real staff must enrol TOTP):")
        for role, email, password in demo_logins():
            self.stdout.write(f"  {role:<11} {email:<36} {password}")
