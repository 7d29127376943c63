"""Start-up configuration: clear one-line errors and a clean production check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "kyosei.settings",
    "SECRET_KEY": "a" * 20 + "production-grade-secret-key-" + "z" * 20,
    "DATABASE_URL": "postgres://kyosei@127.0.0.1:5432/kyosei",
    "ALLOWED_HOSTS": "give.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://give.example.org",
    "KYOSEI_BASE_URL": "https://give.example.org",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_HOST": "smtp.example.org",
}


def _manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base["KYOSEI_VAR_DIR"] = str(ROOT / "var" / "test")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_has_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "localhost:6379"}, "CELERY_BROKER_URL"),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS"),
        # emails (reset links, login codes) never go to the console in production
        ({"EMAIL_HOST": ""}, "EMAIL_HOST"),
        ({"EMAIL_HOST": "", "EMAIL_FILE_PATH": "var/mail"}, "EMAIL_FILE_PATH"),
    ],
)
def test_bad_environment_stops_with_one_clear_line(env, variable):
    result = _manage("check", env={**PRODUCTION_ENV, **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def _email_backend(env) -> str:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.EMAIL_BACKEND)",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().rsplit(".", 2)[-2]


def test_email_backend_by_environment(tmp_path):
    production = {**PRODUCTION_ENV, "DATABASE_URL": ""}
    assert _email_backend(production) == "smtp"
    mail_dir = tmp_path / "mail"
    files = {**production, "EMAIL_HOST": "", "EMAIL_FILE_PATH": str(mail_dir)}
    assert _email_backend(files) == "filebased"
    assert mail_dir.stat().st_mode & 0o777 == 0o700  # private to the app's user
    # make run: DEBUG=1 KYOSEI_DEMO=1 and no EMAIL_HOST prints emails
    local = {**production, "EMAIL_HOST": ""}
    assert _email_backend({**local, "DEBUG": "1", "KYOSEI_DEMO": "1"}) == "console"
    assert _email_backend({**local, "KYOSEI_DEMO": "1"}) == "console"
