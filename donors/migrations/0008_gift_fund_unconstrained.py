"""A gift's fund (a copy of its ledger entry's fund) keeps its index but loses
its database foreign-key constraint; see ``Gift.fund``."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0007_gift_ledger_entry_unconstrained"),
        ("grants", "0005_ledger_source_type_unconstrained"),
    ]

    operations = [
        migrations.AlterField(
            model_name="gift",
            name="fund",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="gifts",
                to="grants.fund",
                verbose_name="fund",
            ),
        ),
    ]
