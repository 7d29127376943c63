"""Receipt PDFs and the seal move to the private storage with random names.

The field changes are state only (the column is unchanged; a plain AlterField
would rebuild the tables on SQLite for nothing). Existing files still in the
public media folder are moved to the private storage.
"""

from django.db import migrations, models

import kyosei.private_files
from kyosei.migration_ops import move_files_to_private


class Migration(migrations.Migration):
    dependencies = [
        ("receipts", "0002_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="receipt",
                    name="pdf",
                    field=models.FileField(
                        max_length=200,
                        storage=kyosei.private_files.private_storage,
                        upload_to=kyosei.private_files.RandomName("receipts"),
                        verbose_name="PDF",
                    ),
                ),
                migrations.AlterField(
                    model_name="receiptsettings",
                    name="seal",
                    field=models.FileField(
                        blank=True,
                        help_text=(
                            "PNG or JPEG, square, printed beside the "
                            "representative's name."
                        ),
                        storage=kyosei.private_files.private_storage,
                        upload_to=kyosei.private_files.RandomName("receipts/seal"),
                        verbose_name="seal image (印影)",
                    ),
                ),
            ]
        ),
        move_files_to_private("receipts", "Receipt", "pdf", "receipts"),
        move_files_to_private("receipts", "ReceiptSettings", "seal", "receipts/seal"),
    ]
