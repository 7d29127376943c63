"""django-allauth: Kyosei's sign-in rules.

Every sign-in goes through allauth (``kyosei.urls`` redirects Wagtail's and
Django's own login views to it). allauth keeps, in the session, the list of
methods this sign-in used (``allauth.account.authentication``); a back-office
session counts only once that list holds the second factor, which
``kyosei.middleware.StaffMFAMiddleware`` enforces.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records

# allauth's own recorder (the one its password, code and MFA flows call); only
# its reader is exported publicly, hence the internal import.
from allauth.account.internal.flows.login import record_authentication
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from kyosei.mail import email_queue

# What a staff account must have enrolled, and what a sign-in must have used.
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def session_passed_second_factor(request: HttpRequest, user: AbstractBaseUser) -> bool:
    """Whether this session's sign-in included a second factor for ``user``.

    allauth appends ``{"method": "mfa", "type": ...}`` when the user passes its
    MFA stage (TOTP, security key, or one of their recovery codes), re-confirms
    with MFA, or signs in with a passkey; ``record_enrolment`` below adds one
    when the user enrols a factor in this session. Password, emailed code and
    password reset records never count. The records are tied to the user id, so
    a session that changes user starts with none.
    """
    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, user)
    )


def record_enrolment(
    sender: Any,
    request: HttpRequest | None,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    **kwargs: Any,
) -> None:
    """``allauth.mfa.signals.authenticator_added``: enrolling a TOTP app or a
    security key in this session counts as this session's second factor.

    The user proved they hold the new factor (allauth checks a code from it, or
    the key's signature) in this very session, so they go on to the back office
    without signing in again. Other sessions of the same user, opened before
    the enrolment, get no record and are signed out by the middleware. (That a
    password alone allows enrolling the first factor is the first-use rule every
    staff account starts with; an account that already has a factor can add
    another only from a session that passed it.)
    """
    if request is None or authenticator.type not in SECOND_FACTOR_TYPES:
        return
    if getattr(request, "user", None) is None or request.user.pk != user.pk:
        return
    record_authentication(
        request,
        user,
        method="mfa",
        id=authenticator.pk,
        type=authenticator.type,
        enrolled=True,
    )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff accounts are created by an admin. Donor self-service sign-up is
        # opened by donors.portal.adapter.PortalAccountAdapter (ACCOUNT_ADAPTER).
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render here (language, links), send from Celery after commit.

        Same context as allauth's ``send_mail``; only the sending moves out of
        the request.
        """
        request = allauth_context.request
        ctx = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
        }
        email_queue(self.render_mail(template_prefix, email, ctx))
