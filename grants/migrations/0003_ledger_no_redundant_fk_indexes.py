"""Drop the single-column indexes on ledger entries' fund and source type.

``ledger_fund_date_amount`` (fund, entry_date) and ``ledger_source``
(source_type, source_id) lead with the same columns and serve the same lookups;
the extra two only slowed every insert (a 100,000-row transfer import posts
100,000 entries). The indexes are dropped by name rather than through
``AlterField``: on SQLite that would rebuild the table and lose the append-only
triggers of migration 0002, and on PostgreSQL it would drop and re-validate the
foreign keys for nothing.
"""

import django.db.models.deletion
from django.db import migrations, models

from kyosei.migration_ops import drop_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("grants", "0002_append_only_general_fund_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="fund",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="grants.fund",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="source_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                drop_fk_indexes("grants", "LedgerEntry", ["fund_id", "source_type_id"])
            ],
        ),
    ]
