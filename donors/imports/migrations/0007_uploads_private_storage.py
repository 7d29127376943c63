"""Uploaded bank statements and spreadsheets move to the private storage with
random names.

The field changes are state only (the column is unchanged; a plain AlterField
would rebuild the tables on SQLite for nothing). Existing files still in the
public media folder are moved to the private storage.
"""

from django.db import migrations, models

import kyosei.private_files
from kyosei.migration_ops import move_files_to_private


class Migration(migrations.Migration):
    dependencies = [
        ("donor_imports", "0006_import_heartbeat_and_ways_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importbatch",
                    name="upload",
                    field=models.FileField(
                        blank=True,
                        storage=kyosei.private_files.private_storage,
                        upload_to=kyosei.private_files.RandomName("imports/transfers"),
                    ),
                ),
                migrations.AlterField(
                    model_name="spreadsheetimport",
                    name="upload",
                    field=models.FileField(
                        storage=kyosei.private_files.private_storage,
                        upload_to=kyosei.private_files.RandomName(
                            "imports/spreadsheets"
                        ),
                    ),
                ),
            ]
        ),
        move_files_to_private(
            "donor_imports", "ImportBatch", "upload", "imports/transfers"
        ),
        move_files_to_private(
            "donor_imports", "SpreadsheetImport", "upload", "imports/spreadsheets"
        ),
    ]
