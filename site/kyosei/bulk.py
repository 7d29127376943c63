"""Helpers for bulk work (imports of 100,000 rows, undoing them).

:func:`reserve_ids`, :func:`insert_rows` and :func:`update_rows` write plain rows
fast (COPY on PostgreSQL) for services that keep the models' invariants
themselves: no ``save()``, no signals.

:func:`cyclic_gc_paused`: CPython's cyclic garbage collector runs each time 700
more container objects are alive than before, and every few runs it walks all
of them. A bulk import builds a few objects per row (the statement line, the
planned row, the gift, its ledger posting) and keeps them to the end, so the
collector walks an ever larger heap over and over: measured on a 100,000-row
transfer import it took a third of the process's time (8.3 s of CPU → 5.5 s
without it). Reference counting still frees everything that is not a cycle;
cycles made meanwhile wait until the collector is back on.

Database errors: PostgreSQL's message for a failed COPY or bulk UPDATE holds the
offending row's values (``DETAIL: Failing row contains (…, 山田, …)``, ``Key
(email)=(…)``, ``CONTEXT: COPY t, line 3: "…"``), which would end up in logs and
task results. :func:`insert_rows` and :func:`update_rows` raise Django's
exception of the same kind (``IntegrityError``, ``DataError`` …) with the
SQLSTATE, the table, the column or constraint and the COPY line only
(:class:`BulkWriteError` attributes), never the values.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.db import utils as db_utils
from django.db.models.expressions import RawSQL
from django.utils import timezone

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Turn the cyclic garbage collector off for the block, then back on if it
    was on. Nested and concurrent blocks (threads) share one pause: the
    collector comes back when the last block ends."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for ``count`` rows of ``model`` inserted soon by the caller,
    so related rows can point at each other without a second UPDATE pass.

    PostgreSQL: drawn from the table's sequence. Other databases (SQLite): above
    the highest id ever used; safe because SQLite admits one writer and the
    caller runs inside its write transaction.
    """
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
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # nosec B608  # names: the model's, quoted; values: parameters or COPY
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
            _copy(
                cursor,
                model._meta.db_table,
                f"COPY {table} ({names}) FROM STDIN",
                rows,
                json_at,
                tail,
            )
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # nosec B608  # names: the model's, quoted; values: parameters or COPY
            [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(columns, (*row, *rest_values), strict=True)
                ]
                for row in rows
            ],
        )


def _copy(
    cursor, table: str, sql: str, rows: Iterable[Sequence], json_at: list[int], tail=()
):
    """Stream ``rows`` (each followed by ``tail``) into a ``COPY … FROM STDIN``;
    the values at ``json_at`` go as JSON text, which the server parses. A
    database error is raised without the row's values (:func:`_values_withheld`)."""
    try:
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = _json_text(row[i])
                copy.write_row((*row, *tail))
    except connection.Database.Error as exc:
        raise _values_withheld(exc, table, "COPY into") from None


class BulkWriteError:
    """Attributes of the errors :func:`_values_withheld` raises (a mixin to
    Django's database exceptions): ``sqlstate``, ``table``, ``column``,
    ``constraint`` and ``line`` (the COPY's row number, from 1) — each None
    when PostgreSQL did not say."""

    sqlstate: str | None = None
    table: str | None = None
    column: str | None = None
    constraint: str | None = None
    line: int | None = None


_DJANGO_ERRORS = (
    db_utils.DataError,
    db_utils.OperationalError,
    db_utils.IntegrityError,
    db_utils.InternalError,
    db_utils.ProgrammingError,
    db_utils.NotSupportedError,
    db_utils.DatabaseError,
    db_utils.InterfaceError,
    db_utils.Error,
)
# BulkIntegrityError(BulkWriteError, IntegrityError) … one per Django class.
_BULK_ERRORS = {
    cls: type(f"Bulk{cls.__name__}", (BulkWriteError, cls), {})
    for cls in _DJANGO_ERRORS
}
_COPY_PLACE = re.compile(r"^COPY \S+, line (\d+)(?:, column ([^:]+))?")


def _values_withheld(exc: BaseException, table: str, statement: str) -> Exception:
    """Django's exception of the same kind as the driver's ``exc``, saying what
    failed and where, but not the values PostgreSQL quoted in its message
    (the primary message too can quote one: ``invalid input syntax for type
    integer: "…"``), so it is built from the error's structured fields."""
    driver_error = exc.__cause__ if isinstance(exc, DatabaseError) else exc
    diag = getattr(driver_error, "diag", None)
    sqlstate = getattr(driver_error, "sqlstate", None)
    column = getattr(diag, "column_name", None)
    constraint = getattr(diag, "constraint_name", None)
    line = None
    place = _COPY_PLACE.match(getattr(diag, "context", None) or "")
    if place:
        line = int(place.group(1))
        column = column or (place.group(2) or "").strip() or None
    django_class = next(
        (
            cls
            for cls in _DJANGO_ERRORS
            if isinstance(exc, cls)
            or isinstance(exc, getattr(connection.Database, cls.__name__, ()))
        ),
        db_utils.DatabaseError,
    )
    where = f"{statement} {table}" + (f", line {line}" if line else "")
    detail = ", ".join(
        part
        for part in (
            f"SQLSTATE {sqlstate} ({type(driver_error).__name__})"
            if sqlstate
            else type(driver_error).__name__,
            f"column {column}" if column else "",
            f"constraint {constraint}" if constraint else "",
        )
        if part
    )
    error = _BULK_ERRORS[django_class](
        f"{where} failed: {detail} (row values withheld)"
    )
    error.sqlstate, error.table, error.column = sqlstate, table, column
    error.constraint, error.line = constraint, line
    # As Django's own wrapper does: the connection may be unusable after this.
    if django_class not in (db_utils.DataError, db_utils.IntegrityError):
        connection.errors_occurred = True
    return error


def _json_text(value) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    return _JSON.encode(value)


_JSON = DjangoJSONEncoder()


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Set ``fields`` (attnames) on many rows of ``model`` at once: each row is
    ``(pk, *values)``. PostgreSQL: the values are copied into a temporary table
    and applied by one ``UPDATE … FROM`` (Django's ``bulk_update`` builds a
    ``CASE`` of every id per field, minutes for 100,000 rows); elsewhere
    ``executemany``. No ``save()``, no signals, no ``auto_now``."""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    columns = [by_name[name] for name in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    json_at = [i for i, f in enumerate(columns, 1) if isinstance(f, models.JSONField)]
    # Atomic: the temporary table lives until the end of the transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(quote(f.column) for f in columns)
            cursor.execute(
                f"CREATE TEMPORARY TABLE kyosei_bulk_update ON COMMIT DROP AS "  # nosec B608  # names: the model's, quoted; values: parameters or COPY
                f"SELECT {pk}, {names} FROM {table} WITH NO DATA"
            )
            _copy(
                cursor, model._meta.db_table,
                f"COPY kyosei_bulk_update ({pk}, {names}) FROM STDIN", rows, json_at,
            )  # fmt: skip
            sets = ", ".join(
                f"{quote(f.column)} = source.{quote(f.column)}" for f in columns
            )
            try:
                cursor.execute(
                    f"UPDATE {table} SET {sets} FROM kyosei_bulk_update AS source "  # nosec B608  # names: the model's, quoted; values: parameters or COPY
                    f"WHERE {table}.{pk} = source.{pk}"
                )
            except DatabaseError as exc:
                raise _values_withheld(exc, model._meta.db_table, "UPDATE of") from None
            cursor.execute("DROP TABLE kyosei_bulk_update")
            return
        sets = ", ".join(f"{quote(f.column)} = %s" for f in columns)
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # nosec B608  # names: the model's, quoted; values: parameters or COPY
            [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(columns, row[1:], strict=True)
                ]
                + [row[0]]
                for row in rows
            ],
        )


def ids_in(ids: Iterable[int]):
    """A value for ``pk__in=`` (or any ``__in``) that sends many ids as one
    array parameter on PostgreSQL, instead of one placeholder per id (100,000
    placeholders take seconds to build, send and plan); a plain list elsewhere.
    """
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids
