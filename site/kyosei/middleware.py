"""Staff must enrol a second factor before they reach the back office."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kyosei.roles import has_demo_mfa_waiver, is_staff_user

PROTECTED_PREFIXES = ("/admin/",)


class StaffMFAMiddleware:
    """Redirect a staff user without TOTP/WebAuthn to enrolment.

    Applies to every path under ``/admin/``. Donors (portal users) are not staff
    and are not affected. Demo users created by ``seed_demo`` may carry a waiver
    that is honoured only when ``KYOSEI_DEMO_MFA_WAIVER`` is on (``KYOSEI_DEMO=1``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_enrol(request):
            messages.warning(
                request,
                _(
                    "Staff accounts must set up an authenticator app before "
                    "using the back office."
                ),
            )
            target = reverse("mfa_activate_totp")
            return HttpResponseRedirect(
                f"{target}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request: HttpRequest) -> bool:
        if not request.path.startswith(PROTECTED_PREFIXES):
            return False
        user = request.user
        if not user.is_authenticated or not is_staff_user(user):
            return False
        if settings.KYOSEI_DEMO_MFA_WAIVER and has_demo_mfa_waiver(user):
            return False
        return not is_mfa_enabled(user, types=["totp", "webauthn"])


class RefuseNulMiddleware:
    """A 400 for a NUL character in the URL path, query string or cookies.

    PostgreSQL refuses NUL in text ("A string literal cannot contain NUL"), so a
    NUL that reached a query was a server error: a search box reads
    ``request.GET`` directly, a page path is looked up by slug, a session key
    comes from a cookie. No real link, form or cookie holds one, so the request
    is refused before any view runs, for every view at once. Request bodies are
    left to the forms (Django's ``CharField`` already refuses NUL) and to views
    that read raw bodies (the Stripe webhook verifies its signature first).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return True
    return any("\x00" in k or "\x00" in v for k, v in request.COOKIES.items())
