"""Applying an import posts money: its own permission (Finance and Admin), apart
from uploading and previewing (Fundraiser too). Role groups are synced to
``kyosei.roles``."""

from django.db import migrations

from kyosei.roles import sync_role_groups


class Migration(migrations.Migration):

    dependencies = [
        ('donor_imports', '0007_uploads_private_storage'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='importbatch',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('undo_importbatch', 'Can undo a transfer import'), ('apply_importbatch', 'Can apply a transfer import')], 'verbose_name': 'transfer import'},
        ),
        migrations.AlterModelOptions(
            name='spreadsheetimport',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('apply_spreadsheetimport', 'Can apply a spreadsheet import')], 'verbose_name': 'spreadsheet import'},
        ),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
