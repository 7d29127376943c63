"""The donor register (寄附者名簿) of one business year, with absolute-PST counting.

``donor_register_rows(fiscal_year)`` lists every gift received in the business year
(the organisation profile's fiscal year): donations, supporting-member fees
(賛助会費) and in-kind gifts. Regular members' dues (正会員会費) are not donations
(japan-npo.md §1, §2) and are left out. Gifts still pending or refunded in full are
not donations received and are left out; a partly refunded gift shows the yen kept.
Gifts without a donor (a cash box) appear by date and amount only.

Each row also says whether its donor counts for the absolute test (絶対値基準) in
that year, and why not. The rules (japan-npo.md §1 "Absolute test"):

- totals are per business year: a donor counts when the year's countable total is
  at least ¥3,000;
- only donors with a known name **and** address count;
- officers (役員) and anyone in an officer's household are excluded, judged at each
  gift's date (``officer_since`` / ``officer_until``; a donor flagged as officer
  with no dates is an officer throughout; a former officer with no end date
  recorded is not treated as one);
- a household (生計を一にする者) counts as one donor: its members' countable gifts
  are added up and the member with the largest total is the one counted, the others
  are marked "household already counted";
- donors with an overseas address: *unsettled*, counted by default
  (``count_overseas=True``) and always flagged in their own column; the summary
  shows the count both ways.

Reads: one query for gifts joined to their donors, one for the officers of the
households involved. Totals are added up in Python (10,000 gifts: see README).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from donors.models import Donor, Gift
from kyosei.models import organisation_profile
from kyosei.money import Money, format_money
from kyosei.spreadsheets import csv_row, xlsx_row

ABSOLUTE_TEST_MINIMUM_YEN = 3_000

REGISTER_KINDS = (Gift.Kind.DONATION, Gift.Kind.SUPPORTING_FEE, Gift.Kind.IN_KIND)
REGISTER_STATUSES = (
    Gift.Status.RECEIVED,
    Gift.Status.PARTIALLY_REFUNDED,
    Gift.Status.DISPUTED,
)


class Reason:
    """Why a donor does (not) count for the absolute test in the year."""

    COUNTED = "counted"
    UNKNOWN_DONOR = "unknown_donor"
    NO_NAME_OR_ADDRESS = "no_name_or_address"
    OFFICER = "officer"
    HOUSEHOLD_COUNTED = "household_counted"
    UNDER_MINIMUM = "under_minimum"
    OVERSEAS_EXCLUDED = "overseas_excluded"

    LABELS = {
        COUNTED: gettext_lazy("Counted"),
        UNKNOWN_DONOR: gettext_lazy("Donor unknown (e.g. cash box)"),
        NO_NAME_OR_ADDRESS: gettext_lazy("Name or address not known"),
        OFFICER: gettext_lazy("Officer or officer's household at the gift date"),
        HOUSEHOLD_COUNTED: gettext_lazy("Household already counted"),
        UNDER_MINIMUM: gettext_lazy("Under ¥3,000 in the year"),
        OVERSEAS_EXCLUDED: gettext_lazy("Overseas address (not counted by option)"),
    }


@dataclass(frozen=True)
class RegisterRow:
    gift_id: int
    received_on: dt.date
    kind: str
    amount_yen: int
    original_amount: int
    original_currency: str
    donor_id: int | None
    name: str
    address: str
    overseas: bool
    counted: bool
    reason: str
    donor_year_total_yen: int

    @property
    def reason_label(self) -> str:
        return str(Reason.LABELS[self.reason])


@dataclass
class Register:
    fiscal_year: int
    start: dt.date
    end: dt.date
    count_overseas: bool
    rows: list[RegisterRow]
    counted_donors: int = 0
    counted_overseas_donors: int = 0
    total_yen: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def counted_donors_without_overseas(self) -> int:
        """The count if overseas donors were not counted (the *unsettled* option)."""
        if self.count_overseas:
            return self.counted_donors - self.counted_overseas_donors
        return self.counted_donors

    @property
    def counted_donors_with_overseas(self) -> int:
        if self.count_overseas:
            return self.counted_donors
        return self.counted_donors + self.counted_overseas_donors


def donor_has_name(donor: Donor) -> bool:
    if donor.kind == Donor.Kind.ORGANISATION:
        return bool(donor.organisation_name or donor.latin_name)
    return bool(
        donor.family_name or donor.given_name or donor.latin_name or donor.kana_name
    )


def officer_on(donor: Donor, day: dt.date) -> bool:
    """Whether ``donor`` was an officer (役員) on ``day``."""
    if not donor.is_officer and donor.officer_until is None:
        return False
    if donor.officer_since is not None and day < donor.officer_since:
        return False
    return not (donor.officer_until is not None and day > donor.officer_until)


def _net_yen(gift: _Gift) -> int:
    return gift.amount_yen - gift.refunded_yen


def _household_officers(household_ids: Iterable[int]) -> dict[int, list[Donor]]:
    officers: dict[int, list[Donor]] = defaultdict(list)
    ids = list(household_ids)
    if not ids:
        return officers
    for member in (
        Donor.objects.filter(household_id__in=ids)
        .filter(Q(is_officer=True) | Q(officer_until__isnull=False))
        .only("id", "household_id", "is_officer", "officer_since", "officer_until")
    ):
        officers[member.household_id].append(member)
    return officers


_GIFT_FIELDS = (
    "id", "received_on", "kind", "amount", "currency", "amount_yen", "refunded_yen",
    "donor_id",
)  # fmt: skip
_DONOR_FIELDS = (
    "kind", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "organisation_name", "organisation_name_kana", "latin_name", "country",
    "postal_code", "prefecture", "region", "city", "address_line1", "address_line2",
    "is_officer", "officer_since", "officer_until", "household_id",
)  # fmt: skip


class _Gift(NamedTuple):
    id: int
    received_on: dt.date
    kind: str
    amount: int
    currency: str
    amount_yen: int
    refunded_yen: int
    donor_id: int | None


def _year_gifts(start: dt.date, end: dt.date) -> tuple[list[_Gift], dict[int, Donor]]:
    """One query: the year's register gifts joined to their donors.

    Plain tuples, and one (unsaved, read-only) ``Donor`` per distinct donor
    rather than one per gift: building model instances was most of the time.
    """
    query = (
        Gift.objects.filter(
            received_on__range=(start, end),
            kind__in=REGISTER_KINDS,
            status__in=REGISTER_STATUSES,
        )
        .order_by("received_on", "id")
        .values_list(*_GIFT_FIELDS, *(f"donor__{f}" for f in _DONOR_FIELDS))
    )
    width = len(_GIFT_FIELDS)
    gifts: list[_Gift] = []
    donors: dict[int, Donor] = {}
    for row in query:
        gift = _Gift(*row[:width])
        gifts.append(gift)
        if gift.donor_id is not None and gift.donor_id not in donors:
            donors[gift.donor_id] = Donor(
                id=gift.donor_id, **dict(zip(_DONOR_FIELDS, row[width:], strict=True))
            )
    return gifts, donors


def donor_register(fiscal_year: int, *, count_overseas: bool = True) -> Register:
    """The register of business year ``fiscal_year`` (named by its start year)."""
    start, end = organisation_profile().fiscal_year_bounds(fiscal_year)
    gifts, donors = _year_gifts(start, end)
    countable: dict[int, int] = defaultdict(int)  # donor id -> countable yen
    totals: dict[int, int] = defaultdict(int)  # donor id -> all yen in the year
    officer_gifts: set[int] = set()
    household_ids = {d.household_id for d in donors.values() if d.household_id}
    hh_officers = _household_officers(household_ids)
    for gift in gifts:
        if gift.donor_id is None:
            continue
        donor = donors[gift.donor_id]
        totals[donor.pk] += _net_yen(gift)
        day = gift.received_on
        is_officer = officer_on(donor, day) or any(
            officer_on(member, day)
            for member in hh_officers.get(donor.household_id, ())
        )
        if is_officer:
            officer_gifts.add(donor.pk)
        else:
            countable[donor.pk] += _net_yen(gift)

    reasons: dict[int, str] = {}
    # Households count once, on their combined countable gifts.
    units: dict[tuple[str, int], list[int]] = defaultdict(list)
    for donor_id, donor in donors.items():
        if not (donor_has_name(donor) and donor.has_address):
            reasons[donor_id] = Reason.NO_NAME_OR_ADDRESS
            continue
        if donor.household_id:
            units[("household", donor.household_id)].append(donor_id)
        else:
            units[("donor", donor_id)].append(donor_id)
    for members in units.values():
        unit_total = sum(countable[m] for m in members)
        # The member who gave most (countable) is the one counted; ties by id.
        lead = max(members, key=lambda m: (countable[m], totals[m], -m))
        for member in members:
            if unit_total < ABSOLUTE_TEST_MINIMUM_YEN:
                reasons[member] = (
                    Reason.OFFICER
                    if member in officer_gifts and countable[member] == 0
                    else Reason.UNDER_MINIMUM
                )
            elif member != lead:
                reasons[member] = (
                    Reason.OFFICER
                    if countable[member] == 0 and member in officer_gifts
                    else Reason.HOUSEHOLD_COUNTED
                )
            else:
                reasons[member] = Reason.COUNTED

    counted = counted_overseas = 0
    for donor_id, reason in reasons.items():
        if reason != Reason.COUNTED:
            continue
        if donors[donor_id].is_overseas:
            counted_overseas += 1
            if not count_overseas:
                reasons[donor_id] = Reason.OVERSEAS_EXCLUDED
                continue
        counted += 1

    rows: list[RegisterRow] = []
    summary: dict[str, int] = defaultdict(int)
    total_yen = 0
    for gift in gifts:
        donor = donors.get(gift.donor_id) if gift.donor_id else None
        amount = _net_yen(gift)
        total_yen += amount
        if donor is None:
            reason, name, address, overseas, year_total = (
                Reason.UNKNOWN_DONOR,
                "",
                "",
                False,
                0,
            )
        else:
            reason = reasons[donor.pk]
            name = donor.display_name() if donor_has_name(donor) else ""
            address = " ".join(donor.address_lines())
            overseas = donor.is_overseas
            year_total = totals[donor.pk]
        summary[reason] += 1
        rows.append(
            RegisterRow(
                gift_id=gift.id,
                received_on=gift.received_on,
                kind=gift.kind,
                amount_yen=amount,
                original_amount=gift.amount,
                original_currency=gift.currency,
                donor_id=gift.donor_id,
                name=name,
                address=address,
                overseas=overseas,
                counted=reason == Reason.COUNTED,
                reason=reason,
                donor_year_total_yen=year_total,
            )
        )
    return Register(
        fiscal_year=fiscal_year,
        start=start,
        end=end,
        count_overseas=count_overseas,
        rows=rows,
        counted_donors=counted,
        counted_overseas_donors=counted_overseas,
        total_yen=total_yen,
        reasons=dict(summary),
    )


def donor_register_rows(
    fiscal_year: int, *, count_overseas: bool = True
) -> list[RegisterRow]:
    return donor_register(fiscal_year, count_overseas=count_overseas).rows


# --- Export ------------------------------------------------------------------------


def _headers() -> list[str]:
    return [
        _("No."),
        _("Date received"),
        _("Kind"),
        _("Amount (yen)"),
        _("Original amount"),
        _("Donor ID"),
        _("Name (or organisation)"),
        _("Address"),
        _("Counts for the absolute test"),
        _("Reason"),
        _("Overseas address"),
        _("Donor's total in the year (yen)"),
    ]


def _row_values(number: int, row: RegisterRow) -> list[object]:
    kinds = dict(Gift.Kind.choices)
    original = (
        format_money(Money(row.original_amount, row.original_currency), "en")
        if row.original_currency != "JPY"
        else ""
    )
    return [
        number,
        row.received_on,
        str(kinds[row.kind]),
        row.amount_yen,
        original,
        row.donor_id or "",
        row.name,
        row.address,
        _("Yes") if row.counted else _("No"),
        "" if row.counted else row.reason_label,
        _("Yes") if row.overseas else "",
        row.donor_year_total_yen if row.donor_id else "",
    ]


def _title(register: Register) -> str:
    return _(
        "Donor register (寄附者名簿), business year %(fy)s: %(start)s – %(end)s"
    ) % {
        "fy": register.fiscal_year,
        "start": register.start.isoformat(),
        "end": register.end.isoformat(),
    }


def _summary_lines(register: Register) -> list[list[object]]:
    return [
        [_("Donors counted for the absolute test"), register.counted_donors],
        [
            _("… of which with an overseas address"),
            register.counted_overseas_donors
            if register.count_overseas
            else _("not counted (option)"),
        ],
        [
            _("Donors counted if overseas donors are excluded"),
            register.counted_donors_without_overseas,
        ],
        [_("Gifts"), len(register.rows)],
        [_("Total (yen)"), register.total_yen],
    ]


# Names and addresses are typed by donors (portal, donate form) or printed by
# banks: every cell goes through kyosei.spreadsheets, so a name such as
# =HYPERLINK(…) stays text (an apostrophe in CSV, a quote-prefixed string in XLSX).


def register_csv(register: Register) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel opens the Japanese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(_headers()))
    for number, row in enumerate(register.rows, start=1):
        values = _row_values(number, row)
        values[1] = row.received_on.isoformat()
        writer.writerow(csv_row(values))
    return out.getvalue().encode("utf-8-sig")


def register_xlsx(register: Register) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(register.fiscal_year))
    sheet.freeze_panes = "A3"
    title = _title(register)
    sheet.append(xlsx_row(sheet, [title]))
    bold = Font(bold=True)

    header = []
    for text in _headers():
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for number, row in enumerate(register.rows, start=1):
        values = _row_values(number, row)
        date_cell = WriteOnlyCell(sheet, value=row.received_on)
        date_cell.number_format = "yyyy-mm-dd"
        amount_cell = WriteOnlyCell(sheet, value=row.amount_yen)
        amount_cell.number_format = "#,##0"
        values[1], values[3] = date_cell, amount_cell
        sheet.append(xlsx_row(sheet, values))
    summary = workbook.create_sheet(_("Summary"))
    summary.append(xlsx_row(summary, [title]))
    for line in _summary_lines(register):
        summary.append(xlsx_row(summary, line))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


EXPORTERS = {"csv": register_csv, "xlsx": register_xlsx}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def register_export(register: Register, fmt: str) -> bytes:
    try:
        return EXPORTERS[fmt](register)
    except KeyError:
        raise ValueError(
            _("Unknown format %(f)r: use csv or xlsx.") % {"f": fmt}
        ) from None
