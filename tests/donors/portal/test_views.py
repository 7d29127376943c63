"""Portal wiring: login required, a donor sees only their own data (404 for another
donor's objects), staff are not donors, ja/en/vi URLs (sign-up: test_signup.py)."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from donors.models import Consent, RecurringGift
from donors.portal.models import DeletionRequest
from kyosei.roles import Role
from tests.donors.portal.conftest import monthly
from tests.factories.donors import DonorFactory, make_gift
from tests.factories.users import PASSWORD, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def url(name, *args, lang="en"):
    with translation.override(lang):
        return reverse(f"donor_portal:{name}", args=args)


@pytest.mark.parametrize(
    "name,args",
    [
        ("home", ()),
        ("gifts", ()),
        ("gift", (1,)),
        ("profile", ()),
        ("preferences", ()),
        ("recurring_list", ()),
        ("recurring", (1,)),
        ("delete", ()),
    ],
)
def test_anonymous_is_sent_to_login(client, name, args):
    response = client.get(url(name, *args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_urls_in_three_languages():
    assert url("home", lang="ja") == "/portal/"
    assert url("home", lang="en") == "/en/portal/"
    assert url("gifts", lang="vi") == "/vi/portal/gifts/"


def test_history_shows_only_own_gifts(client, alice, bob):
    (a, a_user), (b, _b_user) = alice, bob
    make_gift(donor=a, amount=4_321, received_on=dt.date(2025, 5, 1))
    make_gift(donor=b, amount=9_876, received_on=dt.date(2025, 5, 1))
    client.force_login(a_user)
    page = client.get(url("gifts")).content.decode()
    assert "4,321" in page and "9,876" not in page
    home = client.get(url("home", lang="en")).content.decode()
    assert "¥4,321" in home and 'lang="en"' in home


def test_other_donors_objects_are_404(client, alice, bob):
    (a, a_user), (b, _b_user) = alice, bob
    b_gift = make_gift(donor=b, amount=5_000, received_on=dt.date(2025, 5, 1))
    b_monthly = monthly(b)
    a_monthly = monthly(a)
    client.force_login(a_user)
    assert client.get(url("gift", b_gift.pk)).status_code == 404
    assert client.get(url("recurring", b_monthly.pk)).status_code == 404
    response = client.post(url("recurring", b_monthly.pk), {"action": "cancel"})
    assert response.status_code == 404
    b_monthly.refresh_from_db()
    assert b_monthly.status == RecurringGift.Status.ACTIVE
    assert client.get(url("recurring", a_monthly.pk)).status_code == 200


def test_staff_user_is_not_a_donor(client):
    DonorFactory(email="fundraiser-staff@example.com")
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.get(url("home"))
    assert response.status_code == 403
    assert "staff account" in response.content.decode()


def test_user_without_donor_is_told(client):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(url("home", lang="en"))
    assert response.status_code == 403
    assert "No donor record" in response.content.decode()


def test_profile_update_goes_through_donor_update(client, alice):
    donor, user = alice
    client.force_login(user)
    assert client.get(url("profile")).status_code == 200
    data = {
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "やまだ",
        "given_name_kana": "タロウ",
        "latin_name": "",
        "country": "JP",
        "postal_code": "1600022",
        "prefecture": "東京都",
        "city": "新宿区",
        "address_line1": "新宿２−２",
        "address_line2": "",
        "region": "",
        "phone": "",
        "preferred_language": "en",
    }
    response = client.post(url("profile"), data)
    assert response.status_code == 302
    donor.refresh_from_db()
    assert donor.given_name == "太郎"
    assert donor.family_name_kana == "ヤマダ"  # normalised by the service
    assert donor.postal_code == "160-0022"
    assert donor.preferred_language == "en"
    # a broken rule comes back as a form error, nothing saved
    response = client.post(url("profile"), {**data, "postal_code": "123"})
    assert response.status_code == 200
    assert "7-digit" in response.content.decode()


def test_preferences_record_consents_for_changes_only(client, alice):
    donor, user = alice
    client.force_login(user)
    response = client.post(url("preferences"), {"email": "on", "post": "on"})
    assert response.status_code == 302
    assert set(
        Consent.objects.filter(donor=donor).values_list("channel", "granted")
    ) == {
        ("email", True),
        ("post", True),
    }
    client.post(url("preferences"), {"post": "on"})  # withdraw email
    latest = Consent.objects.filter(donor=donor).order_by("-id")
    assert latest.count() == 3
    assert (latest[0].channel, latest[0].granted, latest[0].source) == (
        "email",
        False,
        "donor portal",
    )


def test_manage_monthly_gift(client, alice):
    donor, user = alice
    gift = monthly(donor)
    client.force_login(user)
    page = client.get(url("recurring", gift.pk)).content.decode()
    assert "Payment card" not in page and "カード" not in page  # no Stripe id
    assert (
        client.post(
            url("recurring", gift.pk), {"action": "change", "amount": "5000"}
        ).status_code
        == 302
    )
    gift.refresh_from_db()
    assert gift.amount == 5_000
    response = client.post(
        url("recurring", gift.pk), {"action": "change", "amount": "0.5"}
    )
    assert response.status_code == 200
    client.post(url("recurring", gift.pk), {"action": "pause"})
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.PAUSED
    client.post(url("recurring", gift.pk), {"action": "cancel"})
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.CANCELLED
    response = client.post(url("recurring", gift.pk), {"action": "pause"}, follow=True)
    assert "was cancelled" in response.content.decode()


def test_card_note_only_with_stripe_subscription(client, alice):
    donor, user = alice
    gift = monthly(donor, stripe_subscription_id="sub_123")
    client.force_login(user)
    page = client.get(url("recurring", gift.pk, lang="en")).content.decode()
    assert "Payment card" in page and "once online giving is switched on" in page


def test_delete_request(client, alice):
    donor, user = alice
    client.force_login(user)
    response = client.post(url("delete"), {"reason": "x"})  # not confirmed
    assert response.status_code == 200
    assert not DeletionRequest.objects.exists()
    response = client.post(url("delete"), {"confirm": "on", "reason": "x"})
    assert response.status_code == 302
    request = DeletionRequest.objects.get()
    assert (request.donor, request.requested_by) == (donor, user)
    client.post(url("delete"), {"confirm": "on"})
    assert DeletionRequest.objects.count() == 1


# --- sign-in and sign-up -------------------------------------------------------------


def test_donor_login_goes_to_portal_staff_to_admin(client, alice):
    _donor, user = alice
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert response["Location"] == url("home")


def test_login_by_code_is_offered(client):
    page = client.get(reverse("account_login")).content.decode()
    assert reverse("account_request_login_code") in page


def test_donor_signs_in_with_an_emailed_code(
    client, alice, django_capture_on_commit_callbacks
):
    _donor, user = alice
    with django_capture_on_commit_callbacks(execute=True):  # mail after commit
        response = client.post(
            reverse("account_request_login_code"), {"email": user.email}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.M).group(1)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert response["Location"] == url("home")
    assert client.get(url("home")).status_code == 200
