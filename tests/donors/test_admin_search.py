"""Donor search in the staff list: whatever form staff type a name, email or phone
in, the donor is found (selectors.donor_search over Donor.search_text)."""

import pytest
from django.urls import reverse

from donors.selectors import donor_list, donor_search
from kyosei.roles import Role
from tests.factories.donors import DonorFactory
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def donors():
    yamada = DonorFactory(
        family_name="山田",
        given_name="花子",
        family_name_kana="ヤマダ",
        given_name_kana="ハナコ",
        email="hanako@example.jp",
        phone="03-1234-5678",
    )
    nguyen = DonorFactory(
        family_name="",
        given_name="",
        family_name_kana="グエン",
        given_name_kana="ヴァン アン",
        latin_name="Nguyễn Văn An",
        email="an.nguyen@example.vn",
        phone="+84 90 123 4567",
        country="VN",
    )
    sato = DonorFactory(
        family_name="佐藤",
        given_name="一郎",
        family_name_kana="サトウ",
        given_name_kana="イチロウ",
        email="ichiro@example.jp",
        phone="090-9999-0000",
    )
    return {"yamada": yamada, "nguyen": nguyen, "sato": sato}


def found(query):
    return set(donor_search(donor_list(), query).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("山田", "yamada"),  # kanji
        ("山田 花子", "yamada"),  # kanji, two words
        ("ヤマダ", "yamada"),  # katakana
        ("ﾔﾏﾀﾞ", "yamada"),  # half-width katakana
        ("やまだ はなこ", "yamada"),  # hiragana
        ("ヤマダハナコ", "yamada"),  # kana without the space
        ("nguyen", "nguyen"),  # romaji without diacritics
        ("Nguyễn Văn", "nguyen"),  # with diacritics
        ("NGUYEN AN", "nguyen"),  # upper case
        ("ｸﾞｴﾝ", "nguyen"),  # half-width kana with dakuten
        ("HANAKO@example.jp", "yamada"),  # email, any case
        ("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ", "yamada"),  # full-width email
        ("0312345678", "yamada"),  # phone digits
        ("03-1234-5678", "yamada"),  # phone with hyphens
        ("０３−１２３４−５６７８", "yamada"),  # full-width phone
        ("5678", "yamada"),  # last digits
        ("090 9999 0000", "sato"),
    ],
)
def test_search_finds_donor(donors, query, who):
    assert found(query) == {donors[who].pk}


def test_search_needs_every_word(donors):
    assert found("山田 一郎") == set()


def test_search_by_donor_number(donors):
    assert donors["sato"].pk in found(f"#{donors['sato'].pk}")


def test_search_excludes_merged_donors(donors):
    from donors.services.donors import donor_merge

    dup = DonorFactory(family_name="山田", given_name="花子", email="old@example.jp")
    donor_merge(survivor=donors["yamada"], merged=dup, user=None)
    assert found("山田 花子") == {donors["yamada"].pk}


@pytest.mark.parametrize("query", ["ﾔﾏﾀﾞ", "nguyen", "0312345678", "hanako@"])
def test_search_box_in_donor_list(client, donors, query):
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.get(reverse("donors:index"), {"q": query})
    assert response.status_code == 200
    shown = {d.pk for d in response.context["object_list"]}
    assert shown and shown <= {donors["yamada"].pk, donors["nguyen"].pk}
