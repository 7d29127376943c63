from django.db import migrations

from kyosei.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [("receipts", "0001_initial")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
