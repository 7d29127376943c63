"""Move ``view_giving_totals`` from Donor to GivingTotalsReport, a model of no rows.

Wagtail lists every audit entry of a model to anyone holding any permission on
it, so the Board's aggregate permission on Donor exposed donors' names in the
site history. The old permission row is deleted (whoever held it directly gets
the new one) and the role groups are synced to ``kyosei.roles``.
"""

from django.db import migrations, models

from kyosei.roles import Role, sync_role_groups

CODENAME = "view_giving_totals"


def move_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    old = Permission.objects.filter(
        content_type__app_label="donors",
        content_type__model="donor",
        codename=CODENAME,
    ).first()
    users, groups = [], []
    if old is not None:
        users = list(old.user_set.all())
        groups = list(old.group_set.all())
        old.delete()
    # Creates the new permission and gives the role groups exactly their table.
    sync_role_groups(apps, schema_editor)
    new = Permission.objects.get(
        content_type__app_label="donors",
        content_type__model="givingtotalsreport",
        codename=CODENAME,
    )
    for user in users:
        user.user_permissions.add(new)
    # Role groups hold what the table says; any other group keeps what it had.
    for group in groups:
        if group.name not in set(Role.values):
            group.permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0008_gift_fund_unconstrained"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="GivingTotalsReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
            ],
            options={
                "verbose_name": "giving totals report",
                "permissions": [
                    (CODENAME, "Can view giving totals (no personal data)")
                ],
                "default_permissions": (),
            },
        ),
        migrations.AlterModelOptions(
            name="donor",
            options={
                "ordering": ["family_name_kana", "given_name_kana", "id"],
                "permissions": [
                    ("merge_donor", "Can merge donors"),
                    ("export_donor", "Can export donors"),
                ],
                "verbose_name": "donor",
            },
        ),
        migrations.RunPython(move_permission, migrations.RunPython.noop),
    ]
