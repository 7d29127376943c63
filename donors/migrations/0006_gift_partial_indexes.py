"""Gifts: fewer, smaller indexes (a 100,000-row transfer import writes 100,000
gifts, and each index costs every one of them).

- The Stripe ids and the import fingerprint are unique where set: partial unique
  indexes, so gifts without one cost no entry, and no pattern-match (LIKE) twin.
- Campaign and recurring gift get partial indexes (most gifts have neither).
- Donor's own index goes (``gift_donor_date`` leads with donor); received by is
  never searched by. These four are dropped by name (see ``drop_fk_indexes``).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from kyosei.migration_ops import drop_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0005_gift_acknowledged_at"),
        ("grants", "0003_ledger_no_redundant_fk_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="gift",
                    name="campaign",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.WAGTAIL_PAGE_MODEL,
                        verbose_name="campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="gift",
                    name="donor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="Empty for a gift whose giver is unknown (e.g. a cash box).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="gifts",
                        to="donors.donor",
                    ),
                ),
                migrations.AlterField(
                    model_name="gift",
                    name="received_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="received by",
                    ),
                ),
                migrations.AlterField(
                    model_name="gift",
                    name="recurring_gift",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="gifts",
                        to="donors.recurringgift",
                    ),
                ),
            ],
            database_operations=[
                drop_fk_indexes(
                    "donors",
                    "Gift",
                    ["campaign_id", "donor_id", "received_by_id", "recurring_gift_id"],
                )
            ],
        ),
        migrations.AlterField(
            model_name="gift",
            name="import_fingerprint",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="gift",
            name="stripe_charge_id",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AlterField(
            model_name="gift",
            name="stripe_invoice_id",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddIndex(
            model_name="gift",
            index=models.Index(
                condition=models.Q(("campaign__isnull", False)),
                fields=["campaign"],
                name="gift_campaign",
            ),
        ),
        migrations.AddIndex(
            model_name="gift",
            index=models.Index(
                condition=models.Q(("recurring_gift__isnull", False)),
                fields=["recurring_gift"],
                name="gift_recurring",
            ),
        ),
        migrations.AddConstraint(
            model_name="gift",
            constraint=models.UniqueConstraint(
                condition=models.Q(("stripe_charge_id__isnull", False)),
                fields=("stripe_charge_id",),
                name="gift_stripe_charge_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="gift",
            constraint=models.UniqueConstraint(
                condition=models.Q(("stripe_invoice_id__isnull", False)),
                fields=("stripe_invoice_id",),
                name="gift_stripe_invoice_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="gift",
            constraint=models.UniqueConstraint(
                condition=models.Q(("import_fingerprint__isnull", False)),
                fields=("import_fingerprint",),
                name="gift_import_fingerprint_unique",
            ),
        ),
    ]
