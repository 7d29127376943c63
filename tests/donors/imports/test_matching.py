"""Payer names to donors: kana folding, corporate marks, member numbers,
Vietnamese names in Latin letters, aliases, ambiguity."""

import pytest

from donors import normalise
from donors.imports.matching import PayerMatcher
from donors.imports.models import PayerAlias
from donors.models import Donor
from tests.factories.donors import DonorFactory
from tests.factories.transfers import transfer_donors


@pytest.mark.parametrize(
    ("payer", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマタタロウ"),
        ("ヤマダ　タロウ", "ヤマタタロウ"),
        ("01234 ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマタタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ 0012", "ヤマタタロウ"),
        ("ｶ)ｻｸﾗｼｮｳｼﾞ", "サクラシヨウシ"),
        ("ｻｸﾗｼｮｳｼﾞ(ｶ", "サクラシヨウシ"),
        ("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ", "クエンウアンアン"),
    ],
)
def test_payer_kana_key(payer, expected):
    assert normalise.payer_kana_key(payer) == expected


def test_organisation_key_drops_spelt_out_legal_form():
    assert normalise.organisation_kana_key("カブシキガイシャ サクラショウジ") == (
        normalise.payer_kana_key("ｶ)ｻｸﾗｼｮｳｼﾞ")
    )


def test_vietnamese_latin_name_meets_bank_kana():
    assert normalise.latin_to_katakana("Nguyễn Văn An")[0] == "グエン ヴァン アン"
    assert normalise.payer_kana_key("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ") in normalise.latin_kana_keys(
        "Nguyễn Văn An"
    )
    # Given name first (as some donors write it) still meets the bank's order.
    assert normalise.payer_kana_key("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ") in normalise.latin_kana_keys(
        "An Nguyen Van"
    )


def test_unreadable_latin_word_gives_no_guess():
    assert normalise.latin_to_katakana("Xyz") == []


@pytest.mark.django_db
def test_matcher_outcomes():
    donors = transfer_donors()
    matcher = PayerMatcher()
    assert matcher.match("ﾔﾏﾀﾞ ﾀﾛｳ").donor_id == donors["yamada"].pk
    assert matcher.match("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ").donor_id == donors["nguyen"].pk
    assert matcher.match("NGUYEN VAN AN").donor_id == donors["nguyen"].pk
    assert matcher.match("ｶ)ｻｸﾗｼｮｳｼﾞ").donor_id == donors["sakura"].pk
    ambiguous = matcher.match("ｽｽﾞｷ ﾊﾅｺ")
    assert ambiguous.outcome == "ambiguous"
    assert ambiguous.candidates == sorted([donors["suzuki1"].pk, donors["suzuki2"].pk])
    assert matcher.match("ﾀﾅｶ ｲﾁﾛｳ").outcome == "new"


@pytest.mark.django_db
def test_alias_wins_and_follows_a_merge():
    donors = transfer_donors()
    PayerAlias.objects.create(
        donor=donors["suzuki1"], payer_key="ススキハナコ", payer_name="ｽｽﾞｷ ﾊﾅｺ"
    )
    survivor = DonorFactory(family_name_kana="ホカ", given_name_kana="ダレカ")
    Donor.objects.filter(pk=donors["suzuki1"].pk).update(merged_into=survivor)
    match = PayerMatcher().match("ｽｽﾞｷ ﾊﾅｺ")
    assert match.outcome == "matched" and match.via == "alias"
    assert match.donor_id == survivor.pk


@pytest.mark.django_db
def test_merged_donors_are_not_candidates():
    donors = transfer_donors()
    Donor.objects.filter(pk=donors["suzuki2"].pk).update(merged_into=donors["suzuki1"])
    assert PayerMatcher().match("ｽｽﾞｷ ﾊﾅｺ").donor_id == donors["suzuki1"].pk
