"""Migration operations shared by the apps' migrations."""

from __future__ import annotations

from functools import partial

from django.core.files.storage import storages
from django.db import migrations, transaction

from kyosei.private_files import PRIVATE, RandomName


def drop_fk_indexes(app_label: str, model_name: str, columns: list[str]):
    """A reversible ``RunPython`` that drops, by name, the single-column indexes
    Django created for the foreign keys ``columns`` (attnames, ``fund_id``).

    Pair it with ``SeparateDatabaseAndState`` whose state operations are the
    ``AlterField(..., db_index=False)``: a plain ``AlterField`` would drop and
    re-validate the foreign keys on PostgreSQL and rebuild the table on SQLite,
    losing triggers such as the ledger's append-only ones.
    """

    def _names(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        table = model._meta.db_table
        # The names Django gives foreign keys' own indexes (``_create_index_sql``).
        return model, [
            schema_editor._create_index_name(table, [column], suffix="")
            for column in columns
        ]

    def drop(apps, schema_editor):
        _model, names = _names(apps, schema_editor)
        for name in names:
            schema_editor.execute(
                f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}"
            )

    def restore(apps, schema_editor):
        model, names = _names(apps, schema_editor)
        table = schema_editor.quote_name(model._meta.db_table)
        for name, column in zip(names, columns, strict=True):
            schema_editor.execute(
                f"CREATE INDEX {schema_editor.quote_name(name)} "
                f"ON {table} ({schema_editor.quote_name(column)})"
            )

    return migrations.RunPython(drop, restore)


def drop_fk_constraints(app_label: str, model_name: str, fields: list[str]):
    """A reversible ``RunPython`` that drops the database foreign-key
    constraints of ``fields`` (field names) on PostgreSQL, keeping the columns
    and their indexes. Pair it with ``SeparateDatabaseAndState`` whose state
    operations are the ``AlterField(..., db_constraint=False)``.

    SQLite keeps its constraints: removing one there means rebuilding the
    table, which would lose triggers such as the ledger's append-only ones, and
    SQLite (the embedded demo database) is not where bulk imports must be fast.
    """

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in fields:
            column = model._meta.get_field(name).column
            for constraint in schema_editor._constraint_names(
                model, [column], foreign_key=True
            ):
                schema_editor.execute(schema_editor._delete_fk_sql(model, constraint))

    def restore(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in fields:
            field = model._meta.get_field(name)
            schema_editor.execute(
                schema_editor._create_fk_sql(
                    model, field, "_fk_%(to_table)s_%(to_column)s"
                )
            )

    return migrations.RunPython(drop, restore)


def move_files_to_private(app_label: str, model_name: str, field: str, prefix: str):
    """A ``RunPython`` moving the files of ``field`` that still sit in the public
    media folder (the default storage, where they were written before they became
    private) into the private storage under a random name (``prefix``), and
    pointing the rows at them. Rows whose file is not in the public folder are
    left alone, so it can run again.

    The public copies are deleted only once the migration commits; if it rolls
    back, the private copies are orphans for ``cleanup_orphan_files``. The
    reverse does nothing: files stay private.
    """

    def forward(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        public, private = storages["default"], storages[PRIVATE]
        name_for = RandomName(prefix)
        rows = model._base_manager.exclude(**{field: ""}).values_list("pk", field)
        for pk, old in rows.iterator():
            if not public.exists(old):
                continue
            with public.open(old, "rb") as source:
                new = private.save(name_for(None, old), source)
            model._base_manager.filter(pk=pk).update(**{field: new})
            transaction.on_commit(partial(public.delete, old))

    return migrations.RunPython(forward, migrations.RunPython.noop)
