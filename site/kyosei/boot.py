"""Start-up guard shared by every entry point (manage.py, wsgi, asgi, celery)."""

import sys


def load_settings_or_exit() -> None:
    """Import the settings now; a bad environment variable exits with one line."""
    from django.conf import settings

    from kyosei.env import EnvError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings import
    except EnvError as exc:
        sys.stderr.write(f"Kyosei configuration error: {exc}\n")
        raise SystemExit(2) from None
