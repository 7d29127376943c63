"""Ledger entries: partial indexes on budget line, reversal and poster (most
entries have none), instead of full ones. The old indexes are dropped by name:
``AlterField`` would rebuild the table on SQLite and lose the append-only
triggers of migration 0002."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from kyosei.migration_ops import drop_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("grants", "0003_ledger_no_redundant_fk_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="budget_line",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="grants.budgetline",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="posted_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="reverses",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversals",
                        to="grants.ledgerentry",
                        verbose_name="reverses",
                    ),
                ),
            ],
            database_operations=[
                drop_fk_indexes(
                    "grants",
                    "LedgerEntry",
                    ["budget_line_id", "posted_by_id", "reverses_id"],
                )
            ],
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("budget_line__isnull", False)),
                fields=["budget_line"],
                name="ledger_budget_line",
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("reverses__isnull", False)),
                fields=["reverses"],
                name="ledger_reverses",
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("posted_by__isnull", False)),
                fields=["posted_by"],
                name="ledger_posted_by",
            ),
        ),
    ]
