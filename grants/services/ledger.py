"""Posting to the fund ledger. Every write of money in or out goes through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from grants.errors import LedgerError
from grants.models import Account, BudgetLine, Fund, LedgerEntry
from kyosei.audit import audit_log


@transaction.atomic
def ledger_post(
    *,
    fund: Fund,
    account: str,
    amount_yen: int,
    entry_date: dt.date,
    source: models.Model | None = None,
    memo: str = "",
    budget_line: BudgetLine | None = None,
    posted_by: AbstractBaseUser | None = None,
) -> LedgerEntry:
    """Append one signed yen entry. Refuses zero, non-integers, unknown accounts,
    a closed fund, a date after the fund closed, and a budget line of another fund.
    The caller's transaction holds the entry together with its source."""
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int):
        raise LedgerError(_("Ledger amounts are whole yen (an integer)."))
    if amount_yen == 0:
        raise LedgerError(_("A ledger entry cannot be zero."))
    if account not in Account.values:
        raise LedgerError(_("Unknown account %(account)r.") % {"account": account})
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if fund.closed_on is not None:
        raise LedgerError(
            _("Fund “%(fund)s” was closed on %(date)s; it accepts no postings.")
            % {"fund": fund.name, "date": fund.closed_on}
        )
    if budget_line is not None and budget_line.fund_id != fund.pk:
        raise LedgerError(_("The budget line belongs to another fund."))
    entry = LedgerEntry.objects.create(
        fund=fund,
        account=account,
        amount_yen=amount_yen,
        entry_date=entry_date,
        source_type=ContentType.objects.get_for_model(source) if source else None,
        source_id=str(source.pk) if source else "",
        memo=memo[:300],
        budget_line=budget_line,
        posted_by=posted_by,
    )
    return entry


@transaction.atomic
def ledger_reverse(
    *,
    entry: LedgerEntry,
    entry_date: dt.date,
    amount_yen: int | None = None,
    memo: str = "",
    source: models.Model | None = None,
    posted_by: AbstractBaseUser | None = None,
) -> LedgerEntry:
    """Post the opposite of ``entry`` (all of what is left, or ``amount_yen`` of it).

    Reversals may be partial (a partial refund) but never exceed the original.
    Closed funds still accept reversals: a correction must always be possible.
    """
    original = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if original.reverses_id is not None:
        raise LedgerError(_("A reversing entry cannot itself be reversed."))
    already = original.reversals.aggregate(total=Sum("amount_yen"))["total"] or 0
    remaining = original.amount_yen + already
    if remaining == 0:
        raise LedgerError(_("This entry has already been reversed in full."))
    if amount_yen is not None and (
        isinstance(amount_yen, bool)
        or not isinstance(amount_yen, int)
        or amount_yen <= 0
    ):
        raise LedgerError(_("A reversal amount is a positive number of yen."))
    amount = abs(remaining) if amount_yen is None else amount_yen
    if amount > abs(remaining):
        raise LedgerError(
            _("Cannot reverse ¥%(amount)s: only ¥%(left)s of the entry is left.")
            % {"amount": f"{amount:,}", "left": f"{abs(remaining):,}"}
        )
    signed = -amount if original.amount_yen > 0 else amount
    reversal = LedgerEntry.objects.create(
        fund=original.fund,
        account=original.account,
        amount_yen=signed,
        entry_date=entry_date,
        source_type=ContentType.objects.get_for_model(source)
        if source
        else original.source_type,
        source_id=str(source.pk) if source else original.source_id,
        memo=(memo or _("Reversal of entry %(id)s") % {"id": original.pk})[:300],
        budget_line=original.budget_line,
        reverses=original,
        posted_by=posted_by,
    )
    audit_log(
        reversal,
        "grants.ledger.reversed",
        user=posted_by,
        data={"reverses": original.pk, "amount_yen": signed},
    )
    return reversal


@transaction.atomic
def ledger_reverse_many(
    *,
    entry_ids: Sequence[int],
    entry_date: dt.date,
    memos: Sequence[str],
    posted_by: AbstractBaseUser | None = None,
) -> list[int]:
    """Reverse all that is left of each entry in ``entry_ids`` at once (undoing an
    import): :func:`ledger_reverse`'s rules for every entry — not itself a
    reversal, something left to reverse — checked before anything is written,
    the originals locked in id order. No audit row per reversal: the caller
    writes one for the whole operation. Returns the reversals' ids, in order."""
    if len(memos) != len(entry_ids):
        raise ValueError("one memo per entry")
    originals = {
        row[0]: row
        for row in LedgerEntry.objects.select_for_update()
        .filter(pk__in=entry_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "fund_id",
            "account",
            "amount_yen",
            "source_type_id",
            "source_id",
            "budget_line_id",
            "reverses_id",
        )
    }
    already = dict(
        LedgerEntry.objects.filter(reverses_id__in=entry_ids)
        .values("reverses_id")
        .annotate(total=Sum("amount_yen"))
        .values_list("reverses_id", "total")
    )
    rows = []
    for entry_id, memo in zip(entry_ids, memos, strict=True):
        original = originals.get(entry_id)
        if original is None:
            raise LedgerError(
                _("Ledger entry %(id)s does not exist.") % {"id": entry_id}
            )
        pk, fund_id, account, amount, type_id, source_id, line_id, reverses = original
        if reverses is not None:
            raise LedgerError(_("A reversing entry cannot itself be reversed."))
        remaining = amount + already.get(pk, 0)
        if remaining == 0:
            raise LedgerError(_("This entry has already been reversed in full."))
        rows.append(
            (fund_id, account, -remaining, entry_date, type_id, source_id,
             memo[:300], line_id, pk)
        )  # fmt: skip
    ids = reserve_ids(LedgerEntry, len(rows))
    posted_by_id = posted_by.pk if posted_by is not None else None
    insert_rows(
        LedgerEntry,
        ["id", "fund_id", "account", "amount_yen", "entry_date", "source_type_id",
         "source_id", "memo", "budget_line_id", "reverses_id", "posted_by_id"],
        ((pk, *row, posted_by_id) for pk, row in zip(ids, rows, strict=True)),
    )  # fmt: skip
    return ids


@dataclass(frozen=True)
class Posting:
    """One entry for :func:`ledger_post_many`; ``source_id`` is the source's pk."""

    fund: Fund
    account: str
    amount_yen: int
    entry_date: dt.date
    source_type: ContentType | None = None
    source_id: str = ""
    memo: str = ""


@transaction.atomic
def ledger_post_many(
    *,
    postings: Sequence[Posting],
    posted_by: AbstractBaseUser | None = None,
) -> list[int]:
    """Append many entries at once (imports): the same rules as
    :func:`ledger_post` (whole non-zero yen, known account, open fund), checked
    for every posting before anything is written; each distinct fund is locked
    once, in id order. Returns the new entries' ids, in the order given."""
    funds: dict[int, Fund] = {}
    accounts = set(Account.values)
    for posting in postings:
        amount = posting.amount_yen
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LedgerError(_("Ledger amounts are whole yen (an integer)."))
        if amount == 0:
            raise LedgerError(_("A ledger entry cannot be zero."))
        if posting.account not in accounts:
            raise LedgerError(
                _("Unknown account %(account)r.") % {"account": posting.account}
            )
        funds[posting.fund.pk] = posting.fund
    locked = Fund.objects.select_for_update().filter(pk__in=sorted(funds))
    for fund in locked.order_by("pk"):
        if fund.closed_on is not None:
            raise LedgerError(
                _("Fund “%(fund)s” was closed on %(date)s; it accepts no postings.")
                % {"fund": fund.name, "date": fund.closed_on}
            )
    ids = reserve_ids(LedgerEntry, len(postings))
    posted_by_id = posted_by.pk if posted_by is not None else None
    insert_rows(
        LedgerEntry,
        [
            "id",
            "fund_id",
            "account",
            "amount_yen",
            "entry_date",
            "source_type_id",
            "source_id",
            "memo",
            "posted_by_id",
        ],
        (
            (
                pk,
                p.fund.pk,
                p.account,
                p.amount_yen,
                p.entry_date,
                p.source_type.pk if p.source_type else None,
                p.source_id,
                p.memo[:300],
                posted_by_id,
            )
            for p, pk in zip(postings, ids, strict=True)
        ),
    )
    return ids


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for ``count`` rows of ``model`` inserted soon by the caller,
    so related rows can point at each other without a second UPDATE pass.

    PostgreSQL: drawn from the table's sequence. Other databases (SQLite): above
    the highest id ever used; safe because SQLite admits one writer and the
    caller runs inside its write transaction.
    """
    from django.db import connection

    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name first: pg_get_serial_sequence() inside the
            # nextval() would be looked up again for every row (5× slower).
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column]
            )
            sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [sequence, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
        top = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
    return list(range(top + 1, top + 1 + count))


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Insert plain rows into ``model``'s table, fast, for bulk imports.

    ``fields`` are attnames (``fund_id``); include the primary key when related
    rows must point at the new rows (see :func:`reserve_ids`), else leave it out
    and the database numbers them. Every other column gets the field's default,
    evaluated once per call (``auto_now``/``auto_now_add`` get now).
    PostgreSQL: one ``COPY … FROM STDIN``, an order of magnitude faster than
    multi-row INSERTs and model instances; elsewhere ``executemany``.
    Constraints and triggers apply as for any insert. No ``save()``, no
    signals: callers keep the model's invariants.
    """
    from django.db import connection
    from django.utils import timezone

    by_name = {f.attname: f for f in model._meta.concrete_fields}
    given = [by_name[name] for name in fields]
    # The columns not given, with the value each gets. A nullable column whose
    # default is None is left out of the statement: the database stores NULL,
    # the same, for less to send; so is one with a database default.
    now = timezone.now()
    rest: list[models.Field] = []
    rest_values: list = []
    for field in model._meta.concrete_fields:
        if field.attname in fields or field.primary_key or field.has_db_default():
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if value is None and field.null:
            continue
        rest.append(field)
        rest_values.append(value)
    columns = given + rest
    names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    json_at = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
    tail = tuple(
        _json_text(v) if isinstance(f, models.JSONField) else v
        for f, v in zip(rest, rest_values, strict=True)
    )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format is parsed by the column's type, so the tail's
            # timestamps go as text made once, not formatted again on every row.
            tail = tuple(
                v.isoformat() if isinstance(v, dt.datetime) else v for v in tail
            )
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            # As JSON text: the server parses it into jsonb.
                            row[i] = _json_text(row[i])
                    copy.write_row((*row, *tail))
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(columns, (*row, *rest_values), strict=True)
                ]
                for row in rows
            ],
        )


def _json_text(value) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    return _JSON.encode(value)


_JSON = DjangoJSONEncoder()
