"""Drop the single-column index on import rows' batch: ``importrow_outcome``
(batch, outcome) leads with it. Dropped by name, not through ``AlterField``,
which on PostgreSQL would also drop and re-validate the foreign key."""

import django.db.models.deletion
from django.db import migrations, models


def _index_name(apps, schema_editor):
    model = apps.get_model("donor_imports", "ImportRow")
    # The name Django gave the foreign key's own index (``_create_index_sql``).
    name = schema_editor._create_index_name(model._meta.db_table, ["batch_id"], "")
    return model, schema_editor.quote_name(name)


def drop(apps, schema_editor):
    _model, name = _index_name(apps, schema_editor)
    schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore(apps, schema_editor):
    model, name = _index_name(apps, schema_editor)
    table = schema_editor.quote_name(model._meta.db_table)
    schema_editor.execute(f'CREATE INDEX {name} ON {table} ("batch_id")')


class Migration(migrations.Migration):
    dependencies = [
        ("donor_imports", "0003_spreadsheet_import"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importrow",
                    name="batch",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rows",
                        to="donor_imports.importbatch",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        ),
    ]
