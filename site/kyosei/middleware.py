"""Staff reach the back office only from a session that passed a second factor."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kyosei.auth import SECOND_FACTOR_TYPES, session_passed_second_factor
from kyosei.roles import has_demo_mfa_waiver, is_staff_user

PROTECTED_PREFIXES = ("/admin/",)


class StaffMFAMiddleware:
    """The staff second-factor rule, on every request of a signed-in user.

    - A session whose sign-in included the second factor (allauth's
      authentication records, see ``kyosei.auth.session_passed_second_factor``)
      passes.
    - A staff user who has TOTP or a security key enrolled but whose session did
      not use it (a session from before the enrolment, or any way in that is not
      allauth's) is signed out, on any path — not only ``/admin/``, so such a
      session cannot manage the account's factors either — and sent to allauth's
      login with ``?next=``, where the MFA stage asks for the factor.
    - A staff user with no factor enrolled is sent to enrolment before any
      ``/admin/`` page. Demo users created by ``seed_demo`` may carry a waiver of
      that enrolment, honoured only when ``KYOSEI_DEMO_MFA_WAIVER`` is on
      (``KYOSEI_DEMO=1``).

    Donors (portal users) are not staff and are not affected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self._check(request) or self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or session_passed_second_factor(request, user):
            return None
        # One query for a donor's request; staff checks only when they matter.
        if is_mfa_enabled(user, types=list(SECOND_FACTOR_TYPES)):
            if is_staff_user(user):
                return self._sign_in_again(request)
            return None
        if not request.path.startswith(PROTECTED_PREFIXES) or not is_staff_user(user):
            return None
        if settings.KYOSEI_DEMO_MFA_WAIVER and has_demo_mfa_waiver(user):
            return None
        messages.warning(
            request,
            _(
                "Staff accounts must set up an authenticator app before "
                "using the back office."
            ),
        )
        return _redirect_with_next(reverse("mfa_activate_totp"), request)

    @staticmethod
    def _sign_in_again(request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.warning(
            request,
            _(
                "Please sign in again with your authenticator app or security "
                "key: this session did not use it."
            ),
        )
        return _redirect_with_next(reverse("account_login"), request)


def _redirect_with_next(target: str, request: HttpRequest) -> HttpResponseRedirect:
    next_url = request.get_full_path() if request.method == "GET" else request.path
    return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")


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
