"""django-allauth adapter with donor self-service (ACCOUNT_ADAPTER points here).

Sign-up is open, but only for the email of an existing donor who has no portal
account yet (``PortalSignupForm``); staff accounts are still created by an admin.
kyosei.auth keeps the core rules (and stays free of app imports).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from kyosei.auth import AccountAdapter
from kyosei.roles import is_staff_user


class PortalAccountAdapter(AccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Staff go to the back office, donors to their portal (an explicit
        # ?next= still wins, as allauth applies it before asking us).
        if is_staff_user(request.user):
            return super().get_login_redirect_url(request)
        return reverse("donor_portal:home")
