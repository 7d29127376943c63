"""Import rows' links to their batch, donor and gift lose their database
foreign-key constraints, and the link to the gift its index (rows are read by
batch): PostgreSQL checked the three row by row at the commit of every import,
~2 s of a 100,000-row statement. See ``ImportRow``."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donor_imports", "0004_importrow_no_redundant_batch_index"),
        ("donors", "0006_gift_partial_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="importrow",
            name="batch",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rows",
                to="donor_imports.importbatch",
            ),
        ),
        migrations.AlterField(
            model_name="importrow",
            name="donor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="donors.donor",
            ),
        ),
        migrations.AlterField(
            model_name="importrow",
            name="gift",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="donors.gift",
            ),
        ),
    ]
