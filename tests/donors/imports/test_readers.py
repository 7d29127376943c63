"""Readers: 全銀協 fixed-length files, CSV statements, 和暦 dates, bad input."""

import datetime as dt
import os

import pytest
from django.test import override_settings

from donors.imports.errors import ImportRefused
from donors.imports.models import TransferProfile
from donors.imports.readers import csvfile, wareki, zengin
from donors.imports.readers.common import read_limited
from tests.factories.transfers import fixture

TODAY = dt.date(2026, 11, 23)  # 令和8年


def _bytes(name: str) -> bytes:
    with open(fixture(name), "rb") as handle:
        return handle.read()


def _refusal(excinfo) -> str:
    return " | ".join(f"row {e.row}: {e.message}" for e in excinfo.value.errors)


# --- 和暦 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和6年4月1日", dt.date(2024, 4, 1)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("R06.04.01", dt.date(2024, 4, 1)),
        ("R6/4/1", dt.date(2024, 4, 1)),
        ("Ｒ０６．０４．０１", dt.date(2024, 4, 1)),
        ("H31.04.30", dt.date(2019, 4, 30)),
        ("平成30年12月31日", dt.date(2018, 12, 31)),
    ],
)
def test_wareki_dates(text, expected):
    assert wareki.parse_wareki(text) == expected


def test_wareki_refuses_impossible_day():
    with pytest.raises(wareki.DateError, match="not a real date"):
        wareki.parse_wareki("令和6年2月30日")


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("060401", dt.date(2024, 4, 1)),  # 令和6
        ("090105", dt.date(2027, 1, 5)),  # 令和9: up to this Reiwa year + 1
        ("301231", dt.date(2018, 12, 31)),  # 平成30
        ("310430", dt.date(2019, 4, 30)),  # 平成31, the era's last day
        ("010501", dt.date(2019, 5, 1)),  # 令和元年
    ],
)
def test_zengin_yymmdd_era(yymmdd, expected):
    assert wareki.yymmdd(yymmdd, today=TODAY) == expected


def test_zengin_yymmdd_gregorian_option():
    assert wareki.yymmdd("240401", years="gregorian") == dt.date(2024, 4, 1)


# --- 全銀 -----------------------------------------------------------------------


def test_zengin_01_reads_every_data_record():
    rows = zengin.read(_bytes("zengin_01.txt"), today=TODAY)
    assert [r.row for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    first = rows[0]
    assert first.payer_name == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert first.amount_yen == 10000
    assert first.received_on == dt.date(2024, 4, 1)
    assert first.incoming
    cancelled = rows[-1]
    assert not cancelled.incoming and "取消" in cancelled.skip_reason
    assert len({r.fingerprint for r in rows}) == len(rows)


def test_zengin_without_line_breaks_reads_the_same():
    with_breaks = zengin.read(_bytes("zengin_01.txt"), today=TODAY)
    without = zengin.read(_bytes("zengin_01_nonewline.dat"), today=TODAY)
    assert [r.fingerprint for r in with_breaks] == [r.fingerprint for r in without]


def test_zengin_03_skips_outgoing_and_interest():
    rows = zengin.read(_bytes("zengin_03.txt"), today=TODAY)
    assert [(r.amount_yen, r.incoming) for r in rows] == [
        (10000, True),
        (440, False),
        (12, False),
        (5000, True),
    ]
    assert "outgoing" in rows[1].skip_reason
    assert "interest" in rows[2].skip_reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_zengin_truncated.txt", "stops before the trailer"),
        ("bad_zengin_truncated_nonewline.dat", "expected 200"),
        ("bad_zengin_trailer.txt", "振込合計金額"),
        ("bad_zengin_utf8.txt", "UTF-8"),
        ("bad_zengin_amount.txt", "金額"),
        ("bad_zengin_date.txt", "勘定日"),
    ],
)
def test_zengin_bad_input_is_refused_naming_row_and_field(name, expected):
    with pytest.raises(ImportRefused) as excinfo:
        zengin.read(_bytes(name), today=TODAY)
    assert expected in _refusal(excinfo)
    assert all(e.row >= 1 for e in excinfo.value.errors)


def test_zengin_bad_trailer_names_the_trailer_record():
    with pytest.raises(ImportRefused) as excinfo:
        zengin.read(_bytes("bad_zengin_trailer.txt"), today=TODAY)
    (error,) = excinfo.value.errors
    assert error.row == 9  # header, 7 data records, trailer
    assert "121,000" in error.message and "122,000" in error.message


def test_zengin_bad_amount_names_the_record():
    with pytest.raises(ImportRefused) as excinfo:
        zengin.read(_bytes("bad_zengin_amount.txt"), today=TODAY)
    assert excinfo.value.errors[0].row == 2
    assert "00001O000" in excinfo.value.errors[0].message


# --- CSV ------------------------------------------------------------------------


@pytest.mark.django_db
def test_bank_csv_profile_reads_incoming_and_skips_fees_and_interest():
    profile = TransferProfile.objects.get(name="bank-standard")
    rows = csvfile.read(_bytes("bank.csv"), profile=profile)
    assert [(r.row, r.amount_yen, r.incoming) for r in rows] == [
        (2, 10000, True),
        (3, 440, False),
        (4, 1000, True),
        (5, 3, False),
        (6, 2000, True),
    ]
    assert rows[0].reference == "A0001"
    assert rows[0].received_on == dt.date(2024, 4, 1)


@pytest.mark.django_db
def test_bank_csv_utf8_with_bom_gives_the_same_fingerprints():
    profile = TransferProfile.objects.get(name="bank-standard")
    cp932 = csvfile.read(_bytes("bank.csv"), profile=profile)
    utf8 = csvfile.read(_bytes("bank_utf8_bom.csv"), profile=profile)
    assert [r.fingerprint for r in cp932] == [r.fingerprint for r in utf8]


@pytest.mark.django_db
def test_yucho_profile_reads_wareki_dates():
    profile = TransferProfile.objects.get(name="yucho")
    rows = csvfile.read(_bytes("yucho.csv"), profile=profile)
    assert [(r.received_on, r.amount_yen, r.incoming) for r in rows] == [
        (dt.date(2024, 4, 1), 5000, True),
        (dt.date(2024, 4, 3), 1000, False),
        (dt.date(2024, 4, 8), 3000, True),
        (dt.date(2024, 4, 30), 2, False),
    ]
    assert rows[2].payer_name == "ｶ)ｻｸﾗｼｮｳｼﾞ"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "encoding", "expected", "row"),
    [
        ("bad_bank_amount.csv", None, "column 入金金額: “1O00” is not an amount", 4),
        ("bad_bank_date.csv", None, "column 取引日", 4),
        ("bad_bank_missing_column.csv", None, "column “振込依頼人名”", 1),
        ("bank.csv", "utf-8", "not utf-8 text", 1),
        ("bank_utf8_bom.csv", "cp932", "the file is UTF-8 but CP932", 1),
    ],
)
def test_csv_bad_input_is_refused_naming_row_and_field(name, encoding, expected, row):
    profile = TransferProfile.objects.get(name="bank-standard")
    with pytest.raises(ImportRefused) as excinfo:
        csvfile.read(_bytes(name), profile=profile, encoding=encoding)
    error = excinfo.value.errors[0]
    assert expected in error.message
    assert error.row == row


def test_empty_file_is_refused():
    with pytest.raises(ImportRefused, match="empty"):
        read_limited(fixture("empty.txt"))


def test_file_over_200_mb_is_refused_before_reading(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as handle:
        handle.truncate(200 * 1024 * 1024 + 1)  # sparse: costs no disk
    with pytest.raises(ImportRefused, match="limit is 200 MB"):
        read_limited(big)
    os.remove(big)


@override_settings(KYOSEI_IMPORT_MAX_BYTES=1000)
def test_size_limit_is_configurable():
    with pytest.raises(ImportRefused, match="limit"):
        read_limited(fixture("zengin_01.txt"))


def test_many_bad_rows_are_all_counted():
    rows = [b"2" + b"x" * 199] * 60
    with pytest.raises(ImportRefused) as excinfo:
        zengin.read(b"\r\n".join(rows) + b"\r\n", today=TODAY)
    errors = excinfo.value.errors
    assert errors[-1].message.startswith("… and")
    assert len(errors) == 51
