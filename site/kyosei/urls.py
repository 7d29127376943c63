from pathlib import Path

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from kyosei import admin_reports

# Every sign-in goes through allauth, which rate-limits and asks for the second
# factor. Wagtail's own login views (admin and front end) and its password reset
# are shadowed by redirects placed before them; tests/kyosei/test_login_paths.py
# walks this configuration and fails on any login view it does not know.
urlpatterns = [
    path(
        "admin/login/",
        RedirectView.as_view(url=settings.WAGTAILADMIN_LOGIN_URL, query_string=True),
        name="kyosei_admin_login_redirect",
    ),
    # The whole prefix: the form, "done", the emailed confirm link and "complete".
    re_path(
        r"^admin/password_reset/",
        RedirectView.as_view(pattern_name="account_reset_password"),
        name="kyosei_admin_password_reset_redirect",
    ),
    # Wagtail's site history names donors: served here, at Wagtail's own paths,
    # only to roles that may see donors (kyosei/admin_reports.py).
    path("admin/reports/site-history/", include(admin_reports)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("stripe/", include("campaigns.urls_webhook")),
]

# Development only (DEBUG): serve the public media folders. Only Wagtail's images
# and avatars are public: documents go through Wagtail's serve view, which checks
# their privacy, and private files (receipts, uploads) are not under MEDIA_ROOT.
PUBLIC_MEDIA_FOLDERS = ("images", "original_images", "avatar_images")


def debug_media_urlpatterns() -> list:
    patterns = []  # static() gives none unless DEBUG
    for folder in PUBLIC_MEDIA_FOLDERS:
        patterns += static(
            f"{settings.MEDIA_URL}{folder}/",
            document_root=Path(settings.MEDIA_ROOT) / folder,
        )
    return patterns


urlpatterns += debug_media_urlpatterns()

# Public pages: Japanese at /, English at /en/, Vietnamese at /vi/.
# Sign-in pages too, so donors abroad sign in in their language.
urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("donate/", include("campaigns.urls")),
    path("portal/", include("donors.portal.urls")),
    # wagtail.urls brings Django's plain LoginView at _util/login/ (no rate limit,
    # no second factor): send it to allauth's login in the same language, with
    # ?next= kept.
    path(
        "_util/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="kyosei_frontend_login_redirect",
    ),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
