"""Login goes through allauth; staff reach /admin/ only from a session that passed
their second factor (enrolment first if they have none); roles deny by default
(Board cannot change anything). Every login URL: test_login_paths.py."""

import re
import time
from urllib.parse import quote

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from kyosei.models import DemoMFAWaiver
from kyosei.roles import Role
from tests.conftest import Client
from tests.factories.users import PASSWORD, UserFactory, give_totp, staff_user

pytestmark = pytest.mark.django_db


def test_admin_redirects_anonymous_to_allauth_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_wagtail_login_page_is_replaced_by_allauth(client):
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/pages/"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/password_reset/",
        "/admin/password_reset/done/",
        "/admin/password_reset/confirm/MQ/abc-123/",
        "/admin/password_reset/complete/",
    ],
)
def test_wagtail_password_reset_goes_to_allauth(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password")


@pytest.mark.parametrize("prefix", ["", "/en", "/vi"])
def test_wagtail_front_end_login_goes_to_allauth(client, prefix):
    response = client.get(f"{prefix}/_util/login/?next=/portal/")
    assert response.status_code == 302
    assert response["Location"] == f"{prefix}/accounts/login/?next=/portal/"


def test_login_restricted_page_sends_visitors_to_allauth(client, demo_core):
    from wagtail.models import PageViewRestriction

    from kyosei.models import HomePage

    home = HomePage.objects.get(locale__language_code="en")
    PageViewRestriction.objects.create(
        page=home, restriction_type=PageViewRestriction.LOGIN
    )
    response = client.get("/en/")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=/en/"


def test_staff_without_mfa_is_sent_to_enrolment(client):
    user = staff_user(Role.FUNDRAISER, mfa=False)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # every admin page, not only the dashboard
    assert client.get("/admin/pages/").status_code == 302


def test_staff_with_totp_reaches_dashboard(client):
    user = staff_user(Role.FUNDRAISER)
    client.force_login(user)  # a sign-in that used the TOTP (tests/conftest.py)
    response = client.get("/admin/")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/admin/pages/", "/en/accounts/2fa/", "/en/"])
def test_staff_session_that_skipped_the_enrolled_factor_is_signed_out(client, path):
    # e.g. a session opened before the TOTP was enrolled, or any way in that is
    # not allauth's: signed out wherever it goes, not only in /admin/
    user = staff_user(Role.FUNDRAISER)
    client.force_login(user, mfa=False)
    response = client.get(path)
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"{reverse('account_login')}?next={quote(path, safe='')}"
    )
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("method", ["password", "code", "password_reset"])
def test_first_factor_records_alone_do_not_count(client, method):
    user = staff_user(Role.FINANCE)
    client.force_login(user, mfa=False)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": method, "at": time.time()}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_records_of_another_user_do_not_count(client):
    user = staff_user(Role.FINANCE)
    other = staff_user(Role.EDITOR)
    client.force_login(other)  # MFA records for `other`
    records = client.session[AUTHENTICATION_METHODS_SESSION_KEY]
    client.force_login(user, mfa=False)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session["account_authentication_methods_user"] = str(other.pk)
    session.save()
    assert client.get("/admin/").status_code == 302


def test_recovery_code_counts_as_the_second_factor(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = staff_user(Role.FINANCE)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# allauth announces the new factor after commit: a real transaction, as in production.
@pytest.mark.django_db(transaction=True)
def test_enrolling_after_a_password_login_opens_the_admin_and_closes_older_sessions(
    client,
):
    user = staff_user(Role.FUNDRAISER, mfa=False)
    older = Client(HTTP_ACCEPT_LANGUAGE="en")
    for browser in (older, client):
        browser.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # allauth asks for the password again before enrolment
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    # this session proved the new factor: on to the recovery codes and the admin
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/admin/").status_code == 200
    # the session opened before the enrolment never used it: signed out
    assert older.get("/admin/").status_code == 302
    assert "_auth_user_id" not in older.session


def test_donor_is_not_affected_by_staff_mfa_rule(client):
    donor = UserFactory(username="donor")
    client.force_login(donor)
    response = client.get("/admin/")
    # not staff: Wagtail refuses entry (back to login), never MFA enrolment
    assert reverse("mfa_activate_totp") not in response.get("Location", "")


def test_demo_waiver_is_ignored_unless_demo_mode(client):
    user = staff_user(Role.EDITOR, mfa=False)
    DemoMFAWaiver.objects.create(user=user)
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    with override_settings(KYOSEI_DEMO_MFA_WAIVER=True):
        assert client.get("/admin/").status_code == 200


@override_settings(KYOSEI_DEMO_MFA_WAIVER=True)
def test_demo_waiver_skips_enrolment_not_an_enrolled_factor(client):
    user = staff_user(Role.EDITOR)  # has TOTP
    DemoMFAWaiver.objects.create(user=user)
    client.force_login(user, mfa=False)
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_donor_with_totp_is_not_signed_out(client):
    donor = UserFactory(username="donor-with-totp")
    give_totp(donor)
    client.force_login(donor, mfa=False)
    client.get("/en/")
    assert "_auth_user_id" in client.session


def test_admin_pages_show_no_gravatar(client):
    client.force_login(staff_user(Role.ADMIN))
    for url in (
        "/admin/",
        reverse("wagtailadmin_account"),
        reverse("wagtailusers_users:index"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "gravatar" not in response.content.decode().lower(), url


def test_password_login_then_totp_code_reaches_admin(client):
    user = staff_user(Role.FINANCE, mfa=False)
    secret = give_totp(user)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # the password alone does not open the admin
    assert client.get("/admin/").status_code == 302
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_password_is_refused(client):
    user = staff_user(Role.FINANCE)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip,3/5m/key"})
def test_failed_logins_are_rate_limited(client):
    user = staff_user(Role.FINANCE)
    for _ in range(3):
        client.post(reverse("account_login"), {"login": user.email, "password": "no"})
    # even the right password is refused once the limit is reached
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip,3/5m/key"})
def test_wrong_authenticator_codes_are_rate_limited(client):
    user = staff_user(Role.FINANCE, mfa=False)
    secret = give_totp(user)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    for _ in range(3):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code in (200, 429)
    assert client.get("/admin/").status_code == 302


def test_login_code_dies_after_three_wrong_tries(
    client, django_capture_on_commit_callbacks
):
    user = staff_user(Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_request_login_code"), {"email": user.email}
        )
    confirm = response["Location"]
    (message,) = mail.outbox
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.M).group(1)
    for _ in range(3):
        client.post(confirm, {"code": "AAAA-AAAA"})
    response = client.post(confirm, {"code": code})
    assert response.get("Location") != reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302


def test_password_reset_email_is_sent(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = staff_user(Role.FINANCE)
    # sign-in mail is sent by a Celery task after commit (kyosei.mail)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert user.email in mailoutbox[0].to


class TestBoardCannotChangeAnything:
    @pytest.fixture
    def board(self, client, demo_core):
        user = staff_user(Role.BOARD)
        client.force_login(user)
        return user

    def test_board_reaches_dashboard(self, client, board):
        assert client.get("/admin/").status_code == 200

    def test_board_cannot_edit_organisation_profile(self, client, board):
        from wagtail.models import Site

        site = Site.objects.get(is_default_site=True)
        url = reverse(
            "wagtailsettings:edit", args=["kyosei", "organisationprofile", site.pk]
        )
        assert client.get(url).status_code in (302, 403)
        response = client.post(url, {"legal_name_ja": "乗っ取り"})
        assert response.status_code in (302, 403)
        from kyosei.models import organisation_profile

        assert organisation_profile().legal_name_ja != "乗っ取り"

    def test_board_cannot_add_or_edit_pages(self, client, board):
        from kyosei.models import HomePage

        home = HomePage.objects.get(locale__language_code="ja")
        assert client.get(
            reverse("wagtailadmin_pages:edit", args=[home.pk])
        ).status_code in (302, 403)
        assert client.get(
            reverse("wagtailadmin_pages:add_subpage", args=[home.pk])
        ).status_code in (302, 403)

    def test_board_cannot_manage_users(self, client, board):
        assert client.get(reverse("wagtailusers_users:index")).status_code in (302, 403)
        assert client.get(reverse("wagtailusers_users:add")).status_code in (302, 403)


def test_admin_can_edit_organisation_profile(client, demo_core):
    from wagtail.models import Site

    client.force_login(staff_user(Role.ADMIN))
    site = Site.objects.get(is_default_site=True)
    url = reverse(
        "wagtailsettings:edit", args=["kyosei", "organisationprofile", site.pk]
    )
    assert client.get(url).status_code == 200
