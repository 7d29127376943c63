"""Donor and gift spreadsheets (CSV/XLSX): reading, column mapping, and the
resources that report every problem per row and field in plain language.

Row numbers are the spreadsheet's own: the header is row 1, the first data row
is row 2, so staff can go straight to the cell in Excel.

The resources subclass :class:`~donors.exporters.resources.DonorResource` and
:class:`~donors.exporters.resources.GiftResource` (which write only through
``donor_create`` / ``donor_update`` and ``gift_record``); here they only add
plain-language field errors, a future-date check attributed to its column, and
duplicate-finder candidates for donor rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.results import Result, RowResult

from donors.duplicates import duplicates_for_donor
from donors.exporters.resources import (
    DateWidget,
    DonorResource,
    GiftResource,
    IntWidget,
)
from donors.imports.errors import ImportRefused, RowError
from donors.imports.readers import xlsx
from donors.imports.readers.common import (
    UNSTORABLE,
    csv_records,
    max_bytes,
    refuse_unstorable,
)
from donors.imports.readers.limits import (
    Deadline,
    Limits,
    cell_too_long,
    too_many_cells,
    too_many_rows,
)
from donors.models import Donor, Gift
from kyosei.money import MAX_AMOUNT, format_yen

PROGRESS_EVERY = 100
PREVIEW_ROWS = 500  # rows kept for the preview table; errors are all kept
MAX_ERRORS = 1000
MAX_PREVIEW_ROWS = 3000  # with every row that has a problem, up to this


class SpreadsheetRefused(Exception):
    """The file or mapping was refused as a whole; nothing was written."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(error_text(e) for e in errors[:5]))


def error_text(error: dict[str, Any]) -> str:
    parts = []
    if error.get("row"):
        parts.append(_("Row %(row)s") % {"row": error["row"]})
    if error.get("column"):
        parts.append(f"“{error['column']}”")
    prefix = ", ".join(parts)
    return f"{prefix}: {error['message']}" if prefix else error["message"]


def _refuse(message: str, *, row: int = 0, column: str = "") -> SpreadsheetRefused:
    return SpreadsheetRefused([{"row": row, "column": column, "message": message}])


# -- the fields staff can map to ----------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A resource column a spreadsheet column can be mapped to."""

    name: str  # the resource's column_name
    label: Any
    aliases: tuple[str, ...] = ()  # header texts that pre-select it
    attribute: str = ""  # model attribute, when it differs (errors are keyed by it)

    @property
    def keys(self) -> set[str]:
        return {header_key(a) for a in (self.name, str(self.label), *self.aliases)}


_l = gettext_lazy
DONOR_TARGETS = (
    Target("id", _l("Kyosei donor number"), ("寄附者ID", "寄附者番号", "donor id")),
    Target("kind", _l("Individual or organisation"), ("種別", "区分")),
    Target("donor_type", _l("Donor type"), ("寄附者区分",)),
    Target("family_name", _l("Family name"), ("姓", "氏", "苗字", "last name")),
    Target("given_name", _l("Given name"), ("名", "first name")),
    Target("family_name_kana", _l("Family name (kana)"), ("セイ", "姓カナ", "せい")),
    Target("given_name_kana", _l("Given name (kana)"), ("メイ", "名カナ", "めい")),
    Target("organisation_name", _l("Organisation name"), ("団体名", "法人名")),
    Target("organisation_name_kana", _l("Organisation name (kana)"), ("団体名カナ",)),
    Target("latin_name", _l("Name in Latin letters"), ("ローマ字", "name")),
    Target("email", _l("Email"), ("メール", "メールアドレス", "e-mail")),
    Target("email_secondary", _l("Second email"), ("メール2",)),
    Target("phone", _l("Phone"), ("電話", "電話番号", "tel")),
    Target("country", _l("Country"), ("国",)),
    Target("postal_code", _l("Postal code"), ("郵便番号", "〒", "zip")),
    Target("prefecture", _l("Prefecture"), ("都道府県",)),
    Target("region", _l("Region (outside Japan)"), ("州",)),
    Target("city", _l("City"), ("市区町村",)),
    Target("address_line1", _l("Address line 1"), ("住所1", "住所", "番地")),
    Target("address_line2", _l("Address line 2"), ("住所2", "建物名")),
    Target("preferred_language", _l("Language"), ("言語",)),
    Target("is_officer", _l("Officer"), ("役員",)),
    Target("officer_since", _l("Officer since"), ("役員就任日",)),
    Target("officer_until", _l("Officer until"), ("役員退任日",)),
    Target("source", _l("Source"), ("経路",)),
    Target("tags", _l("Tags"), ("タグ",)),
    Target("notes", _l("Notes"), ("メモ", "備考")),
)
GIFT_TARGETS = (
    Target("donor_id", _l("Kyosei donor number"), ("寄附者ID", "寄附者番号"), "donor"),
    Target("kind", _l("Kind of gift"), ("種別", "寄附種別")),
    Target("amount", _l("Amount"), ("金額", "寄附金額")),
    Target("currency", _l("Currency"), ("通貨",)),
    Target("amount_yen", _l("Settled yen (foreign currency)"), ("円換算額",)),
    Target("fee_yen", _l("Fee (yen)"), ("手数料",)),
    Target("received_on", _l("Date received"), ("受領日", "入金日", "日付", "date")),
    Target("method", _l("Payment method"), ("方法", "支払方法", "入金方法")),
    Target("fund", _l("Fund code"), ("基金", "基金コード")),
    Target("import_fingerprint", _l("Your reference (unique per gift)"), ("参照番号",)),
)
TARGETS = {"donors": DONOR_TARGETS, "gifts": GIFT_TARGETS}
REQUIRED = {"donors": (), "gifts": ("amount", "received_on")}
# Columns a gift sheet may leave out, filled from the mapping step's defaults.
GIFT_DEFAULTS = ("kind", "method", "fund", "currency")

# Japanese (and English label) spellings of choice values staff type in sheets.
CHOICE_WORDS = {
    "method": {
        "銀行振込": "bank_transfer",
        "振込": "bank_transfer",
        "郵便振替": "postal_transfer",
        "振替": "postal_transfer",
        "現金": "cash",
        "カード": "card",
        "クレジットカード": "card",
        "現物": "in_kind",
        "その他": "other",
    },
    "kind": {
        "寄附": "donation",
        "寄付": "donation",
        "寄附金": "donation",
        "寄付金": "donation",
        "賛助会費": "supporting_fee",
        "正会員会費": "member_dues",
        "会費": "member_dues",
        "現物寄附": "in_kind",
        "現物寄付": "in_kind",
    },
}
for _choices, _name in ((Gift.Method, "method"), (Gift.Kind, "kind")):
    for _value in _choices.values:
        CHOICE_WORDS[_name].setdefault(_value.replace("_", " "), _value)


def header_key(text: Any) -> str:
    """Header text compared loosely: width, case, spaces and underscores."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s_\-・]", "", text)


def target_for(kind: str, name: str) -> Target | None:
    return next((t for t in TARGETS[kind] if t.name == name), None)


def suggest_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Header → field for headers matching a field's name or label (English or
    Japanese); each field is suggested once, to the first matching header."""
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        for target in TARGETS[kind]:
            if target.name not in taken and key in target.keys:
                mapping[header] = target.name
                taken.add(target.name)
                break
    return mapping


# -- reading the file ---------------------------------------------------------------


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[Any]]
    file_format: str  # "csv" | "xlsx"
    encoding: str = ""


_NOT_CP932_TEXT = re.compile("[\ue000-\uf8ff\x80-\x9f]")


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else CP932; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise _refuse(
            _(
                "The file is UTF-16 or binary, not CSV text. In Excel choose "
                "“CSV UTF-8” (or CSV) when saving."
            )
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise _wrong_encoding(data[: exc.start]) from None
    # Python's CP932 maps stray bytes to private-use / C1 characters instead of
    # failing: those mean the file is in neither encoding (EUC-JP, Latin-1...).
    stray = _NOT_CP932_TEXT.search(text)
    if stray:
        raise _wrong_encoding(text[: stray.start()].encode("cp932"))
    return text, "cp932"


def _wrong_encoding(before: bytes) -> SpreadsheetRefused:
    """``before``: the bytes up to the first one that is not text."""
    return _refuse(
        _(
            "The file is neither UTF-8 nor Shift_JIS (CP932) text; save it again "
            "from Excel as “CSV UTF-8”."
        ),
        row=before.count(b"\n") + 1,
    )


def read_sheet(
    data: bytes,
    file_name: str = "",
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> Sheet:
    """Headers and rows of a CSV or XLSX file (first sheet), refusing an empty,
    oversized, unreadable or header-less file, or one past ``limits`` (rows,
    columns, cell length, unpacked size, reading time: see
    :mod:`donors.imports.readers.limits`), with a clear message.

    :class:`SpreadsheetRefused` is the only error it raises. ``progress`` is
    called with the number of rows read every :data:`PROGRESS_READ` rows.
    """
    if not data:
        raise _refuse(_("The file is empty."))
    limit = max_bytes()
    if len(data) > limit:
        raise _refuse(
            _("The file is larger than %(mb)s MB; split it into smaller files.")
            % {"mb": limit // 1048576}
        )
    limits = limits or Limits.from_settings()
    deadline = Deadline(limits.max_seconds)
    try:
        if data.startswith(xlsx.MAGIC):
            file_format, encoding = "xlsx", ""
            raw = xlsx.rows(data, limits, deadline)
        elif file_name.lower().endswith((".xlsx", ".xls")):
            raise _refuse(
                _("This is not an .xlsx workbook; save it as .xlsx or as CSV UTF-8.")
            )
        else:
            text, encoding = _decode(data)
            refuse_unstorable(text)
            file_format = "csv"
            raw = csv_records(text, limits=limits, deadline=deadline)
        headers, rows = _table(raw, limits, progress)
    except ImportRefused as exc:
        raise SpreadsheetRefused(
            [{"row": e.row, "column": "", "message": e.message} for e in exc.errors]
        ) from None
    sheet = Sheet(headers, rows, file_format, encoding)
    if not any(h for h in headers):
        raise _refuse(_("The file is empty."))
    blank = [i for i, h in enumerate(headers) if not h]
    if blank and any(row[i] not in ("", None) for row in sheet.rows for i in blank):
        column = next(
            i for i in blank if any(row[i] not in ("", None) for row in sheet.rows)
        )
        raise _refuse(
            _("Column %(n)s has data but no header; give it a name in row 1.")
            % {"n": column + 1},
            row=1,
        )
    seen: set[str] = set()
    for header in headers:
        if header and header in seen:
            raise _refuse(
                _("Two columns are called “%(h)s”; rename one.") % {"h": header[:80]},
                row=1,
            )
        seen.add(header)
    if not sheet.rows:
        raise _refuse(_("The file has a header row but no data rows."), row=2)
    return sheet


PROGRESS_READ = 1000


def _table(
    raw: Iterator[Sequence[Any]],
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> tuple[list[str], list[list[Any]]]:
    """The first non-blank row as headers and the non-blank rows after it, each
    padded or cut to the headers' width; every text cell checked for length and
    for characters the database cannot store, naming its row and column."""
    headers: list[str] | None = None
    rows: list[list[Any]] = []
    cells = 0
    for number, row in enumerate(raw, 1):
        if not any(cell not in (None, "") and str(cell).strip() for cell in row):
            continue
        _check_cells(row, number, limits)
        cells += len(row)
        if cells > limits.max_cells:
            raise too_many_cells(number, limits)
        if headers is None:
            headers = [
                unicodedata.normalize("NFKC", str(h)).strip() if h is not None else ""
                for h in row
            ]
            continue
        width = len(headers)
        rows.append((list(row) + [None] * width)[:width])
        if len(rows) > limits.max_rows:
            raise too_many_rows(number, limits)
        if progress is not None and len(rows) % PROGRESS_READ == 0:
            progress(len(rows))
    return headers or [], rows


def _check_cells(row: Sequence[Any], number: int, limits: Limits) -> None:
    texts = [(i, cell) for i, cell in enumerate(row) if isinstance(cell, str)]
    if not texts:
        return
    if max(len(cell) for _i, cell in texts) > limits.max_cell_chars:
        raise cell_too_long(number, limits)
    if UNSTORABLE.search("".join(cell for _i, cell in texts)):
        column = next(i for i, cell in texts if UNSTORABLE.search(cell))
        raise ImportRefused(
            [
                RowError(
                    number,
                    _(
                        "column %(n)s holds a NUL or other control character that "
                        "is not text; remove it and save the file again."
                    )
                    % {"n": column + 1},
                )
            ]
        )


# -- mapping the file onto the resource ---------------------------------------------


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> None:
    """Refuse a mapping naming a column the file lacks, an unknown field, a field
    mapped twice, or a gift sheet without amount and date columns."""
    errors = []
    used: dict[str, str] = {}
    for header, name in mapping.items():
        if not name:
            continue
        target = target_for(kind, name)
        if target is None:
            errors.append(
                {"row": 1, "column": header, "message": _("Unknown field %r.") % name}
            )
            continue
        if header not in headers:
            errors.append(
                {
                    "row": 1,
                    "column": header,
                    "message": _(
                        "This column is mapped to “%(f)s” but is not in the file."
                    )
                    % {"f": target.label},
                }
            )
        if name in used:
            errors.append(
                {
                    "row": 1,
                    "column": header,
                    "message": _("“%(f)s” is already mapped from “%(other)s”.")
                    % {"f": target.label, "other": used[name]},
                }
            )
        used[name] = header
    for name in REQUIRED[kind]:
        if name not in used:
            errors.append(
                {
                    "row": 1,
                    "column": "",
                    "message": _("Choose the column that holds “%(f)s”.")
                    % {"f": target_for(kind, name).label},
                }
            )
    if errors:
        raise SpreadsheetRefused(errors)


_AMOUNT_JUNK = re.compile(r"[,¥￥円\s]")
_JA_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def _cell(name: str, value: Any) -> Any:
    """Spreadsheet habits turned into what the resource reads: ``¥10,000``,
    full-width digits, ``2025年4月1日``, 銀行振込, whole-number floats."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            return repr(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if name in ("amount", "amount_yen", "fee_yen"):
        return _AMOUNT_JUNK.sub("", text)
    if name in ("received_on", "officer_since", "officer_until"):
        match = _JA_DATE.match(text)
        if match:
            return "-".join(match.groups())
        return text
    if name in CHOICE_WORDS:
        return CHOICE_WORDS[name].get(
            text.casefold(), CHOICE_WORDS[name].get(text, text)
        )
    if name == "currency":
        return text.upper()
    return text


def mapped_dataset(
    kind: str,
    sheet: Sheet,
    mapping: dict[str, str],
    defaults: dict[str, str] | None = None,
) -> tuple[tablib.Dataset, dict[str, str]]:
    """The sheet with the resource's column names, plus ``field → header`` for
    naming the spreadsheet's column in messages."""
    check_mapping(kind, sheet.headers, mapping)
    defaults = {k: v for k, v in (defaults or {}).items() if v}
    columns = [(sheet.headers.index(h), n) for h, n in mapping.items() if n]
    names = [n for _i, n in columns]
    extra = [n for n in defaults if n not in names]
    if "id" not in names and kind == "donors":
        extra.append("id")
    dataset = tablib.Dataset(headers=names + extra)
    for row in sheet.rows:
        values = [_cell(n, row[i]) for i, n in columns]
        for position, name in enumerate(names):
            if values[position] in ("", None) and name in defaults:
                values[position] = defaults[name]
        values += [defaults.get(n, "") for n in extra]
        dataset.append(values)
    headers = {n: sheet.headers[i] for i, n in columns}
    return dataset, headers


# -- resources ----------------------------------------------------------------------


def plain_field_error(field, value: Any) -> str:
    """What a widget's error means, in words staff can act on."""
    shown = "" if value is None else str(value)
    if isinstance(field.widget, DateWidget):
        return _(
            "“%(v)s” is not a real date; write it as 2025-04-01 or 2025/04/01."
        ) % {"v": shown}
    if isinstance(field.widget, IntWidget):
        return _("“%(v)s” is not a whole number.") % {"v": shown}
    return _("“%(v)s” could not be read.") % {"v": shown}


class _SpreadsheetMixin:
    """Widget errors (ValueError, decimal errors) as plain field errors, and a
    progress callback every :data:`PROGRESS_EVERY` rows."""

    progress: Callable[[int], None] | None = None
    duplicates: dict[int, list[dict[str, Any]]]

    def after_import_row(self, row, row_result, **kwargs):
        super().after_import_row(row, row_result, **kwargs)
        number = kwargs.get("row_number") or 0
        if self.progress is not None and number % PROGRESS_EVERY == 0:
            self.progress(number)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        try:
            return super().import_field(field, instance, row, is_m2m, **kwargs)
        except ValueError as exc:
            message = str(exc)
            if "parsed" in message or "invalid literal" in message or not message:
                message = plain_field_error(field, row.get(field.column_name))
            raise ValueError(message) from None
        except (ArithmeticError, TypeError):
            raise ValueError(
                plain_field_error(field, row.get(field.column_name))
            ) from None


class SpreadsheetDonorResource(_SpreadsheetMixin, DonorResource):
    """Donor rows, each saved row checked with the back office's duplicate
    finder against other active donors (the result is in ``duplicates``)."""

    class Meta(DonorResource.Meta):
        skip_html_diff = True  # "unchanged" needs the diff; the HTML is unused

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.duplicates = {}
        self.created: dict[int, int] = {}  # donor pk -> spreadsheet row

    def save_instance(self, instance, is_create, row, **kwargs):
        super().save_instance(instance, is_create, row, **kwargs)
        if instance.pk is None:
            return
        number = kwargs.get("row_number", 0) + 1
        if is_create:
            self.created[instance.pk] = number
        donor = Donor.objects.get(pk=instance.pk)
        found = []
        for match in duplicates_for_donor(donor)[:5]:
            other = match.donor
            found.append(
                {
                    "id": other.pk,
                    "name": other.display_name("ja"),
                    "email": other.email,
                    "reasons": match.reason_labels,
                    "row": self.created.get(other.pk),
                }
            )
        if found:
            self.duplicates[number] = found

    def import_data(self, dataset, *args, rollback_on_validation_errors=True, **kw):
        return super().import_data(
            dataset,
            *args,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kw,
        )


class SpreadsheetGiftResource(_SpreadsheetMixin, GiftResource):
    """Gift rows; a future date or a zero amount is reported on its column
    before ``gift_record`` would refuse the whole row."""

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.duplicates = {}

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not instance._state.adding:
            return
        received = instance.received_on
        if (
            "received_on" not in errors
            and isinstance(received, dt.date)
            and received > timezone.localdate()
        ):
            errors["received_on"] = [
                _("%(d)s is in the future; a gift is recorded when received.")
                % {"d": received.isoformat()}
            ]
        if "amount" not in errors and instance.amount is not None:
            if instance.amount <= 0:
                errors["amount"] = [_("The amount must be more than zero.")]
            elif instance.amount > MAX_AMOUNT:
                errors["amount"] = [
                    _("%(a)s is more than the largest amount Kyosei records (%(max)s).")
                    % {"a": f"{instance.amount:,}", "max": format_yen(MAX_AMOUNT)}
                ]
        if errors:
            raise ValidationError(errors)


RESOURCES = {"donors": SpreadsheetDonorResource, "gifts": SpreadsheetGiftResource}


# -- the outcome, per row -----------------------------------------------------------

STATUS_WORDS = {
    RowResult.IMPORT_TYPE_NEW: "new",
    RowResult.IMPORT_TYPE_UPDATE: "updated",
    RowResult.IMPORT_TYPE_SKIP: "unchanged",
    RowResult.IMPORT_TYPE_INVALID: "error",
    RowResult.IMPORT_TYPE_ERROR: "error",
}


@dataclass
class Outcome:
    counts: dict[str, int]
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _column_label(kind: str, attribute: str, headers: dict[str, str]) -> str:
    for target in TARGETS[kind]:
        if attribute in (target.name, target.attribute):
            return headers.get(target.name) or str(target.label)
    return headers.get(attribute, attribute)


def outcome_of(
    kind: str,
    result: Result,
    dataset: tablib.Dataset,
    headers: dict[str, str],
    duplicates: dict[int, list[dict[str, Any]]],
) -> Outcome:
    """Counts and rows (new / updated / unchanged / error) with errors named by
    spreadsheet row and column, from an import-export result."""
    counts = {"rows": len(dataset), "new": 0, "updated": 0, "unchanged": 0}
    counts.update({"error": 0, "duplicates": 0})
    errors: list[dict[str, Any]] = []
    row_errors: dict[int, list[dict[str, Any]]] = {}
    for invalid in result.invalid_rows:
        number = invalid.number + 1
        for attribute, messages in invalid.error_dict.items():
            column = (
                ""
                if attribute == NON_FIELD_ERRORS
                else _column_label(kind, attribute, headers)
            )
            for message in messages:
                row_errors.setdefault(number, []).append(
                    {"row": number, "column": column, "message": str(message)}
                )
    for error_row in result.row_errors():
        number, problems = error_row
        for problem in problems:
            row_errors.setdefault(number + 1, []).append(
                {
                    "row": number + 1,
                    "column": "",
                    "message": _("This row could not be imported: %(e)s")
                    % {"e": problem.error},
                }
            )
    for problem in result.base_errors:
        errors.append(
            {
                "row": 0,
                "column": "",
                "message": _("The import failed: %(e)s") % {"e": problem.error},
            }
        )
    rows = []
    for index, row_result in enumerate(result.rows):
        number = index + 2
        status = STATUS_WORDS.get(row_result.import_type, "error")
        problems = row_errors.get(number, [])
        if problems:
            status = "error"
        counts[status] += 1
        found = duplicates.get(number, [])
        if found:
            counts["duplicates"] += 1
        errors.extend(problems[: max(0, MAX_ERRORS - len(errors))])
        if len(rows) < PREVIEW_ROWS or (
            (problems or found) and len(rows) < MAX_PREVIEW_ROWS
        ):
            rows.append(
                {
                    "row": number,
                    "status": status,
                    "summary": _row_summary(kind, dataset.dict[index]),
                    "errors": problems,
                    "duplicates": found,
                    "object_id": row_result.object_id
                    if status in ("updated", "unchanged")
                    else None,
                }
            )
    return Outcome(counts=counts, rows=rows, errors=errors)


def _row_summary(kind: str, values: dict[str, Any]) -> str:
    if kind == "donors":
        parts = [
            " ".join(
                str(values.get(n) or "") for n in ("family_name", "given_name")
            ).strip()
            or str(values.get("organisation_name") or "")
            or str(values.get("latin_name") or ""),
            str(values.get("email") or ""),
        ]
    else:
        parts = [
            str(values.get("received_on") or ""),
            f"{values.get('amount') or ''} {values.get('currency') or ''}".strip(),
            f"#{values['donor_id']}" if values.get("donor_id") else "",
        ]
    return " · ".join(p for p in parts if p)
