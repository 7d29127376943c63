from django.db import migrations

from kyosei.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [("donors", "0002_initial"), ("grants", "0002_append_only_general_fund_roles")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
