"""Operations: prove a Celery worker is consuming tasks from the broker."""

import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kyosei.tasks import healthcheck


class Command(BaseCommand):
    help = "Send a health-check task and wait for a worker to answer it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=20.0)

    def handle(self, *args, timeout: float, **options):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("CELERY_BROKER_URL is not set: tasks run eagerly.")
        token = uuid.uuid4().hex
        try:
            result = healthcheck.delay(token).get(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - report any broker/worker failure
            raise CommandError(f"No worker answered within {timeout}s: {exc}") from exc
        if result["token"] != token:
            raise CommandError("A worker answered with the wrong token.")
        self.stdout.write(self.style.SUCCESS(f"Worker on {result['host']} answered."))
