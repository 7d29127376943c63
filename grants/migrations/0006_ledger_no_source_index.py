"""Drop the unused ledger_source index (no query looks entries up by source)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('grants', '0005_ledger_source_type_unconstrained'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ledgerentry',
            name='ledger_source',
        ),
    ]
