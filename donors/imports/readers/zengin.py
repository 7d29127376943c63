"""全銀協 fixed-length files: 振込入金通知 (種別 01) and 入出金取引明細 (種別 03).

Records are 200 bytes in JIS (code 区分 0; the bytes are those of CP932's
single-byte half-width katakana), with or without CR/LF after each record:
header (データ区分 1), data (2), trailer (8), end (9). A file may hold several
header…trailer groups (one per account) and ends with one end record. Dates are
和暦 YYMMDD (see :mod:`donors.imports.readers.wareki`).

The trailer's counts and totals are checked against the data records and a file
that disagrees is refused: it was cut short or altered.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from donors.imports.readers import wareki
from donors.imports.readers.common import ErrorList, Transfer

RECORD = 200

# (name, width) in record order; the names appear in error messages.
HEADER = [
    ("data_kind", 1), ("kind_code", 2), ("code_kind", 1), ("created_on", 6),
    ("from_date", 6), ("to_date", 6), ("bank_code", 4), ("bank_name", 15),
    ("branch_code", 3), ("branch_name", 15), ("dummy1", 3), ("account_type", 1),
    ("account_number", 7), ("account_name", 40), ("rest", 90),
]  # fmt: skip
DATA_01 = [
    ("data_kind", 1), ("inquiry_no", 6), ("booked_on", 6), ("value_date", 6),
    ("amount", 10), ("other_bank_cheques", 10), ("requester_code", 10),
    ("payer_name", 48), ("sending_bank", 15), ("sending_branch", 15),
    ("cancel", 1), ("edi", 20), ("dummy", 52),
]  # fmt: skip
TRAILER_01 = [
    ("data_kind", 1), ("count", 6), ("total", 12), ("cancel_count", 6),
    ("cancel_total", 12), ("dummy", 163),
]  # fmt: skip
DATA_03 = [
    ("data_kind", 1), ("inquiry_no", 8), ("booked_on", 6), ("value_date", 6),
    ("direction", 1), ("transaction_kind", 2), ("amount", 12),
    ("other_bank_cheques", 12), ("presented_on", 6), ("dishonoured_on", 6),
    ("cheque_kind", 1), ("cheque_no", 7), ("branch_no", 3), ("requester_code", 10),
    ("payer_name", 48), ("sending_bank", 15), ("sending_branch", 15),
    ("description", 20), ("edi", 20), ("dummy", 1),
]  # fmt: skip
TRAILER_03 = [
    ("data_kind", 1), ("in_count", 6), ("in_total", 13), ("out_count", 6),
    ("out_total", 13), ("overdraft", 1), ("balance", 14), ("record_count", 7),
    ("dummy", 139),
]  # fmt: skip
for _layout in (HEADER, DATA_01, TRAILER_01, DATA_03, TRAILER_03):
    assert sum(w for _n, w in _layout) == RECORD, _layout

# 入出金取引明細 取引区分: 振込 (11) and 振替 (14) are transfers from a payer.
TRANSFER_KINDS = {"11", "14"}
INTEREST_WORDS = ("ﾘｿｸ", "リソク", "利息", "ｹｯｻﾝ", "ｹﾂｻﾝ")


@dataclass
class _Group:
    kind_code: str
    bank: str
    branch: str
    account: str
    rows: list[Transfer]
    incoming_count: int = 0
    incoming_total: int = 0
    outgoing_count: int = 0
    outgoing_total: int = 0
    cancel_count: int = 0
    cancel_total: int = 0
    data_records: int = 0


def split_records(data: bytes, errors: ErrorList) -> list[bytes]:
    """200-byte records, from lines (CR LF or LF) or one unbroken stream."""
    if b"\n" in data or b"\r" in data:
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        while lines and not lines[-1].strip(b"\x1a "):  # trailing newline / EOF mark
            lines.pop()
        for number, line in enumerate(lines, 1):
            if len(line) != RECORD:
                errors.add(number, _bad_length(len(line), line))
        return lines
    data = data.rstrip(b"\x1a")
    records = [data[i : i + RECORD] for i in range(0, len(data), RECORD)]
    if records and len(records[-1]) != RECORD:
        errors.add(len(records), _bad_length(len(records[-1]), records[-1]))
    return records


def _bad_length(length: int, record: bytes) -> str:
    hint = ""
    try:
        text = record.decode("utf-8")
        if any(ord(ch) > 127 for ch in text):
            hint = _(" It looks like UTF-8: 全銀 files are JIS/Shift_JIS (CP932).")
    except UnicodeDecodeError:
        pass
    return (
        _("record is %(n)s bytes, expected 200 (truncated or not a 全銀 file).")
        % {"n": length}
        + hint
    )


def _slices(layout) -> tuple[tuple[str, slice], ...]:
    out, pos = [], 0
    for name, width in layout:
        out.append((name, slice(pos, pos + width)))
        pos += width
    return tuple(out)


_SLICES = {
    id(layout): _slices(layout)
    for layout in (HEADER, DATA_01, TRAILER_01, DATA_03, TRAILER_03)
}


def _fields(record: str, layout) -> dict[str, str]:
    return {name: record[where] for name, where in _SLICES[id(layout)]}


def _number(value: str, row: int, field: str, errors: ErrorList) -> int | None:
    if not value.isdigit():
        errors.add(
            row,
            _("field %(field)s: “%(value)s” is not a number.")
            % {"field": field, "value": value.strip()},
        )
        return None
    return int(value)


@functools.lru_cache(maxsize=4096)
def _yymmdd(value: str, years: str, today: dt.date | None) -> dt.date:
    # A statement repeats a few hundred dates over its rows.
    return wareki.yymmdd(value, years=years, today=today)


def _day(value: str, row: int, field: str, errors: ErrorList, years: str, today):
    try:
        return _yymmdd(value, years, today)
    except wareki.DateError as exc:
        errors.add(row, _("field %(field)s: %(msg)s.") % {"field": field, "msg": exc})
        return None


def _decoded(records: list[bytes]) -> list[str] | list[bytes]:
    """The records as text, decoded in one call when every byte is one
    character (the normal case: JIS half-width kana are single bytes), else
    as they are, for :func:`read` to decode one by one and name the bad one."""
    try:
        text = b"".join(records).decode("cp932")
    except UnicodeDecodeError:
        return records
    if len(text) != RECORD * len(records):
        return records
    return [text[i : i + RECORD] for i in range(0, len(text), RECORD)]


def read(
    data: bytes, *, years: str = "wareki", today: dt.date | None = None
) -> list[Transfer]:
    errors = ErrorList()
    records = split_records(data, errors)
    errors.refuse_if_any()
    transfers: list[Transfer] = []
    group: _Group | None = None
    ended = False
    for number, record in enumerate(_decoded(records), 1):
        if isinstance(record, str):
            text = record
        else:
            try:
                text = record.decode("cp932")
            except UnicodeDecodeError as exc:
                errors.add(
                    number,
                    _(
                        "byte %(pos)s is not JIS/Shift_JIS (CP932) text "
                        "(wrong encoding?)."
                    )
                    % {"pos": exc.start + 1},
                )
                continue
        if len(text) != RECORD:
            errors.add(
                number,
                _("record holds full-width characters; 全銀 names are half-width."),
            )
            continue
        if "\x00" in text:
            # PostgreSQL cannot store NUL: refused here, by the dry run as well.
            errors.add(number, _("record holds a NUL byte (binary data?)."))
            continue
        kind = text[0]
        if ended:
            errors.add(number, _("record after the end record (データ区分 9)."))
            break
        if kind == "1":
            if group is not None:
                errors.add(number, _("header before the previous group's trailer."))
            head = _fields(text, HEADER)
            if head["kind_code"] not in ("01", "03"):
                errors.add(
                    number,
                    _(
                        "field 種別コード: “%(c)s” is not 01 (振込入金通知) or "
                        "03 (入出金取引明細)."
                    )
                    % {"c": head["kind_code"]},
                )
                break
            if head["code_kind"] != "0":
                errors.add(number, _("field コード区分: only JIS (0) is supported."))
            group = _Group(
                kind_code=head["kind_code"],
                bank=head["bank_code"],
                branch=head["branch_code"],
                account=head["account_type"] + head["account_number"],
                rows=[],
            )
        elif kind == "2":
            if group is None:
                errors.add(number, _("data record before any header record."))
                continue
            group.data_records += 1
            row = (
                _data_01(text, number, group, errors, years, today)
                if group.kind_code == "01"
                else _data_03(text, number, group, errors, years, today)
            )
            if row is not None:
                group.rows.append(row)
        elif kind == "8":
            if group is None:
                errors.add(number, _("trailer record without a header."))
                continue
            _check_trailer(text, number, group, errors)
            transfers.extend(group.rows)
            group = None
        elif kind == "9":
            if group is not None:
                errors.add(number, _("end record before the trailer (data missing)."))
            ended = True
        else:
            errors.add(
                number,
                _("field データ区分: “%(k)s” is not 1, 2, 8 or 9.") % {"k": kind},
            )
    if not errors:
        if group is not None:
            errors.add(len(records), _("the file stops before the trailer record."))
        elif not ended:
            errors.add(len(records), _("the end record (データ区分 9) is missing."))

    errors.refuse_if_any()
    return transfers


# The fields of a 01 data record that a transfer needs, in one C call per record
# (the statement's 100,000 records are read in a tight loop).
_DATA_01_USED = operator.itemgetter(
    *(where for name, where in _SLICES[id(DATA_01)]
      if name in ("inquiry_no", "booked_on", "amount", "payer_name", "cancel"))
)  # fmt: skip


def _data_01(text, number, group, errors, years, today) -> Transfer | None:
    inquiry_no, booked_on, amount_text, payer, cancel = _DATA_01_USED(text)
    amount = _number(amount_text, number, "金額", errors)
    booked = _day(booked_on, number, "勘定日", errors, years, today)
    if cancel not in ("0", "1", " "):
        errors.add(number, _("field 取消区分: “%(v)s” is not 0 or 1.") % {"v": cancel})
    if amount is None or booked is None:
        return None
    cancelled = cancel == "1"
    if cancelled:
        group.cancel_count += 1
        group.cancel_total += amount
    else:
        group.incoming_count += 1
        group.incoming_total += amount
    payer = payer.strip()
    return Transfer(
        row=number,
        received_on=booked,
        amount_yen=amount,
        payer_name=payer,
        incoming=not cancelled and amount > 0,
        skip_reason=_("cancelled (取消)") if cancelled else "",
        reference=inquiry_no,
        raw=text,
        ref_parts=(
            "zengin01",
            group.bank,
            group.branch,
            group.account,
            inquiry_no,
            booked_on,
            amount_text,
            payer,
        ),
    )


def _data_03(text, number, group, errors, years, today) -> Transfer | None:
    f = _fields(text, DATA_03)
    amount = _number(f["amount"], number, "取引金額", errors)
    booked = _day(f["booked_on"], number, "勘定日", errors, years, today)
    if f["direction"] not in ("1", "2"):
        errors.add(
            number, _("field 入払区分: “%(v)s” is not 1 or 2.") % {"v": f["direction"]}
        )
        return None
    if amount is None or booked is None:
        return None
    incoming = f["direction"] == "1"
    if incoming:
        group.incoming_count += 1
        group.incoming_total += amount
    else:
        group.outgoing_count += 1
        group.outgoing_total += amount
    description = f["description"].strip()
    reason = ""
    if not incoming:
        reason = _("outgoing payment")
    elif any(word in description or word in f["payer_name"] for word in INTEREST_WORDS):
        reason = _("interest")
    elif f["transaction_kind"] not in TRANSFER_KINDS:
        reason = _("not a transfer (取引区分 %(k)s)") % {"k": f["transaction_kind"]}
    elif amount == 0:
        reason = _("zero amount")
    return Transfer(
        row=number,
        received_on=booked,
        amount_yen=amount,
        payer_name=f["payer_name"].strip(),
        incoming=not reason,
        skip_reason=reason,
        reference=f["inquiry_no"],
        raw=text,
        ref_parts=(
            "zengin03",
            group.bank,
            group.branch,
            group.account,
            f["inquiry_no"],
            f["booked_on"],
            f["amount"],
            f["payer_name"].strip(),
        ),
    )


def _check_trailer(text: str, number: int, group: _Group, errors: ErrorList) -> None:
    def expect(field: str, label: str, shown: str, actual: int) -> None:
        value = _number(shown, number, label, errors)
        if value is not None and value != actual:
            errors.add(
                number,
                _(
                    "field %(label)s: the trailer says %(said)s but the data "
                    "records add up to %(actual)s — the file is incomplete or "
                    "altered."
                )
                % {"label": label, "said": f"{value:,}", "actual": f"{actual:,}"},
            )

    if group.kind_code == "01":
        t = _fields(text, TRAILER_01)
        expect("count", "振込合計件数", t["count"], group.incoming_count)
        expect("total", "振込合計金額", t["total"], group.incoming_total)
        expect("cancel_count", "取消合計件数", t["cancel_count"], group.cancel_count)
        expect("cancel_total", "取消合計金額", t["cancel_total"], group.cancel_total)
    else:
        t = _fields(text, TRAILER_03)
        expect("in_count", "入金件数", t["in_count"], group.incoming_count)
        expect("in_total", "入金額合計", t["in_total"], group.incoming_total)
        expect("out_count", "出金件数", t["out_count"], group.outgoing_count)
        expect("out_total", "出金額合計", t["out_total"], group.outgoing_total)
        expect(
            "record_count", "データレコード件数", t["record_count"], group.data_records
        )


# --- Writing (fixtures, demo data and the benchmark) ----------------------------


def encode_record(values: dict[str, str | int], layout) -> bytes:
    """One 200-byte record: numbers right-aligned with zeros, text left-aligned
    with spaces, in CP932 (half-width katakana are single bytes)."""
    out = b""
    for name, width in layout:
        value = values.get(name, "")
        if isinstance(value, int):
            chunk = str(value).rjust(width, "0").encode("ascii")
        else:
            chunk = str(value).encode("cp932")
            filler = b"0" if name == "dummy1" else b" "
            chunk = chunk[:width].ljust(width, filler)
        if len(chunk) != width:
            raise ValueError(f"{name}: {value!r} does not fit {width} bytes")
        out += chunk
    return out


def build_file(
    *,
    kind_code: str,
    created_on: str,
    rows: list[dict[str, str | int]],
    bank_code: int = 9,
    branch_code: int = 123,
    account_number: int = 1234567,
    account_name: str = "ﾄｸﾋ)ﾋﾀﾞﾏﾘｷﾖｳｾｲﾈﾂﾄ",
    newline: bytes = b"\r\n",
) -> bytes:
    """A whole one-account 全銀 file (header, data, correct trailer, end)."""
    header = encode_record(
        {
            "data_kind": 1,
            "kind_code": kind_code,
            "code_kind": 0,
            "created_on": created_on,
            "from_date": min(r["booked_on"] for r in rows),
            "to_date": max(r["booked_on"] for r in rows),
            "bank_code": bank_code,
            "bank_name": "ﾐﾗｲｷﾞﾝｺｳ",
            "branch_code": branch_code,
            "branch_name": "ﾎﾝﾃﾝ",
            "account_type": 1,
            "account_number": account_number,
            "account_name": account_name,
        },
        HEADER,
    )
    layout = DATA_01 if kind_code == "01" else DATA_03
    data = [encode_record({"data_kind": 2, **row}, layout) for row in rows]
    if kind_code == "01":
        live = [r for r in rows if str(r.get("cancel", "0")) != "1"]
        dead = [r for r in rows if str(r.get("cancel", "0")) == "1"]
        trailer = encode_record(
            {
                "data_kind": 8,
                "count": len(live),
                "total": sum(int(r["amount"]) for r in live),
                "cancel_count": len(dead),
                "cancel_total": sum(int(r["amount"]) for r in dead),
            },
            TRAILER_01,
        )
    else:
        ins = [r for r in rows if str(r["direction"]) == "1"]
        outs = [r for r in rows if str(r["direction"]) == "2"]
        trailer = encode_record(
            {
                "data_kind": 8,
                "in_count": len(ins),
                "in_total": sum(int(r["amount"]) for r in ins),
                "out_count": len(outs),
                "out_total": sum(int(r["amount"]) for r in outs),
                "overdraft": 0,
                "balance": 0,
                "record_count": len(rows),
            },
            TRAILER_03,
        )
    end = encode_record({"data_kind": 9}, [("data_kind", 1), ("dummy", 199)])
    return newline.join([header, *data, trailer, end]) + newline
