"""Portal sign-up answers the same for every email (issue 11, item 4).

A donor's email, an unknown one and one that already has an account get the same
response (status, redirect, page, template) and cost the same work (one password
hash); only the email that goes out differs, and only a donor's email becomes an
account, linked to the donor once verified.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.urls import reverse
from django.utils import translation

from donors.models import Donor
from tests.conftest import Client
from tests.factories.donors import DonorFactory
from tests.factories.users import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

DONOR_EMAIL = "giver@example.jp"
UNKNOWN_EMAIL = "stranger@example.jp"
ACCOUNT_EMAIL = "member@example.jp"
SIGNUP_PASSWORD = "a-long-new-password-2026"


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting the passwords it hashes."""

    algorithm = "counting_md5"
    hashed: list[str] = []

    def encode(self, password, salt):
        CountingHasher.hashed.append(password)
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed.clear()
    return CountingHasher.hashed


@pytest.fixture
def donor():
    return DonorFactory(email=DONOR_EMAIL, family_name="鈴木")


def row_counts() -> dict[str, int]:
    """Rows per table (sessions aside), after a first page view: rendering any page
    creates the site's organisation profile once."""
    Client().get(reverse("account_signup"))
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


def sign_up(email: str, capture, lang: str = "en"):
    """Sign up in a fresh browser; returns the POST and the page it leads to."""
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    with translation.override(lang):
        url = reverse("account_signup")
    client.get(url)
    form = {"email": email, "password1": SIGNUP_PASSWORD, "password2": SIGNUP_PASSWORD}
    with capture(execute=True):  # the email is sent after commit, by Celery
        posted = client.post(url, form)
    page = client.get(posted["Location"]) if posted.status_code == 302 else None
    return posted, page


def comparable(response, email: str) -> str:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body)
    return body.replace(email, "EMAIL")


def test_donor_and_unknown_email_get_the_same_answer(
    donor, django_capture_on_commit_callbacks, counting_hasher
):
    UserFactory(username="member", email=ACCOUNT_EMAIL)
    counting_hasher.clear()
    answers = {}
    for email in (DONOR_EMAIL, UNKNOWN_EMAIL, ACCOUNT_EMAIL):
        before = len(counting_hasher)
        posted, page = sign_up(email, django_capture_on_commit_callbacks)
        answers[email] = {
            "status": posted.status_code,
            "location": posted.get("Location"),
            "post_body": posted.content,
            "page_status": page.status_code,
            "templates": [t.name for t in page.templates],
            "page": comparable(page, email),
            # the same work: the password is hashed once on every path
            "hashed": counting_hasher[before:],
        }
    donor_answer = answers[DONOR_EMAIL]
    assert donor_answer["status"] == 302
    assert donor_answer["location"] == reverse("account_email_verification_sent")
    assert donor_answer["page_status"] == 200
    assert "account/verification_sent.html" in donor_answer["templates"]
    assert donor_answer["hashed"] == [SIGNUP_PASSWORD]
    assert answers[UNKNOWN_EMAIL] == donor_answer
    assert answers[ACCOUNT_EMAIL] == donor_answer


def test_donor_email_becomes_an_account_linked_after_verification(
    client, donor, django_capture_on_commit_callbacks
):
    posted, _page = sign_up("Giver@example.jp", django_capture_on_commit_callbacks)
    assert posted.status_code == 302
    user = get_user_model().objects.get(email=DONOR_EMAIL)
    assert not EmailAddress.objects.get(user=user).verified
    assert Donor.objects.get(pk=donor.pk).user is None  # not before verification
    (message,) = mail.outbox
    assert message.to == [DONOR_EMAIL]
    link = re.search(r"https?://testserver(/\S+/confirm-email/\S+/)", message.body)
    client.post(link.group(1))
    assert EmailAddress.objects.get(user=user).verified
    client.post(
        reverse("account_login"), {"login": DONOR_EMAIL, "password": SIGNUP_PASSWORD}
    )
    assert client.get(reverse("donor_portal:home")).status_code == 200
    assert Donor.objects.get(pk=donor.pk).user == user


def test_unknown_email_creates_nothing_and_is_told_why(
    donor, django_capture_on_commit_callbacks
):
    before = row_counts()
    posted, _page = sign_up(UNKNOWN_EMAIL, django_capture_on_commit_callbacks)
    assert posted.status_code == 302
    assert row_counts() == before
    (message,) = mail.outbox
    assert message.to == [UNKNOWN_EMAIL]
    assert "No account was created" in message.body
    assert "the address you gave us when you donated" in message.body
    assert "/accounts/signup/" in message.body
    assert "confirm-email" not in message.body


def test_email_with_an_account_gets_allauths_already_exists_mail(
    donor, django_capture_on_commit_callbacks
):
    # a donor who already has a portal account signs up again
    user = UserFactory(username="giver", email=DONOR_EMAIL)
    Donor.objects.filter(pk=donor.pk).update(user=user)
    before = row_counts()
    posted, _page = sign_up(DONOR_EMAIL, django_capture_on_commit_callbacks)
    assert posted.status_code == 302
    assert row_counts() == before
    (message,) = mail.outbox
    assert message.to == [DONOR_EMAIL]
    assert "an account using that email address already exists" in message.body
    assert "/accounts/password/reset/" in message.body


def test_the_answer_mail_speaks_the_visitors_language(
    donor, django_capture_on_commit_callbacks
):
    sign_up(UNKNOWN_EMAIL, django_capture_on_commit_callbacks, lang="en")
    posted, _page = sign_up(
        "other@example.jp", django_capture_on_commit_callbacks, lang="vi"
    )
    assert posted["Location"] == "/vi/accounts/confirm-email/"
    assert "/vi/accounts/signup/" in mail.outbox[1].body


def test_a_malformed_email_is_refused_the_same_way_for_all(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not get_user_model().objects.exists()
