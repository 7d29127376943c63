"""Drop the single-column index on import rows' batch: ``importrow_outcome``
(batch, outcome) leads with it. Dropped by name, not through ``AlterField``,
which on PostgreSQL would also drop and re-validate the foreign key."""

import django.db.models.deletion
from django.db import migrations, models

from kyosei.migration_ops import drop_fk_indexes



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
            database_operations=[
                drop_fk_indexes("donor_imports", "ImportRow", ["batch_id"])
            ],
        ),
    ]
