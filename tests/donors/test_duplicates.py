"""Duplicate finder (blocking keys), dismissals, the review/merge screens and the
``bench_core`` command (smoke run only: speed is measured by the command itself)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from donors import duplicates
from donors.duplicates import duplicate_candidates, duplicates_for_donor
from donors.errors import DonorError
from donors.models import Donor, DonorMerge, DuplicateDismissal, Gift
from donors.services.donors import donor_merge, donor_refresh_keys
from donors.services.duplicates import duplicate_dismiss
from grants.models import LedgerEntry
from kyosei.audit import audit_entries
from kyosei.roles import Role
from tests.factories.donors import DonorFactory, make_gift
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def person(**fields) -> Donor:
    """A donor that shares no key with any other unless the test says so."""
    defaults = {"family_name": "", "given_name": "", "email": ""}
    defaults.update(fields)
    defaults.setdefault("family_name_kana", "")
    defaults.setdefault("given_name_kana", "")
    return DonorFactory(**defaults)


def pairs_by_ids() -> dict[tuple[int, int], duplicates.DuplicatePair]:
    return {(p.low_id, p.high_id): p for p in duplicate_candidates()}


def ids(a: Donor, b: Donor) -> tuple[int, int]:
    return tuple(sorted((a.pk, b.pk)))


# -- each key finds its pair --------------------------------------------------------


def test_email_pairs_across_case_and_full_width():
    a = person(family_name="山田", email="Taro.Yamada@Example.JP")
    b = person(family_name="山田", email="ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ")
    pair = pairs_by_ids()[ids(a, b)]
    assert pair.reasons == ("email_key",)
    assert pair.score == duplicates.KEYS["email_key"][1]


def test_phone_pairs_international_and_domestic_forms():
    a = person(family_name="佐藤", phone="+81 90-1234-5678")
    b = person(family_name="佐藤", phone="０９０（１２３４）５６７８")
    assert pairs_by_ids()[ids(a, b)].reasons == ("phone_key",)


def test_furigana_hiragana_and_half_width_katakana_with_same_postal_code():
    a = person(
        family_name="山田",
        family_name_kana="やまだ",
        given_name_kana="はなこ",
        postal_code="160-0022",
    )
    b = person(
        family_name_kana="ﾔﾏﾀﾞ",
        given_name_kana="ﾊﾅｺ",
        postal_code="１６０００２２",
    )
    assert pairs_by_ids()[ids(a, b)].reasons == ("kana_postal_key",)


def test_latin_name_with_and_without_vietnamese_diacritics_same_country():
    a = person(latin_name="Nguyễn Văn An", country="VN")
    b = person(latin_name="NGUYEN van an", country="VN")
    c = person(latin_name="Nguyen Van An", country="JP")  # another country
    pairs = pairs_by_ids()
    assert pairs[ids(a, b)].reasons == ("latin_country_key",)
    assert ids(a, c) not in pairs and ids(b, c) not in pairs


def test_same_name_different_postal_code_is_not_a_pair():
    person(
        family_name="鈴木",
        family_name_kana="スズキ",
        given_name_kana="イチロウ",
        postal_code="160-0022",
        email="ichiro@example.jp",
    )
    person(
        family_name="鈴木",
        family_name_kana="スズキ",
        given_name_kana="イチロウ",
        postal_code="530-0001",
        email="suzuki.i@example.jp",
    )
    assert duplicate_candidates() == []


def test_pair_matched_on_several_keys_appears_once_with_every_reason_and_ranks_first():
    a = person(
        family_name_kana="タナカ",
        given_name_kana="ミキ",
        postal_code="160-0022",
        email="miki@example.jp",
        phone="03-1234-5678",
    )
    b = person(
        family_name_kana="たなか",
        given_name_kana="みき",
        postal_code="1600022",
        email="MIKI@example.jp",
        phone="0312345678",
    )
    c = person(latin_name="Tran Thi Mai", country="VN")
    d = person(latin_name="Trần Thị Mai", country="VN")
    pairs = duplicate_candidates()
    assert [(p.low_id, p.high_id) for p in pairs] == [ids(a, b), ids(c, d)]
    assert set(pairs[0].reasons) == {"email_key", "phone_key", "kana_postal_key"}
    assert pairs[0].score == 100
    assert duplicate_candidates(limit=1) == pairs[:1]


def test_blocks_of_more_than_three_donors_give_every_pair(monkeypatch):
    trio = [person(family_name="共", phone="03-0000-0001") for _ in range(3)]
    assert len(duplicate_candidates()) == 3
    # A key shared by more people than MAX_BLOCK_SIZE says nothing about identity.
    monkeypatch.setattr(duplicates, "MAX_BLOCK_SIZE", 2)
    assert duplicate_candidates() == []
    assert len(duplicates_for_donor(trio[0])) == 2


# -- merged and dismissed donors -------------------------------------------------------


def test_merged_donors_are_excluded():
    a = person(family_name="山田", email="same@example.jp")
    b = person(family_name="山田", email="same@example.jp")
    donor_merge(survivor=a, merged=b, user=None)
    assert duplicate_candidates() == []
    b.refresh_from_db()
    assert duplicates_for_donor(b) == []
    # A newcomer with the same email pairs with the survivor only.
    c = person(family_name="山田", email="same@example.jp")
    assert list(pairs_by_ids()) == [ids(a, c)]


def test_dismissed_pair_is_excluded_everywhere_and_audited():
    staff = staff_user(Role.FUNDRAISER)
    a = person(family_name="山田", email="family@example.jp")
    b = person(family_name="山田", email="family@example.jp")
    c = person(family_name="山田", email="family@example.jp")
    dismissal = duplicate_dismiss(first=b, second=a, user=staff, reason="夫婦")
    assert (dismissal.donor_low_id, dismissal.donor_high_id) == ids(a, b)
    assert set(pairs_by_ids()) == {ids(a, c), ids(b, c)}
    assert [m.donor for m in duplicates_for_donor(a)] == [c]
    assert [(p.low_id, p.high_id) for p in duplicate_candidates(donor=a)] == [ids(a, c)]
    # Idempotent: the same pair again (either way round) writes nothing.
    assert duplicate_dismiss(first=a, second=b, user=staff) == dismissal
    assert DuplicateDismissal.objects.count() == 1
    assert [e.action for e in audit_entries(dismissal)] == [
        "donors.duplicate.dismissed"
    ]


def test_a_donor_cannot_be_dismissed_against_itself():
    a = person(family_name="山田")
    with pytest.raises(DonorError, match="itself"):
        duplicate_dismiss(first=a, second=a, user=None)
    assert not DuplicateDismissal.objects.exists()


def test_merging_keeps_dismissals_out_of_the_way():
    """Dismissals are not moved by donor_merge (it would break the pair order)."""
    a, b, c = (person(family_name="山田", email="x@example.jp") for _ in range(3))
    duplicate_dismiss(first=b, second=c, user=None)
    donor_merge(survivor=a, merged=c, user=None)
    assert list(pairs_by_ids()) == [ids(a, b)]


# -- one donor, saved or not -----------------------------------------------------------


def test_duplicates_for_an_unsaved_donor_with_computed_keys():
    existing = person(family_name="グエン", latin_name="Nguyễn Thị Hoa", country="VN")
    person(family_name="別人", email="other@example.jp")
    candidate = Donor(latin_name="Nguyen Thi Hoa", country="VN")
    donor_refresh_keys(candidate)
    matches = duplicates_for_donor(candidate)
    assert [m.donor for m in matches] == [existing]
    assert matches[0].reasons == ("latin_country_key",)
    nobody = Donor(family_name="誰")
    donor_refresh_keys(nobody)
    assert duplicates_for_donor(nobody) == []


# -- staff screens ---------------------------------------------------------------------

SCREEN_ROLES = [
    (Role.ADMIN, True),
    (Role.FUNDRAISER, True),
    (Role.FINANCE, False),
    (Role.BOARD, False),
    (Role.CASEWORKER, False),
    (Role.EDITOR, False),
]


@pytest.fixture
def pair():
    left = person(family_name="山田", given_name="花子", email="hanako@example.jp")
    right = person(family_name="山田", given_name="花", email="HANAKO@example.jp")
    return left, right


@pytest.mark.parametrize(("role", "allowed"), SCREEN_ROLES)
def test_screen_permission_matrix(client, pair, role, allowed):
    left, right = pair
    make_gift(donor=right, amount=3000)
    client.force_login(staff_user(role))
    urls = [
        reverse("donors_duplicates:list"),
        reverse("donors_duplicates:history"),
        reverse("donors_duplicates:merge", args=[left.pk, right.pk]),
    ]
    for url in urls:
        response = client.get(url)
        if allowed:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, url
            assert response["Location"] == reverse("wagtailadmin_home")
    if not allowed:
        merge_url = reverse("donors_duplicates:merge", args=[left.pk, right.pk])
        dismiss_url = reverse("donors_duplicates:dismiss", args=[left.pk, right.pk])
        assert client.post(merge_url).status_code == 302
        assert client.post(dismiss_url).status_code == 302
        assert not DonorMerge.objects.exists()
        assert not DuplicateDismissal.objects.exists()
        assert Gift.objects.get().donor == right


def test_menu_item_only_for_those_who_may_merge(client):
    client.force_login(staff_user(Role.FUNDRAISER))
    assert reverse("donors_duplicates:list") in client.get("/admin/").content.decode()
    client.force_login(staff_user(Role.BOARD))
    assert (
        reverse("donors_duplicates:list") not in client.get("/admin/").content.decode()
    )


def test_list_shows_pairs_side_by_side_with_giving(client, pair):
    left, right = pair
    make_gift(donor=right, amount=12345)
    client.force_login(staff_user(Role.FUNDRAISER))
    page = client.get(reverse("donors_duplicates:list")).content.decode()
    assert "山田 花子" in page and "山田 花" in page
    assert "¥12,345" in page
    assert reverse("donors_duplicates:merge", args=[left.pk, right.pk]) in page
    assert reverse("donors_duplicates:merge", args=[right.pk, left.pk]) in page
    filtered = client.get(reverse("donors_duplicates:list"), {"reason": "phone_key"})
    assert "山田 花子" not in filtered.content.decode()


def test_merge_via_screen_moves_gifts_and_shows_in_history(client, pair):
    left, right = pair
    gift = make_gift(donor=right, amount=5000)
    staff = staff_user(Role.FUNDRAISER)
    client.force_login(staff)
    url = reverse("donors_duplicates:merge", args=[left.pk, right.pk])
    confirm = client.get(url).content.decode()
    assert "¥5,000" in confirm
    assert "gifts: 1" in confirm
    assert not DonorMerge.objects.exists()  # GET changes nothing

    response = client.post(url)
    assert response.status_code == 302
    gift.refresh_from_db()
    right.refresh_from_db()
    assert gift.donor == left
    assert right.merged_into == left
    record = DonorMerge.objects.get()
    assert (record.survivor, record.merged, record.merged_by) == (left, right, staff)
    assert record.moved["donors.Gift"] == 1
    assert duplicate_candidates() == []

    history = client.get(reverse("donors_duplicates:history")).content.decode()
    assert f"#{right.pk} 山田 花" in history
    assert "gifts: 1" in history
    # Merging again is refused with a message, nothing written.
    again = client.post(url, follow=True)
    assert "already been merged" in again.content.decode()
    assert DonorMerge.objects.count() == 1


def test_merge_into_right_keeps_the_right_donor(client, pair):
    left, right = pair
    gift = make_gift(donor=left)
    client.force_login(staff_user(Role.ADMIN))
    client.post(reverse("donors_duplicates:merge", args=[right.pk, left.pk]))
    gift.refresh_from_db()
    assert gift.donor == right
    assert Donor.objects.get(pk=left.pk).merged_into == right


def test_dismiss_via_screen(client, pair):
    left, right = pair
    client.force_login(staff_user(Role.FUNDRAISER))
    response = client.post(
        reverse("donors_duplicates:dismiss", args=[right.pk, left.pk]),
        {"reason": "双子", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("donors_duplicates:list")
    dismissal = DuplicateDismissal.objects.get()
    assert dismissal.reason == "双子"
    page = client.get(reverse("donors_duplicates:list")).content.decode()
    assert "山田 花子" not in page
    assert (
        client.get(
            reverse("donors_duplicates:dismiss", args=[right.pk, left.pk])
        ).status_code
        == 405
    )


# -- bench_core (smoke: it runs and reports; no timing asserted) ---------------------


def test_bench_core_smoke_on_an_empty_database():
    out = io.StringIO()
    call_command("bench_core", donors=200, gifts=1000, runs=1, stdout=out)
    report = out.getvalue()
    assert Donor.objects.count() == 200
    assert LedgerEntry.objects.count() == 1000
    assert "duplicate candidates" in report and "fund balances" in report
    pairs = len(duplicate_candidates())
    assert pairs >= 1  # the deliberate duplicates are found
    assert f"pairs found: {pairs}" in report


def test_bench_core_refuses_a_database_with_donors():
    person(family_name="既存")
    with pytest.raises(CommandError, match="scratch"):
        call_command("bench_core", donors=10, gifts=10, stdout=io.StringIO())
