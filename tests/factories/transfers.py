"""Donors the transfer fixtures (tests/fixtures/transfers/) are written against."""

from __future__ import annotations

from pathlib import Path

from donors.models import Donor
from tests.factories.donors import DonorFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transfers"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def transfer_donors() -> dict[str, Donor]:
    """山田太郎 (ﾔﾏﾀﾞ ﾀﾛｳ), Nguyễn Văn An (Latin name only), サクラ商事 (カブシキ
    ガイシャ サクラショウジ) and two スズキ ハナコ (so that payer is ambiguous)."""
    return {
        "yamada": DonorFactory(
            family_name="山田",
            given_name="太郎",
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
        ),
        "nguyen": DonorFactory(
            family_name="",
            given_name="",
            family_name_kana="",
            given_name_kana="",
            latin_name="Nguyễn Văn An",
            country="JP",
        ),
        "sakura": DonorFactory(
            kind=Donor.Kind.ORGANISATION,
            donor_type=Donor.DonorType.CORPORATION,
            family_name="",
            given_name="",
            family_name_kana="",
            given_name_kana="",
            organisation_name="株式会社サクラ商事",
            organisation_name_kana="カブシキガイシャ サクラショウジ",
        ),
        "suzuki1": DonorFactory(
            family_name="鈴木",
            given_name="花子",
            family_name_kana="スズキ",
            given_name_kana="ハナコ",
        ),
        "suzuki2": DonorFactory(
            family_name="鈴木",
            given_name="華子",
            family_name_kana="すずき",
            given_name_kana="はなこ",
        ),
    }
