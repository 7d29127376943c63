from django.db import migrations, models
from django.db.models import F


def mark_existing(apps, schema_editor):
    # Gifts recorded before the field existed were acknowledged by then (or never
    # will be): do not let the hourly retry email their donors again.
    apps.get_model("donors", "Gift").objects.filter(
        acknowledged_at__isnull=True
    ).update(acknowledged_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0004_duplicate_dismissal"),
    ]

    operations = [
        migrations.AddField(
            model_name="gift",
            name="acknowledged_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When the donor of this online gift was sent a receipt or a "
                    "thank-you email. Empty means it is still to be sent; it is "
                    "retried hourly."
                ),
                null=True,
                verbose_name="thanked at",
            ),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop, elidable=True),
    ]
