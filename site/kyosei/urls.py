from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from kyosei import admin_reports

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
    # Wagtail's site history names donors: served here, at Wagtail's own paths,
    # only to roles that may see donors (kyosei/admin_reports.py).
    path("admin/reports/site-history/", include(admin_reports)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("stripe/", include("campaigns.urls_webhook")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Public pages: Japanese at /, English at /en/, Vietnamese at /vi/.
# Sign-in pages too, so donors abroad sign in in their language.
urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("donate/", include("campaigns.urls")),
    path("portal/", include("donors.portal.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
