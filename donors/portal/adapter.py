"""django-allauth adapter with donor self-service (ACCOUNT_ADAPTER points here).

Sign-up is open to any well-formed email and answers the same for all; only the
email of an existing donor with no portal account yet becomes an account
(``PortalSignupForm``). Staff accounts are still created by an admin.
kyosei.auth keeps the core rules (and stays free of app imports).
"""

from __future__ import annotations

from allauth.account.internal.flows.signup import get_signup_url
from allauth.account.utils import filter_users_by_email
from allauth.core import context as allauth_context
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from wagtail.models import Site

from kyosei.auth import AccountAdapter
from kyosei.models import OrganisationProfile
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

    def send_account_already_exists_mail(self, email: str) -> None:
        """The sign-up that created no account: the email says why.

        allauth calls this when sign-up refused an address without saying so
        (ACCOUNT_PREVENT_ENUMERATION): an address with an account gets allauth's
        "you already have an account" mail; any other address reached here
        because ``PortalSignupForm`` found no donor with it, and gets ours.
        """
        if filter_users_by_email(email):
            super().send_account_already_exists_mail(email)
            return
        request = allauth_context.request
        # Read only: this path must write nothing.
        profile = OrganisationProfile.objects.filter(
            site=Site.find_for_request(request)
        ).first()
        org_name = ""
        if profile is not None:
            org_name = profile.legal_name_ja
            if get_language() != "ja":
                org_name = profile.legal_name_en or org_name
        self.send_mail(
            "donors/portal/email/signup_not_a_donor",
            email,
            {
                "signup_url": get_signup_url(request),
                "org_name": org_name,
                "org_email": profile.email if profile else "",
                "org_phone": profile.phone if profile else "",
            },
        )
