"""Bank and ゆうちょ CSV statements read through a :class:`TransferProfile`.

Row numbers in messages are line numbers in the file (the header is line
``skip_rows + 1``). Amounts may carry ``¥``, ``円``, thousands separators and
full-width digits; anything else is refused with the row and column named.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from donors.imports.errors import ImportRefused, RowError
from donors.imports.models import TransferProfile
from donors.imports.readers import wareki
from donors.imports.readers.common import (
    ErrorList,
    Transfer,
    csv_records,
    refuse_unstorable,
)
from donors.imports.readers.limits import Deadline, Limits
from kyosei.money import MAX_AMOUNT, format_yen

ENCODINGS = ("auto", "cp932", "utf-8", "utf-8-sig")
_AMOUNT_JUNK = re.compile(r"[,¥￥円\s]")


def decode(data: bytes, encoding: str) -> str:
    """Decode with the chosen encoding; ``auto`` tries UTF-8 (BOM or not), then
    CP932. A wrong encoding is refused with the line and byte where it broke."""
    if encoding not in ENCODINGS:
        raise ImportRefused(
            [RowError(0, _("Unknown encoding %(e)r.") % {"e": encoding})]
        )
    if encoding == "cp932" and _is_utf8_text(data):
        raise ImportRefused(
            [
                RowError(
                    1,
                    _(
                        "the file is UTF-8 but CP932 was chosen; choose UTF-8 or "
                        "auto (reading it as CP932 would garble the names)."
                    ),
                )
            ]
        )
    tries = ["utf-8-sig", "cp932"] if encoding == "auto" else [encoding]
    if encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
        tries = ["utf-8-sig"]
    last: UnicodeDecodeError | None = None
    for name in tries:
        try:
            return data.decode(name)
        except UnicodeDecodeError as exc:
            last = exc
    assert last is not None
    line = data[: last.start].count(b"\n") + 1
    raise ImportRefused(
        [
            RowError(
                line,
                _(
                    "byte %(pos)s of the file is not %(enc)s text; choose the "
                    "file's encoding (CP932 for most Japanese banks' CSV)."
                )
                % {"pos": last.start + 1, "enc": " / ".join(tries)},
            )
        ]
    )


def _is_utf8_text(data: bytes) -> bool:
    """Valid UTF-8 with non-ASCII characters: CP932 text almost never is."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_amount(value: str) -> int | None:
    """Whole yen from ``"1,000"``, ``"¥1,000"``, ``"１０００円"``; None if blank."""
    text = _AMOUNT_JUNK.sub("", unicodedata.normalize("NFKC", value or ""))
    if text in ("", "-"):
        return None
    negative = text.startswith(("-", "△", "▲"))
    text = text.lstrip("-△▲+")
    if text.endswith(".00") or text.endswith(".0"):
        text = text.split(".")[0]
    # ASCII digits only: int() would also take other scripts' digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        raise ValueError(value)
    return -int(text) if negative else int(text)


def read(
    data: bytes,
    *,
    profile: TransferProfile,
    encoding: str | None = None,
    limits: Limits | None = None,
) -> list[Transfer]:
    """Every statement line, or :class:`ImportRefused` (the only error this
    raises) naming the bad rows and columns."""
    limits = limits or Limits.from_settings()
    text = decode(data, encoding or profile.encoding)
    refuse_unstorable(text)
    rows = list(
        csv_records(
            text,
            limits=limits,
            delimiter=profile.delimiter or ",",
            deadline=Deadline(limits.max_seconds),
        )
    )
    start = profile.skip_rows
    if not any(any(c.strip() for c in row) for row in rows[start:]):
        raise ImportRefused([RowError(0, _("The file is empty."))])
    if profile.has_header:
        header = [unicodedata.normalize("NFKC", h).strip() for h in rows[start]]
        data_start = start + 1
    else:
        width = max((len(r) for r in rows[start:]), default=0)
        header = [str(i) for i in range(1, width + 1)]
        data_start = start
    column = _columns(profile, header, start + 1)
    errors = ErrorList()
    transfers: list[Transfer] = []
    for index in range(data_start, len(rows)):
        cells = rows[index]
        number = index + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        transfer = _row(profile, column, cells, number, errors)
        if transfer is not None:
            transfers.append(transfer)
    errors.refuse_if_any()
    if not transfers:
        raise ImportRefused([RowError(0, _("The file has a header but no rows."))])
    _occurrences(transfers)
    return transfers


def _columns(profile: TransferProfile, header: list[str], line: int) -> dict[str, int]:
    wanted = {
        "date": profile.date_column,
        "amount": profile.amount_column,
        "credit": profile.credit_column,
        "debit": profile.debit_column,
        "payer": profile.payer_column,
        "reference": profile.reference_column,
        "description": profile.description_column,
        "balance": profile.balance_column,
    }
    found, errors = {}, ErrorList()
    for role, name in wanted.items():
        if not name:
            continue
        key = unicodedata.normalize("NFKC", name).strip()
        if key in header:
            found[role] = header.index(key)
        else:
            errors.add(
                line,
                _(
                    "column “%(name)s” (%(role)s in profile “%(profile)s”) is not in "
                    "the file; its columns are: %(cols)s."
                )
                % {
                    "name": name,
                    "role": role,
                    "profile": profile.name,
                    "cols": ", ".join(h[:40] for h in header[:30])
                    + (" …" if len(header) > 30 else ""),
                },
            )
    if "amount" not in found and "credit" not in found and not errors:
        errors.add(line, _("the profile maps no amount column."))
    errors.refuse_if_any()
    return found


def _row(profile, column, cells, number, errors: ErrorList) -> Transfer | None:
    def cell(role: str) -> str:
        return cells[column[role]].strip() if role in column else ""

    try:
        day = wareki.parse_date(cell("date"), profile.date_format)
    except wareki.DateError as exc:
        errors.add(
            number,
            _("column %(col)s: %(msg)s.") % {"col": profile.date_column, "msg": exc},
        )
        day = None
    amounts: dict[str, int | None] = {}
    for role, name in (
        ("amount", profile.amount_column),
        ("credit", profile.credit_column),
        ("debit", profile.debit_column),
    ):
        if role in column:
            try:
                amounts[role] = parse_amount(cell(role))
            except ValueError:
                errors.add(
                    number,
                    _("column %(col)s: “%(value)s” is not an amount of yen.")
                    % {"col": name, "value": cell(role)[:40]},
                )
                return None
            if abs(amounts[role] or 0) > MAX_AMOUNT:
                errors.add(
                    number,
                    _(
                        "column %(col)s: “%(value)s” is more than %(max)s, the "
                        "largest amount Kyosei records."
                    )
                    % {
                        "col": name,
                        "value": cell(role)[:40],
                        "max": format_yen(MAX_AMOUNT),
                    },
                )
                return None
    if day is None:
        return None
    if "amount" in column:
        signed = amounts["amount"] or 0
    else:
        signed = (amounts.get("credit") or 0) - (amounts.get("debit") or 0)
        if amounts.get("credit") and amounts.get("debit"):
            errors.add(
                number,
                _("columns %(c)s and %(d)s both hold an amount.")
                % {"c": profile.credit_column, "d": profile.debit_column},
            )
            return None
    payer = cell("payer")
    description = cell("description")
    keywords = [k.strip() for k in profile.skip_keywords.split(",") if k.strip()]
    folded = unicodedata.normalize("NFKC", f"{description} {payer}")
    reason = ""
    if signed <= 0:
        reason = _("outgoing payment or fee") if signed < 0 else _("zero amount")
    elif any(unicodedata.normalize("NFKC", k) in folded for k in keywords):
        reason = _("interest or fee (%(d)s)") % {"d": description or payer}
    elif not payer:
        reason = _("no payer name")
    return Transfer(
        row=number,
        received_on=day,
        amount_yen=abs(signed),
        payer_name=payer,
        incoming=not reason,
        skip_reason=reason,
        reference=cell("reference"),
        raw=",".join(cells),
        ref_parts=(
            "csv",
            day.isoformat(),
            str(signed),
            unicodedata.normalize("NFKC", payer),
            cell("reference"),
            cell("balance"),
        ),
    )


def _occurrences(transfers: list[Transfer]) -> None:
    """Two identical lines (same day, amount, payer, no reference or balance to
    tell them apart) are two transfers: number repeats so each keeps its own
    fingerprint, and the same statement imported again yields the same ones."""
    seen: dict[tuple[str, ...], int] = {}
    for transfer in transfers:
        n = seen.get(transfer.ref_parts, 0)
        seen[transfer.ref_parts] = n + 1
        if n:
            transfer.set_ref_parts((*transfer.ref_parts, f"#{n}"))
