from pathlib import Path

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    # Wagtail's own login and password reset would bypass allauth's MFA stage:
    # both go to allauth instead.
    path(
        "admin/login/",
        RedirectView.as_view(url=settings.WAGTAILADMIN_LOGIN_URL, query_string=True),
        name="kyosei_admin_login_redirect",
    ),
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="account_reset_password"),
    ),
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
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
