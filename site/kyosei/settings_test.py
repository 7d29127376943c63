"""Settings for the test suite: production settings with test-only relaxations.

Set before importing the real settings so the same validation code runs.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("KYOSEI_VAR_DIR", os.path.join(os.getcwd(), "var", "test"))
# Production refuses to start without an email backend; the tests keep every
# email in memory (below). A reserved name: nothing is ever sent there.
os.environ.setdefault("EMAIL_HOST", "smtp.invalid")

from kyosei.settings import *  # noqa: E402,F403

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
KYOSEI_DEMO_MFA_WAIVER = False
ACCOUNT_RATE_LIMITS = False  # rate limits have their own test with them switched on
CELERY_TASK_ALWAYS_EAGER = True  # tests needing a real worker use the `worker` mark
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns on a missing dir

# Each test gets its own cache namespace (tests/conftest.py sets it), so counters
# and rate limits never leak between tests, workers or runs — also on Redis, which
# outlives the test process.
CACHE_NAMESPACE = ["default"]


def namespaced_cache_key(key, key_prefix, version):
    return f"{CACHE_NAMESPACE[0]}:{key_prefix}:{version}:{key}"


CACHES["default"]["KEY_FUNCTION"] = "kyosei.settings_test.namespaced_cache_key"  # noqa: F405
