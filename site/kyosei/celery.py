"""The Celery app. Run a worker with ``celery -A kyosei worker`` from ``site/``
or ``celery --workdir site -A kyosei worker`` from the repository root."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyosei.settings")

from celery import Celery  # noqa: E402

from kyosei.boot import load_settings_or_exit  # noqa: E402

load_settings_or_exit()

app = Celery("kyosei")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
