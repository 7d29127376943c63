"""The ledger's ``source_type`` keeps its column and index but loses its database
foreign-key constraint (see ``LedgerEntry.source_type``): PostgreSQL checked it
row by row at the commit of every import.

Dropped by name on PostgreSQL (``drop_fk_constraints``), not through
``AlterField``, which on SQLite would rebuild the table and lose the ledger's
append-only triggers; SQLite keeps the constraint."""

import django.db.models.deletion
from django.db import migrations, models

from kyosei.migration_ops import drop_fk_constraints


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("grants", "0004_ledger_partial_fk_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="source_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                drop_fk_constraints("grants", "LedgerEntry", ["source_type"])
            ],
        ),
    ]
