"""No way into the admin with a password (or an emailed code) alone (issue 11, item 1).

The URL configuration is walked (every pattern, the language-prefixed ones in
ja/en/vi) and every view is classified: a view that can sign a user in must be
in ``LOGIN_VIEWS`` with the scenario that proves, for a staff user who has TOTP
enrolled, that signing in through it with the password or a code only does not
open ``/admin/``. A view that looks like authentication (it comes from Django's
or Wagtail's auth views or from allauth, or its module calls a login function)
and is in neither table fails ``test_every_authentication_view_is_classified``
— so a new login URL fails until it is covered here.
"""

from __future__ import annotations

import inspect
import re
import sys
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import django.contrib.auth
import pytest
from allauth.account.internal.flows import login as allauth_login_flows
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import perform_login as allauth_perform_login
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import LocalePrefixPattern
from django.utils import translation
from django.views.generic import RedirectView

from kyosei.roles import Role
from tests.conftest import Client
from tests.factories.users import PASSWORD, give_totp, staff_user

LANGUAGES = [code for code, _name in settings.LANGUAGES]

# Where Django, Wagtail and allauth keep views that authenticate someone.
AUTH_MODULES = (
    "django.contrib.auth",
    "allauth",
    "wagtail.admin.views.account",
    "wagtail.views",
    "wagtail.documents.views.serve",
)
# Functions that turn a request into a signed-in session.
LOGIN_FUNCTIONS = {
    django.contrib.auth.login,
    allauth_login_flows.perform_login,
    allauth_login_flows.perform_password_login,
    allauth_login_flows.resume_login,
    allauth_perform_login,
}
# A view module of our own that calls something named like a login.
LOGIN_CALL = re.compile(
    r"\b(login|auth_login|django_login|perform_login|resume_login)\s*\("
)

# view -> scenario proving it gives no admin access without the second factor.
LOGIN_VIEWS = {
    # allauth: every sign-in runs its stages, MFA last.
    "allauth.account.views._login.LoginView": "password",
    "allauth.mfa.base.views.AuthenticateView": "mfa_stage",
    "allauth.account.views._login.RequestLoginCodeView": "code",
    "allauth.account.views._login.ConfirmLoginCodeView": "code",
    "allauth.account.views._signup.SignupView": "signup",
    "allauth.account.views._email_verification.ConfirmEmailView": "confirm_email",
    "allauth.account.views._password_reset.PasswordResetFromKeyView": "reset",
    # Django's and Wagtail's own: shadowed by redirects to allauth (kyosei.urls).
    "django.contrib.auth.views.LoginView": "shadowed",
    "wagtail.admin.views.account.LoginView": "shadowed",
    "wagtail.admin.views.account.PasswordResetConfirmView": "shadowed",
}

# view -> why it signs no one in.
NOT_LOGIN_VIEWS = {
    "allauth.account.views._logout.LogoutView": "signs out",
    "allauth.account.views._account.AccountInactiveView": "a static page",
    "allauth.account.views._reauthenticate.ReauthenticateView": (
        "signed-in users only: re-confirms the password of the current session"
    ),
    "allauth.account.views._reauthenticate.RequestReauthenticationCodeView": (
        "signed-in users only: mails a code to re-confirm"
    ),
    "allauth.account.views._reauthenticate.ConfirmReauthenticationCodeView": (
        "signed-in users only: re-confirms with the mailed code"
    ),
    "allauth.account.views._email_change.EmailView": "signed-in users only",
    "allauth.account.views._email_verification.email_verification_sent": (
        "a static page"
    ),
    "allauth.account.views._password_change.PasswordChangeView": (
        "signed-in users only: keeps the session (update_session_auth_hash)"
    ),
    "allauth.account.views._password_change.PasswordSetView": "signed-in users only",
    "allauth.account.views._password_reset.PasswordResetView": "mails a link",
    "allauth.account.views._password_reset.PasswordResetDoneView": "a static page",
    "allauth.account.views._password_reset.PasswordResetFromKeyDoneView": (
        "a static page"
    ),
    "allauth.mfa.base.views.IndexView": "signed-in users only",
    "allauth.mfa.base.views.ReauthenticateView": (
        "signed-in users only: re-confirms with the second factor"
    ),
    "allauth.mfa.totp.views.ActivateTOTPView": (
        "signed-in users only: enrols (counts as this session's factor)"
    ),
    "allauth.mfa.totp.views.DeactivateTOTPView": "signed-in users only",
    "allauth.mfa.recovery_codes.views.ViewRecoveryCodesView": "signed-in users only",
    "allauth.mfa.recovery_codes.views.GenerateRecoveryCodesView": (
        "signed-in users only"
    ),
    "allauth.mfa.recovery_codes.views.DownloadRecoveryCodesView": (
        "signed-in users only"
    ),
    "allauth.mfa.webauthn.views.ListWebAuthnView": "signed-in users only",
    "allauth.mfa.webauthn.views.AddWebAuthnView": (
        "signed-in users only: enrols (counts as this session's factor)"
    ),
    "allauth.mfa.webauthn.views.ReauthenticateWebAuthnView": (
        "signed-in users only: re-confirms with the security key"
    ),
    "allauth.mfa.webauthn.views.RemoveWebAuthnView": "signed-in users only",
    "allauth.mfa.webauthn.views.EditWebAuthnView": "signed-in users only",
    "wagtail.admin.views.account.AccountView": (
        "admin (second factor passed) only: keeps the session"
    ),
    "wagtail.admin.views.account.LogoutView": "signs out",
    "wagtail.admin.views.account.PasswordResetView": (
        "shadowed by the redirect to allauth (and off: 404)"
    ),
    "wagtail.admin.views.account.PasswordResetDoneView": "shadowed, static",
    "wagtail.admin.views.account.PasswordResetCompleteView": "shadowed, static",
    "wagtail.views.authenticate_with_password": (
        "a page's view-restriction password: marks that restriction passed in "
        "the session; no user is signed in"
    ),
    "wagtail.views.serve": "serves pages",
    "wagtail.documents.views.serve.authenticate_with_password": (
        "a document's view-restriction password; no user is signed in"
    ),
    "wagtail.documents.views.serve.serve": "serves documents",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    view: str
    i18n: bool
    view_object: object


def view_of(callback):
    """The view behind ``callback``: the class of a class-based view, else the
    function under its decorators."""
    view = getattr(callback, "view_class", None)
    if view is None:
        view = inspect.unwrap(callback)
        view = getattr(view, "view_class", view)
    return view


def dotted(view) -> str:
    return f"{view.__module__}.{view.__qualname__}"


def walk(resolver=None, prefix: str = "", i18n: bool = False):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            localised = isinstance(pattern.pattern, LocalePrefixPattern)
            yield from walk(
                pattern,
                prefix if localised else prefix + str(pattern.pattern),
                i18n or localised,
            )
        elif isinstance(pattern, URLPattern):
            view = view_of(pattern.callback)
            yield Route(
                prefix + str(pattern.pattern), pattern.name, dotted(view), i18n, view
            )


def _modules_of(view) -> list[str]:
    if inspect.isclass(view):
        return [klass.__module__ for klass in view.__mro__]
    return [view.__module__]


def _in(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def looks_like_authentication(view) -> bool:
    for name in _modules_of(view):
        if _in(name, AUTH_MODULES):
            return True
        module = sys.modules.get(name)
        if module is None:
            continue
        if any(
            obj in LOGIN_FUNCTIONS
            for obj in vars(module).values()
            if callable(obj) and not inspect.isclass(obj)
        ):
            return True
        if name.split(".")[0] in ("kyosei", "donors", "campaigns", "grants", "impact"):
            if LOGIN_CALL.search(inspect.getsource(module)):
                return True
    return False


ROUTES = list(walk())


def test_the_walk_sees_the_whole_configuration():
    views = {r.view for r in ROUTES}
    # allauth under every language, Wagtail's admin, the public site
    assert "allauth.account.views._login.LoginView" in views
    assert "wagtail.admin.views.home.HomeView" in views
    assert "wagtail.views.serve" in views
    assert any(r.i18n and r.name == "account_login" for r in ROUTES)
    assert any(not r.i18n and r.name == "wagtailadmin_login" for r in ROUTES)


def test_every_authentication_view_is_classified():
    unknown = sorted(
        {
            f"{r.view} at {r.route!r} ({r.name})"
            for r in ROUTES
            if looks_like_authentication(r.view_object)
            and r.view not in LOGIN_VIEWS
            and r.view not in NOT_LOGIN_VIEWS
        }
    )
    assert not unknown, (
        "Views that may sign a user in and are not covered by this test: "
        + "; ".join(unknown)
    )
    assert not set(LOGIN_VIEWS) & set(NOT_LOGIN_VIEWS)


def test_a_new_login_view_would_be_caught():
    """The classifier itself: Django's, allauth's and our own login views are
    recognised, an ordinary view is not."""
    from django.contrib.auth.views import LoginView as DjangoLoginView
    from django.views.generic import TemplateView

    from campaigns.views import thanks
    from donors.portal.views import home

    class OurLoginView(DjangoLoginView):
        pass

    assert looks_like_authentication(DjangoLoginView)
    assert looks_like_authentication(OurLoginView)
    assert not looks_like_authentication(TemplateView)
    assert not looks_like_authentication(home)
    assert not looks_like_authentication(thanks)


def login_routes():
    """(route name, language or None, scenario) for every login-capable URL."""
    cases = []
    for r in ROUTES:
        if r.view in LOGIN_VIEWS:
            for lang in LANGUAGES if r.i18n else [None]:
                cases.append(
                    pytest.param(
                        r.name, lang, LOGIN_VIEWS[r.view], id=f"{r.name}-{lang or '-'}"
                    )
                )
    return cases


# -- the scenarios ----------------------------------------------------------------


def url_in(lang: str | None, name: str, **kwargs) -> str:
    with translation.override(lang or settings.LANGUAGE_CODE):
        return reverse(name, kwargs=kwargs or None)


def resolve_in(lang: str | None, path: str):
    with translation.override(lang or settings.LANGUAGE_CODE):
        return resolve(path)


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def assert_no_admin(client) -> None:
    response = client.get("/admin/")
    assert response.status_code != 200, "the admin opened without a second factor"
    assert "_auth_user_id" not in client.session


def assert_second_factor_opens_admin(client, lang, secret) -> None:
    """The positive control: the same session, given the code, gets in — so the
    refusal above is the missing factor, not a broken setup."""
    response = client.post(
        url_in(lang, "mfa_authenticate"), {"code": totp_code(secret)}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def only_mail_to(email: str) -> str:
    (message,) = [m for m in mail.outbox if email in m.to]
    mail.outbox.clear()
    return message.body


def password(client, user, secret, lang, name, capture):
    response = client.post(
        url_in(lang, name), {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == url_in(lang, "mfa_authenticate")
    assert_no_admin(client)
    assert_second_factor_opens_admin(client, lang, secret)


def mfa_stage(client, user, secret, lang, name, capture):
    client.post(
        url_in(lang, "account_login"), {"login": user.email, "password": PASSWORD}
    )
    for code in ("", "000000", "not-a-code"):
        response = client.post(url_in(lang, name), {"code": code})
        assert response.status_code == 200
        assert_no_admin(client)
    assert_second_factor_opens_admin(client, lang, secret)


def code(client, user, secret, lang, name, capture):
    with capture(execute=True):
        response = client.post(
            url_in(lang, "account_request_login_code"), {"email": user.email}
        )
    assert response["Location"] == url_in(lang, "account_confirm_login_code")
    body = only_mail_to(user.email)
    login_code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", body, re.M).group(1)
    assert_no_admin(client)
    response = client.post(response["Location"], {"code": login_code})
    assert response.status_code == 302
    assert response["Location"] == url_in(lang, "mfa_authenticate")
    assert_no_admin(client)
    assert_second_factor_opens_admin(client, lang, secret)


def signup(client, user, secret, lang, name, capture):
    new = "a-different-password-2026"
    with capture(execute=True):
        client.post(
            url_in(lang, name),
            {"email": user.email, "password1": new, "password2": new},
        )
    assert_no_admin(client)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    client.post(url_in(lang, "account_login"), {"login": user.email, "password": new})
    assert_no_admin(client)


def confirm_email(client, user, secret, lang, name, capture, settings):
    settings.ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
    address = EmailAddress.objects.create(
        user=user, email=f"second-{lang}@example.com", verified=False
    )
    link = url_in(lang, name, key=EmailConfirmationHMAC(address).key)
    client.get(link)
    client.post(link)
    address.refresh_from_db()
    assert address.verified
    assert_no_admin(client)


def reset(client, user, secret, lang, name, capture, settings):
    settings.ACCOUNT_LOGIN_ON_PASSWORD_RESET = True  # the path that signs in
    with capture(execute=True):
        client.post(url_in(lang, "account_reset_password"), {"email": user.email})
    body = only_mail_to(user.email)
    link = urlsplit(re.search(r"https?://\S+/password/reset/key/\S+/", body).group(0))
    assert resolve_in(lang, link.path).url_name == name
    response = client.get(link.path)  # allauth moves the key into the session
    new = "a-brand-new-password-2026"
    response = client.post(response["Location"], {"password1": new, "password2": new})
    user.refresh_from_db()
    assert user.check_password(new)
    assert response["Location"] == url_in(lang, "mfa_authenticate")
    assert_no_admin(client)
    assert_second_factor_opens_admin(client, lang, secret)


SAMPLE_KWARGS = {
    "wagtailadmin_password_reset_confirm": {"uidb64": "MQ", "token": "x-y"}
}


def shadowed(client, user, secret, lang, name, capture):
    url = url_in(lang, name, **SAMPLE_KWARGS.get(name, {}))
    for form in (
        {"username": user.username, "password": PASSWORD},
        {"login": user.email, "password": PASSWORD},
        {
            "new_password1": "x-new-password-2026",
            "new_password2": "x-new-password-2026",
        },
    ):
        client.get(url)
        client.post(url, form)
        assert_no_admin(client)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # ... because the URL is a redirect to allauth, keeping ?next=
    match = resolve_in(lang, url)
    assert view_of(match.func) is RedirectView, f"{url} still reaches {match.func}"
    response = client.get(f"{url}?next=/admin/pages/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    allauth = {url_in(lang, "account_login"), url_in(lang, "account_reset_password")}
    assert target.path in allauth
    if target.path == url_in(lang, "account_login"):
        assert parse_qs(target.query) == {"next": ["/admin/pages/"]}


SCENARIOS = {
    "password": password,
    "mfa_stage": mfa_stage,
    "code": code,
    "signup": signup,
    "confirm_email": confirm_email,
    "reset": reset,
    "shadowed": shadowed,
}


def test_every_login_view_has_a_scenario():
    assert set(LOGIN_VIEWS.values()) <= set(SCENARIOS)
    assert login_routes(), "the walk found no login URL"


@pytest.mark.django_db
@pytest.mark.parametrize("name,lang,scenario", login_routes())
def test_no_login_url_opens_the_admin_without_the_second_factor(
    name, lang, scenario, django_capture_on_commit_callbacks, settings
):
    user = staff_user(Role.ADMIN, mfa=False)
    secret = give_totp(user)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    run = SCENARIOS[scenario]
    kwargs = {"capture": django_capture_on_commit_callbacks}
    if "settings" in inspect.signature(run).parameters:
        kwargs["settings"] = settings
    run(client, user, secret, lang, name, **kwargs)
