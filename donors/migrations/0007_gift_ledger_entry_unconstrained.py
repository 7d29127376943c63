"""A gift's link to its ledger entry keeps its unique index but loses its
database foreign-key constraint (see ``Gift.ledger_entry``): PostgreSQL checked
it row by row at the commit of every import, locking each new entry again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0006_gift_partial_indexes"),
        ("grants", "0004_ledger_partial_fk_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="gift",
            name="ledger_entry",
            field=models.OneToOneField(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="grants.ledgerentry",
            ),
        ),
    ]
