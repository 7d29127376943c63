"""Japanese era dates (和暦) to Gregorian dates.

Banks print dates as 和暦: 全銀協 files as two-digit era years (``060401`` =
令和6年4月1日), statements as ``令和6年4月1日``, ``R06.04.01`` or ``H31/4/30``.

Era of a bare two-digit year (全銀 ``YYMMDD``): a year from 1 up to the current
Reiwa year + 1 is Reiwa; a larger year (up to 31) is Heisei. So in 2026 (令和8)
``090105`` is 令和9年 and ``301231`` is 平成30年; files older than 平成10 (1998)
are not expected. Dates written near the era change are converted leniently:
some bank systems printed 平成31年5月 after the change, and 平成31年5月7日 is
taken as 2019-05-07 rather than refused, since the Gregorian day is unambiguous.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

# (kanji, Latin initial, first day, Gregorian year of year 1)
ERAS = (
    ("令和", "R", dt.date(2019, 5, 1), 2018),
    ("平成", "H", dt.date(1989, 1, 8), 1988),
    ("昭和", "S", dt.date(1926, 12, 25), 1925),
)
_OFFSET = {name: base for name, _initial, _start, base in ERAS}
_OFFSET.update({initial: base for _name, initial, _start, base in ERAS})

_WAREKI_RE = re.compile(
    r"^(?P<era>令和|平成|昭和|[RHS])\s*(?P<y>元|\d{1,2})\s*[年./\-]?\s*"
    r"(?P<m>\d{1,2})\s*[月./\-]?\s*(?P<d>\d{1,2})\s*日?$",
    re.IGNORECASE,
)


class DateError(ValueError):
    pass


def _date(year: int, month: int, day: int, shown: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"“{shown}” is not a real date") from None


def parse_wareki(value: str) -> dt.date:
    """Parse 令和6年4月1日, 令和元年5月1日, R06.04.01, R6/4/1 or H31.4.30.

    Lenient at the era change (see the module docstring)."""
    shown = unicodedata.normalize("NFKC", value or "").strip()
    found = _WAREKI_RE.match(shown)
    if not found:
        raise DateError(
            f"“{value}” is not a 和暦 date such as 令和6年4月1日 or R06.04.01"
        )
    era = found["era"].upper() if len(found["era"]) == 1 else found["era"]
    year = 1 if found["y"] == "元" else int(found["y"])
    if year < 1:
        raise DateError(f"“{value}” has era year 0")
    return _date(_OFFSET[era] + year, int(found["m"]), int(found["d"]), value)


def reiwa_year(today: dt.date) -> int:
    return today.year - _OFFSET["R"]


def yymmdd(
    value: str, *, years: str = "wareki", today: dt.date | None = None
) -> dt.date:
    """A 全銀 ``YYMMDD`` date: 和暦 (default, era as in the module docstring) or
    Gregorian (``years="gregorian"``: 20YY)."""
    if len(value) != 6 or not value.isdigit():
        raise DateError(f"“{value}” is not a YYMMDD date")
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    if years == "gregorian":
        return _date(2000 + yy, month, day, value)
    today = today or dt.date.today()
    if yy == 0:
        raise DateError(f"“{value}” has era year 00")
    if yy <= reiwa_year(today) + 1:
        return _date(_OFFSET["R"] + yy, month, day, value)
    return _date(_OFFSET["H"] + yy, month, day, value)


def parse_date(value: str, fmt: str) -> dt.date:
    """``fmt`` is a strftime format or ``"wareki"``."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise DateError("the date is empty")
    if fmt == "wareki":
        return parse_wareki(text)
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        raise DateError(f"“{value}” is not a date in the format {fmt}") from None
