"""Donor staff screens: the permission matrix per role, and the wiring of each
screen to its selector or service."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from donors.models import Consent, Donor, Gift
from grants.models import LedgerEntry
from kyosei.roles import Role
from tests.factories.donors import (
    DonorFactory,
    FundFactory,
    HouseholdFactory,
    general_fund,
    make_gift,
)
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

ALLOWED = (200,)


def denied(response) -> bool:
    """403, or Wagtail's redirect away from a page the user may not open."""
    if response.status_code == 403:
        return True
    # Wagtail turns PermissionDenied into a redirect to the dashboard + message.
    return response.status_code == 302 and response["Location"] == reverse(
        "wagtailadmin_home"
    )


@pytest.fixture
def objects():
    household = HouseholdFactory(name="山田家")
    donor = DonorFactory(
        family_name="山田", given_name="花子", household=household, tags=["monthly"]
    )
    gift = make_gift(donor=donor, amount=5000)
    return {"donor": donor, "household": household, "gift": gift}


def _urls(o):
    d, h, g = o["donor"].pk, o["household"].pk, o["gift"].pk
    return {
        "donor_list": reverse("donors:index"),
        "donor_results": reverse("donors:index_results"),
        "donor_add": reverse("donors:add"),
        "donor_edit": reverse("donors:edit", args=[d]),
        "donor_detail": reverse("donors:detail", args=[d]),
        "donor_history": reverse("donors:history", args=[d]),
        "postal_lookup": reverse("donors:postal_lookup") + "?code=1600022",
        "donor_chooser": reverse("donor_chooser:choose"),
        "household_list": reverse("households:index"),
        "household_add": reverse("households:add"),
        "household_edit": reverse("households:edit", args=[h]),
        "gift_list": reverse("gifts:index"),
        "gift_add": reverse("gifts:add") + f"?donor={d}",
        "gift_detail": reverse("gifts:detail", args=[g]),
        "totals": reverse("giving_totals:index"),
    }


EVERYTHING = {
    "donor_list",
    "donor_results",
    "donor_add",
    "donor_edit",
    "donor_detail",
    "donor_history",
    "postal_lookup",
    "donor_chooser",
    "household_list",
    "household_add",
    "household_edit",
    "gift_list",
    "gift_add",
    "gift_detail",
    "totals",
}

# What each role may open (everything else is denied), per ROLE_PERMISSIONS.
MATRIX = {
    Role.ADMIN: EVERYTHING,
    Role.FUNDRAISER: EVERYTHING,
    # Finance changes donors but does not create them or households.
    Role.FINANCE: EVERYTHING - {"donor_add", "household_add", "household_edit"},
    Role.BOARD: {"totals"},
    Role.CASEWORKER: set(),
    Role.EDITOR: set(),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(client, objects, role):
    client.force_login(staff_user(role))
    allowed = MATRIX[role]
    for name, url in _urls(objects).items():
        response = client.get(url)
        if name in allowed:
            assert response.status_code in ALLOWED, (role, name, response.status_code)
        else:
            assert denied(response), (role, name, response.status_code)


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.FUNDRAISER, True),
        (Role.FINANCE, True),
        (Role.BOARD, False),
        (Role.CASEWORKER, False),
    ],
)
def test_donor_menu_only_for_roles_that_see_donors(client, role, shown):
    client.force_login(staff_user(role))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert (reverse("donors:index") in html) is shown
    # Board sees the giving totals; the caseworker sees nothing of donors.
    assert (reverse("giving_totals:index") in html) is (role != Role.CASEWORKER)


def test_anonymous_is_sent_to_login(client, objects):
    response = client.get(reverse("donors:detail", args=[objects["donor"].pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_donor_list_filters(client, objects):
    client.force_login(staff_user(Role.FUNDRAISER))
    other = DonorFactory(
        family_name="佐藤", given_name="一郎", donor_type="corporation"
    )
    Consent.objects.create(
        donor=other, channel="email", granted=True, recorded_on=dt.date(2024, 1, 1)
    )
    Consent.objects.create(
        donor=other, channel="post", granted=True, recorded_on=dt.date(2024, 1, 1)
    )
    Consent.objects.create(
        donor=other, channel="post", granted=False, recorded_on=dt.date(2025, 1, 1)
    )
    url = reverse("donors:index_results")

    def names(**params):
        html = client.get(url, params).content.decode()
        return {n for n in ("山田 花子", "佐藤 一郎") if n in html}

    assert names() == {"山田 花子", "佐藤 一郎"}
    assert names(tag=_tag_id("monthly")) == {"山田 花子"}
    assert names(donor_type="corporation") == {"佐藤 一郎"}
    assert names(has_household="true") == {"山田 花子"}
    assert names(has_household="false") == {"佐藤 一郎"}
    assert names(consent="email") == {"佐藤 一郎"}
    # the latest answer counts: post consent was withdrawn
    assert names(consent="post") == set()
    assert names(lifetime_yen_min="1000") == {"山田 花子"}
    assert names(lifetime_yen_max="1000") == {"佐藤 一郎"}
    today = timezone.localdate().isoformat()
    assert names(last_gift_on_from=today) == {"山田 花子"}


def _tag_id(name):
    from taggit.models import Tag

    return Tag.objects.get(name=name).pk


def test_donor_list_shows_lifetime_giving_net_of_refunds(client, objects):
    from donors.services.gifts import gift_refund

    gift_refund(gift=objects["gift"], amount_yen=1000, reason="test")
    client.force_login(staff_user(Role.FINANCE))
    html = client.get(reverse("donors:index")).content.decode()
    assert "¥4,000" in html


def test_create_donor_through_service_with_consents(client):
    user = staff_user(Role.FUNDRAISER)
    client.force_login(user)
    response = client.post(
        reverse("donors:add"),
        {
            "kind": "individual",
            "donor_type": "individual",
            "family_name": "鈴木",
            "given_name": "太郎",
            "family_name_kana": "すずき",  # hiragana: normalised to katakana
            "given_name_kana": "ﾀﾛｳ",  # half-width
            "email": "Taro@Example.JP",
            "phone": "０９０−１２３４−５６７８",
            "country": "JP",
            "postal_code": "1600022",
            "preferred_language": "ja",
            "source": "event",
            "tags": "bazaar, monthly",
            "consent_email": "on",
            "consent_source": "Paper form at the bazaar",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    donor = Donor.objects.get(family_name="鈴木")
    assert response["Location"] == reverse("donors:detail", args=[donor.pk])
    assert donor.family_name_kana == "スズキ"
    assert donor.given_name_kana == "タロウ"
    assert donor.email == "taro@example.jp"
    assert donor.postal_code == "160-0022"
    assert donor.prefecture == "東京都"  # filled from the postal code
    assert sorted(donor.tags.names()) == ["bazaar", "monthly"]
    consent = donor.consents.get()
    assert (consent.channel, consent.granted) == ("email", True)
    assert consent.source == "Paper form at the bazaar"
    from kyosei.audit import audit_entries

    actions = set(audit_entries(donor).values_list("action", flat=True))
    assert {"donors.donor.created", "donors.consent.recorded"} <= actions


def test_service_error_is_shown_as_form_error(client):
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.post(
        reverse("donors:add"),
        {
            "kind": "individual",
            "donor_type": "individual",
            "country": "JP",
            "preferred_language": "ja",
            "source": "other",
        },
    )
    assert response.status_code == 200
    assert "A donor needs a name" in response.content.decode()
    assert not Donor.objects.exists()


def test_edit_donor_records_changed_consent(client, objects):
    donor = objects["donor"]
    Consent.objects.create(
        donor=donor, channel="post", granted=True, recorded_on=dt.date(2024, 1, 1)
    )
    client.force_login(staff_user(Role.FINANCE))
    url = reverse("donors:edit", args=[donor.pk])
    form = client.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "tags"
    }
    data.update(
        family_name="山田",
        given_name="春子",
        household=donor.household_id,
        tags="monthly",
        consent_post="",  # withdrawn
        consent_source="Phone call",
    )
    data.pop("consent_post")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    donor.refresh_from_db()
    assert donor.given_name == "春子"
    latest = donor.consents.filter(channel="post").order_by("-id").first()
    assert latest.granted is False and latest.source == "Phone call"


def test_donor_detail_shows_household_consents_timeline(client, objects):
    from donors.services.gifts import gift_refund

    donor = objects["donor"]
    sibling = DonorFactory(
        family_name="山田", given_name="次郎", household=donor.household
    )
    gift_refund(gift=objects["gift"], amount_yen=500, reason="Double payment")
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.get(reverse("donors:detail", args=[donor.pk]))
    html = response.content.decode()
    assert "山田家" in html and sibling.display_name() in html
    assert "Double payment" in html
    assert "¥4,500" in html  # lifetime after the refund
    kinds = [item.kind for item in response.context["timeline"]]
    assert {"gift", "refund", "audit"} <= set(kinds)
    assert reverse("donors:edit", args=[donor.pk]) in html


def test_postal_lookup_endpoint(client):
    client.force_login(staff_user(Role.FUNDRAISER))
    url = reverse("donors:postal_lookup")
    data = client.get(url, {"code": "１６０－００２２"}).json()
    assert data["prefecture"] == "東京都" and data["city"] == "新宿区"
    assert client.get(url, {"code": "123"}).status_code == 404


def test_donor_form_ships_postal_autofill_js(client):
    client.force_login(staff_user(Role.FUNDRAISER))
    html = client.get(reverse("donors:add")).content.decode()
    assert "donors/js/postal_autofill.js" in html
    assert 'data-postal-autofill="/admin/donors/postal-code/"' in html


def test_gift_entry_records_gift_and_ledger_entry(client, objects):
    donor = objects["donor"]
    user = staff_user(Role.FUNDRAISER)
    client.force_login(user)
    fund = FundFactory()
    response = client.post(
        reverse("gifts:add") + f"?donor={donor.pk}",
        {
            "donor": donor.pk,
            "kind": "donation",
            "method": "cash",
            "received_on": timezone.localdate().isoformat(),
            "currency": "JPY",
            "amount": "12000",
            "fee_yen": "0",
            "fund": fund.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    gift = Gift.objects.get(fund=fund)
    assert (gift.amount, gift.currency, gift.amount_yen) == (12000, "JPY", 12000)
    assert gift.received_by == user and gift.method == "cash"
    entry = LedgerEntry.objects.get(pk=gift.ledger_entry_id)
    assert (entry.fund, entry.amount_yen) == (fund, 12000)


def test_gift_entry_foreign_currency_needs_settled_yen(client, objects):
    client.force_login(staff_user(Role.FINANCE))
    data = {
        "donor": objects["donor"].pk,
        "kind": "donation",
        "method": "bank_transfer",
        "received_on": timezone.localdate().isoformat(),
        "currency": "USD",
        "amount": "25.50",
        "fund": general_fund().pk,
    }
    response = client.post(reverse("gifts:add"), data)
    assert response.status_code == 200
    assert "Enter the yen that reached our account" in response.content.decode()
    response = client.post(reverse("gifts:add"), {**data, "amount_yen": "3800"})
    assert response.status_code == 302
    gift = Gift.objects.get(currency="USD")
    assert (gift.amount, gift.amount_yen) == (2550, 3800)


def test_gift_entry_in_kind_without_donor(client):
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.post(
        reverse("gifts:add"),
        {
            "kind": "in_kind",
            "method": "in_kind",
            "received_on": timezone.localdate().isoformat(),
            "currency": "JPY",
            "amount": "30000",
            "fund": general_fund().pk,
            "in_kind_description": "20 kg rice",
        },
    )
    assert response.status_code == 302
    gift = Gift.objects.get(kind="in_kind")
    assert gift.donor is None and gift.in_kind_description == "20 kg rice"


def test_gift_entry_service_refusal_is_a_form_error(client):
    fund = FundFactory(closed_on=dt.date(2024, 1, 1))
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.post(
        reverse("gifts:add"),
        {
            "kind": "donation",
            "method": "cash",
            "received_on": timezone.localdate().isoformat(),
            "currency": "JPY",
            "amount": "0",
            "fund": general_fund().pk,
        },
    )
    assert response.status_code == 200
    assert "more than zero" in response.content.decode()
    assert not Gift.objects.exists()
    # a closed fund is not even offered
    form = client.get(reverse("gifts:add")).context["form"]
    assert fund not in form.fields["fund"].queryset


def test_refund_partial_then_full(client, objects):
    gift = objects["gift"]
    user = staff_user(Role.FINANCE)
    client.force_login(user)
    url = reverse("gifts:refund", args=[gift.pk])
    response = client.post(url, {"amount_yen": "2000", "reason": "Asked back"})
    assert response.status_code == 302
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_yen) == ("partially_refunded", 2000)
    response = client.post(url, {"reason": "Rest of it"})
    assert response.status_code == 302
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_yen) == ("refunded", 5000)
    entries = LedgerEntry.objects.filter(reverses=gift.ledger_entry_id)
    assert sorted(entries.values_list("amount_yen", flat=True)) == [-3000, -2000]
    assert entries.first().posted_by == user


def test_refund_needs_reason_and_refuses_too_much(client, objects):
    gift = objects["gift"]
    client.force_login(staff_user(Role.FINANCE))
    url = reverse("gifts:refund", args=[gift.pk])
    response = client.post(url, {"amount_yen": "100"})
    assert response.status_code == 200
    response = client.post(url, {"amount_yen": "9999", "reason": "x"})
    assert response.status_code == 200
    assert "only ¥5,000" in response.content.decode()
    gift.refresh_from_db()
    assert gift.refunded_yen == 0


@pytest.mark.parametrize("role", [Role.FUNDRAISER, Role.BOARD, Role.CASEWORKER])
def test_refund_requires_refund_permission(client, objects, role):
    client.force_login(staff_user(role))
    gift = objects["gift"]
    response = client.post(
        reverse("gifts:refund", args=[gift.pk]), {"reason": "no right"}
    )
    assert denied(response)
    gift.refresh_from_db()
    assert gift.refunded_yen == 0


def test_gift_list_filters(client, objects):
    fund = FundFactory(name="シェルター基金")
    make_gift(donor=objects["donor"], amount=777, fund=fund, method="cash")
    client.force_login(staff_user(Role.FINANCE))
    url = reverse("gifts:index_results")
    html = client.get(url, {"method": "cash"}).content.decode()
    assert "¥777" in html and "¥5,000" not in html
    html = client.get(url, {"fund": fund.pk}).content.decode()
    assert "¥777" in html and "¥5,000" not in html


def test_board_totals_show_no_personal_details(client, objects):
    donor = objects["donor"]
    for _ in range(4):  # five gifts: totals of fewer are withheld
        make_gift(donor=donor, amount=3000, kind="supporting_fee")
    client.force_login(staff_user(Role.BOARD))
    response = client.get(reverse("giving_totals:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥17,000" in html  # 5,000 + 4 × 3,000
    assert response.context["totals"].donor_count == 1
    for personal in (
        donor.family_name,
        donor.given_name,
        donor.family_name_kana,
        donor.email,
        reverse("donors:detail", args=[donor.pk]),
    ):
        assert personal not in html


def test_donor_chooser_searches_and_is_permission_checked(client, objects):
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.get(reverse("donor_chooser:choose_results"), {"q": "ﾔﾏﾀﾞ"})
    assert "山田 花子" in response.content.decode()
    client.force_login(staff_user(Role.CASEWORKER))
    assert denied(client.get(reverse("donor_chooser:choose_results"), {"q": "山田"}))
