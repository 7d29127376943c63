"""The ledger is append-only in the database itself, on SQLite and PostgreSQL."""

from django.db import migrations

from kyosei.roles import sync_role_groups

PG_FORWARD = """
CREATE OR REPLACE FUNCTION grants_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'grants_ledgerentry is append-only: post a reversing entry instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER grants_ledger_no_update BEFORE UPDATE OR DELETE ON grants_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION grants_ledger_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS grants_ledger_no_update ON grants_ledgerentry;
DROP FUNCTION IF EXISTS grants_ledger_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER grants_ledger_no_update BEFORE UPDATE ON grants_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'grants_ledgerentry is append-only: post a reversing entry instead'); END;""",
    """CREATE TRIGGER grants_ledger_no_delete BEFORE DELETE ON grants_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'grants_ledgerentry is append-only: post a reversing entry instead'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS grants_ledger_no_update;",
    "DROP TRIGGER IF EXISTS grants_ledger_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"No append-only trigger for database vendor {vendor!r}")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


def general_fund(apps, schema_editor):
    Fund = apps.get_model("grants", "Fund")
    Fund.objects.get_or_create(
        code="general",
        defaults={"name": "一般会計", "name_en": "General fund", "kind": "general"},
    )


class Migration(migrations.Migration):
    dependencies = [("grants", "0001_initial"), ("kyosei", "0002_homepage_locales_roles")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(general_fund, migrations.RunPython.noop),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
