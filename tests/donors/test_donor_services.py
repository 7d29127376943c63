"""donor_create / donor_update / donor_merge and input normalisation."""

import datetime as dt

import pytest
from django.utils import translation

from donors import normalise
from donors.errors import DonorError
from donors.models import Consent, Donor, DonorMerge, Gift, Household, RecurringGift
from donors.services.donors import (
    donor_create,
    donor_create_many,
    donor_merge,
    donor_update,
)
from donors.services.gifts import gift_record
from grants.models import Fund
from kyosei.audit import audit_entries
from kyosei.money import Money

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    # the assertions read the (English) source text of the error messages
    with translation.override("en"):
        yield


def test_input_is_normalised():
    donor = donor_create(
        user=None,
        family_name="山田",
        given_name="太郎",
        family_name_kana="やまだ",
        given_name_kana="ﾀﾛｳ",
        email=" Taro.YAMADA＠Example.JP ",
        phone="０９０－１２３４－５６７８",
        postal_code="〒１６０００２２",
        address_line1="新宿９－９－９",
    )
    assert donor.family_name_kana == "ヤマダ" and donor.given_name_kana == "タロウ"
    assert donor.email == "taro.yamada@example.jp"
    assert donor.phone == "090-1234-5678" and donor.phone_key == "09012345678"
    assert donor.postal_code == "160-0022"
    # postal code fills prefecture and city from offline data
    assert (donor.prefecture, donor.city) == ("東京都", "新宿区")
    # voiced marks are dropped in keys: banks print ﾔﾏﾀﾞ, some systems ﾔﾏﾀ
    assert donor.kana_postal_key == "ヤマタタロウ|1600022"


def test_vietnamese_latin_name_keeps_diacritics_and_has_a_plain_key():
    donor = donor_create(
        user=None, latin_name="Nguyễn Văn An", country="vn", preferred_language="vi"
    )
    assert donor.latin_name == "Nguyễn Văn An"
    assert donor.country == "VN"
    assert donor.latin_country_key == "an nguyen van|VN"
    assert donor.display_name("vi") == "Nguyễn Văn An"


def test_display_name_rules():
    donor = donor_create(
        user=None, family_name="グエン", given_name="アン", latin_name="Nguyen An"
    )
    assert donor.display_name("ja") == "グエン アン"
    assert donor.display_name("en") == "Nguyen An"
    org = donor_create(
        user=None,
        kind=Donor.Kind.ORGANISATION,
        donor_type=Donor.DonorType.CORPORATION,
        organisation_name="株式会社さくら商事",
    )
    assert str(org) == "株式会社さくら商事"


def test_donor_without_a_name_is_refused():
    with pytest.raises(DonorError, match="needs a name"):
        donor_create(user=None, email="x@example.com")
    assert not Donor.objects.exists()


def test_bad_japanese_postal_code_is_refused():
    with pytest.raises(DonorError, match="postal code"):
        donor_create(user=None, family_name="田中", postal_code="12345")


def test_update_is_audited_with_changes():
    donor = donor_create(user=None, family_name="田中")
    donor_update(donor=donor, user=None, given_name="花子")
    entry = audit_entries(donor).filter(action="donors.donor.updated").get()
    assert entry.data["changed"]["given_name"] == ["", "花子"]


def test_kana_keys_meet_across_writing_forms():
    keys = {
        normalise.kana_key(s)
        for s in ("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ", "グエン　ヴァン　アン", "ぐえん ゔぁん あん")
    }
    assert len(keys) == 1
    assert normalise.kana_key("ﾔﾏﾀﾞ ﾀﾛｳ") == normalise.kana_key("やまだ たろう")


def test_merge_moves_everything_and_is_reviewable():
    fund = Fund.objects.get(code="general")
    survivor = donor_create(
        user=None, family_name="山田", given_name="太郎", email="t@example.jp"
    )
    merged = donor_create(
        user=None,
        family_name="山田",
        given_name="太郎",
        phone="090-0000-1111",
        consents=[
            dict(
                channel=Consent.Channel.EMAIL,
                granted=True,
                recorded_on=dt.date(2025, 1, 1),
                source="form",
            )
        ],
    )
    household = Household.objects.create(name="山田家")
    Donor.objects.filter(pk=merged.pk).update(household=household)
    merged.refresh_from_db()
    merged.tags.add("newsletter")
    gift = gift_record(
        donor=merged,
        kind=Gift.Kind.DONATION,
        amount=Money.yen(3_000),
        received_on=dt.date(2025, 5, 1),
        method=Gift.Method.CASH,
        fund=fund,
    ).gift
    plan = RecurringGift.objects.create(
        donor=merged,
        interval="month",
        amount=1_000,
        fund=fund,
        started_on=dt.date(2025, 1, 1),
    )

    record = donor_merge(survivor=survivor, merged=merged, user=None)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    gift.refresh_from_db()
    plan.refresh_from_db()
    assert gift.donor == survivor and plan.donor == survivor
    assert survivor.consents.count() == 1
    assert survivor.household == household and merged.household is None
    assert survivor.phone == "090-0000-1111"  # blank filled from the merged donor
    assert survivor.email == "t@example.jp"  # never overwritten
    assert "newsletter" in survivor.tags.names()
    assert merged.merged_into == survivor
    assert record.snapshot["phone"] == "090-0000-1111"
    assert record.moved["donors.Gift"] == 1
    assert DonorMerge.objects.count() == 1
    assert audit_entries(survivor).filter(action="donors.donor.merged").exists()


def test_merge_into_itself_is_refused():
    donor = donor_create(user=None, family_name="田中")
    with pytest.raises(DonorError, match="itself"):
        donor_merge(survivor=donor, merged=donor, user=None)
    assert not DonorMerge.objects.exists()


def test_merged_donor_cannot_be_merged_again_or_given_gifts():
    a = donor_create(user=None, family_name="甲")
    b = donor_create(user=None, family_name="乙")
    c = donor_create(user=None, family_name="丙")
    donor_merge(survivor=a, merged=b, user=None)
    with pytest.raises(DonorError):
        donor_merge(survivor=c, merged=b, user=None)
    from donors.errors import GiftError

    b.refresh_from_db()
    with pytest.raises(GiftError, match="merged"):
        gift_record(
            donor=b,
            kind=Gift.Kind.DONATION,
            amount=Money.yen(1_000),
            received_on=dt.date(2025, 5, 1),
            method=Gift.Method.CASH,
            fund=Fund.objects.get(code="general"),
        )


def test_create_many_normalises_validates_and_audits_each_like_create():
    one, org = donor_create_many(
        user=None,
        donors=[
            {"family_name_kana": "ﾀﾅｶ", "given_name_kana": "いちろう", "notes": "a"},
            {
                "kind": Donor.Kind.ORGANISATION,
                "organisation_name": "ｻｸﾗ商事",
                "source": Donor.Source.TRANSFER,
            },
        ],
    )
    alone = donor_create(user=None, family_name_kana="ﾀﾅｶ", given_name_kana="いちろう")
    assert (one.family_name_kana, one.given_name_kana) == ("タナカ", "イチロウ")
    assert one.kana_key == alone.kana_key and one.search_text == alone.search_text
    assert org.organisation_name == "サクラ商事"
    for donor in (one, org):
        donor.refresh_from_db()
        entry = audit_entries(donor).get()
        assert entry.action == "donors.donor.created"
        assert entry.data == {"source": donor.source}


def test_create_many_refuses_all_when_one_breaks_a_rule():
    before = Donor.objects.count()
    with pytest.raises(DonorError, match="postal code") as excinfo:
        donor_create_many(
            user=None,
            donors=[
                {"family_name": "田中"},
                {"family_name": "山田", "postal_code": "12345"},
            ],
        )
    assert excinfo.value.index == 1
    assert Donor.objects.count() == before
