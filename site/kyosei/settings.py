"""Kyosei settings: one module, everything from environment variables.

Secure by default: ``DEBUG`` is off unless set, and ``SECRET_KEY`` has no fallback
outside local development. The embedded defaults (SQLite under ``var/``, eager
Celery, console email, local-memory cache) make ``make run`` work with no keys and
no network. The README's configuration table lists every variable read here.
"""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from kyosei.env import EnvError, env_bool, env_int, env_list, env_str, env_url

SITE_DIR = Path(__file__).resolve().parent.parent  # site/
BASE_DIR = SITE_DIR.parent  # repository root
VAR_DIR = Path(env_str("KYOSEI_VAR_DIR", str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
KYOSEI_DEMO = env_bool("KYOSEI_DEMO", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not (DEBUG or KYOSEI_DEMO):
        raise EnvError(
            "SECRET_KEY is required but not set (only DEBUG=1 or KYOSEI_DEMO=1 "
            "may use a generated local key)"
        )
    # Local development only: a random key kept in var/, never a constant.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEBUG or KYOSEI_DEMO) else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
KYOSEI_BASE_URL = env_url(
    "KYOSEI_BASE_URL", schemes=("http", "https"), default="http://127.0.0.1:8000"
)
WAGTAILADMIN_BASE_URL = KYOSEI_BASE_URL

INSTALLED_APPS = [
    "kyosei",
    "grants",
    "donors",
    "donors.imports",
    "donors.portal",
    "donors.receipts",
    "campaigns",
    "impact",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.simple_translation",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.locales",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kyosei.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kyosei.middleware.StaffMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "kyosei.urls"
WSGI_APPLICATION = "kyosei.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
                "kyosei.context_processors.kyosei",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------

_database_url = env_url(
    "DATABASE_URL", schemes=("postgres", "postgresql", "pgsql", "sqlite")
)
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except ValueError as exc:
        raise EnvError(f"DATABASE_URL is malformed: {exc}") from None
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kyosei.sqlite3",
            # Concurrent writers (runserver + eager tasks) wait instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------

_cache_url = env_url("CACHE_URL", schemes=("redis", "rediss"))
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------

CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", schemes=("redis", "rediss", "amqp"))
# Without a broker every task runs in-process, at once (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_url(
    "CELERY_RESULT_BACKEND", schemes=("redis", "rediss"), default=CELERY_BROKER_URL
)
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE: dict = {
    # Online giving: missed webhooks are found, transient failures re-run.
    "campaigns-reconcile-stripe": {
        "task": "campaigns.reconcile_stripe",
        "schedule": 60 * 60,
    },
    "campaigns-acknowledge-pending": {
        "task": "campaigns.acknowledge_pending",
        "schedule": 60 * 60,
    },
    "campaigns-retry-failed-events": {
        "task": "campaigns.retry_failed_events",
        "schedule": 10 * 60,
    },
    # Imports: batches whose task stopped are marked failed with the reason.
    "donor-imports-sweep-stale": {
        "task": "donor_imports.sweep_stale",
        "schedule": 10 * 60,
    },
}

# --- Email ------------------------------------------------------------------------

# Emails carry password-reset links and login codes. In production they go by
# SMTP (EMAIL_HOST) or, as a deliberate choice, into files in a private
# directory (EMAIL_FILE_PATH) — never to the console, whose output ends up in
# logs. Only DEBUG=1 or KYOSEI_DEMO=1 prints them.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif EMAIL_FILE_PATH:
    if not Path(EMAIL_FILE_PATH).is_absolute():
        raise EnvError(
            f"EMAIL_FILE_PATH must be an absolute path, got {EMAIL_FILE_PATH!r}"
        )
    try:  # readable by the application's user only
        Path(EMAIL_FILE_PATH).mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvError(f"EMAIL_FILE_PATH cannot be created: {exc}") from None
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
elif DEBUG or KYOSEI_DEMO:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise EnvError(
        "EMAIL_HOST is required but not set (or EMAIL_FILE_PATH for emails kept as "
        "files; only DEBUG=1 or KYOSEI_DEMO=1 prints emails to the console)"
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Kyosei <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Imports ----------------------------------------------------------------------

# Largest transfer or spreadsheet file accepted (bytes); bigger files are refused.
KYOSEI_IMPORT_MAX_BYTES = env_int(
    "KYOSEI_IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1
)
# Limits on what a file may hold once read (a small file can claim or unpack to
# a huge one): spreadsheet rows (header excluded), columns of a spreadsheet or
# CSV statement, characters in one cell (Excel's own limit), the unpacked size
# of an .xlsx (its zip members together), and the wall time reading may take.
KYOSEI_IMPORT_MAX_ROWS = env_int("KYOSEI_IMPORT_MAX_ROWS", 100_000, minimum=1)
KYOSEI_IMPORT_MAX_COLUMNS = env_int("KYOSEI_IMPORT_MAX_COLUMNS", 200, minimum=1)
# Rows × columns held: what bounds a spreadsheet's memory once read.
KYOSEI_IMPORT_MAX_CELLS = env_int("KYOSEI_IMPORT_MAX_CELLS", 3_000_000, minimum=1)
KYOSEI_IMPORT_MAX_CELL_CHARS = env_int(
    "KYOSEI_IMPORT_MAX_CELL_CHARS", 32_767, minimum=1
)
KYOSEI_IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "KYOSEI_IMPORT_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024, minimum=1
)
KYOSEI_IMPORT_MAX_SECONDS = env_int("KYOSEI_IMPORT_MAX_SECONDS", 300, minimum=1)
# An import shown as waiting, reading or applying with no sign of life from its
# task for this long has stopped (worker or database connection lost): its page
# offers Retry and Abandon, and the sweep below marks it failed with the reason.
KYOSEI_IMPORT_LEASE_SECONDS = env_int("KYOSEI_IMPORT_LEASE_SECONDS", 900, minimum=60)

# --- Stripe (online giving) -------------------------------------------------------

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_url("STRIPE_API_BASE", schemes=("http", "https"))

# --- Authentication (django-allauth, MFA for staff) -------------------------------

# Every sign-in goes through allauth (rate limits, the MFA stage): kyosei.urls
# redirects Wagtail's admin and front-end login views and its password reset to
# it, and kyosei.middleware.StaffMFAMiddleware lets staff into /admin/ only from
# a session whose sign-in used the second factor.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"
# Pages restricted to signed-in users send visitors to allauth (in their language).
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
WAGTAIL_PASSWORD_RESET_ENABLED = False  # allauth owns password reset
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up, login by code and password reset answer the same whether or not the
# address has an account (or belongs to a donor); the email says what happened.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
}
# Donor portal: sign-up opens an account only for an existing donor's email
# (PortalSignupForm); staff go to /admin/, donors to /portal/ after login; login
# by emailed code or password (staff still pass the MFA stage either way).
ACCOUNT_ADAPTER = "donors.portal.adapter.PortalAccountAdapter"
ACCOUNT_FORMS = {"signup": "donors.portal.forms.PortalSignupForm"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Kyosei"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# No "trust this browser": every staff sign-in asks for the second factor (the
# middleware would sign a trusted-browser session out again anyway).
MFA_TRUST_ENABLED = False
# Demo only: the printed demo staff users may skip MFA enrolment (see seed_demo).
KYOSEI_DEMO_MFA_WAIVER = KYOSEI_DEMO
# Staff avatars are Wagtail's local ones: Gravatar would send a hash of each staff
# email to a third party (and shows broken images offline).
WAGTAIL_GRAVATAR_PROVIDER_URL = None

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English")), ("vi", _("Vietnamese"))]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [SITE_DIR / "kyosei" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# MEDIA_ROOT holds Wagtail's images (public: map /media/images/ on the web server)
# and documents (streamed by Wagtail's serve view, which checks their privacy).
# Receipt PDFs, the receipt seal and uploaded bank statements and spreadsheets
# live in STORAGES["private"]: never under MEDIA_ROOT or STATIC_ROOT, never given
# a URL, served only by views that check the user (kyosei/private_files.py).
KYOSEI_PRIVATE_ROOT = Path(env_str("KYOSEI_PRIVATE_ROOT", str(VAR_DIR / "private")))
_private_backend = env_str("KYOSEI_PRIVATE_STORAGE", "filesystem")
if _private_backend == "filesystem":
    _private = KYOSEI_PRIVATE_ROOT.resolve()
    for _name, _public in (("MEDIA_ROOT", MEDIA_ROOT), ("STATIC_ROOT", STATIC_ROOT)):
        _public = _public.resolve()
        if _private == _public or _private.is_relative_to(_public):
            raise EnvError(
                f"KYOSEI_PRIVATE_ROOT ({_private}) must not be inside {_name} "
                f"({_public}): that folder is served to anyone"
            )
    STORAGES["private"] = {"BACKEND": "kyosei.private_files.PrivateFileSystemStorage"}
elif _private_backend == "s3":
    if importlib.util.find_spec("storages") is None:
        raise EnvError(
            "KYOSEI_PRIVATE_STORAGE=s3 needs the s3 extra: pip install '.[s3]'"
        )
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (read by
    # django-storages and boto3 from the environment), or the host's IAM role.
    STORAGES["private"] = {
        "BACKEND": "kyosei.storage_s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env_str("KYOSEI_PRIVATE_S3_BUCKET", required=True),
            "endpoint_url": env_url(
                "KYOSEI_PRIVATE_S3_ENDPOINT_URL", schemes=("https", "http")
            )
            or None,
            "region_name": env_str("KYOSEI_PRIVATE_S3_REGION") or None,
            "location": env_str("KYOSEI_PRIVATE_S3_PREFIX").strip("/"),
        },
    }
else:
    raise EnvError(
        f"KYOSEI_PRIVATE_STORAGE must be filesystem or s3, got {_private_backend!r}"
    )
# Private files left by a rolled-back or killed transaction are swept daily
# once they are a day old (``manage.py cleanup_orphan_files``).
CELERY_BEAT_SCHEDULE["kyosei-cleanup-orphan-files"] = {
    "task": "kyosei.cleanup_orphan_files",
    "schedule": 24 * 60 * 60,
}

# --- Wagtail ----------------------------------------------------------------------

WAGTAIL_SITE_NAME = "Kyosei"
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "txt", "docx"]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# --- Security (production unless DEBUG) -------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # Wagtail admin JavaScript reads the token
X_FRAME_OPTIONS = "DENY"  # Wagtail marks its preview views same-origin itself
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs name ids, never donors (kyosei/redact.py). Whatever LOG_LEVEL says, two
# libraries stay above DEBUG, where they write personal data: Django's database
# backend logs every SQL statement with its parameters (names, emails; it has
# nothing to say at INFO), and the Stripe client logs each request's form data
# (the donor's email; at INFO a line per request, noise).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        **{
            name: {"level": env_str("LOG_LEVEL", "INFO")}
            for name in ("kyosei", "donors", "campaigns", "grants", "impact")
        },
        "django.db.backends": {"level": "INFO"},
        "stripe": {"level": "WARNING"},
    },
}

# The ledger's covering index (INCLUDE amount) is a PostgreSQL optimisation;
# SQLite simply builds the plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
