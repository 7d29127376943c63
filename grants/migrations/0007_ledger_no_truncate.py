"""The ledger refuses TRUNCATE too (PostgreSQL; SQLite has no TRUNCATE).

The row triggers of 0002 refuse UPDATE and DELETE, but ``TRUNCATE`` fires no row
trigger: the table's owner could empty the ledger, and ``TRUNCATE grants_fund
CASCADE`` would take it along. A statement-level ``BEFORE TRUNCATE`` trigger
fires for a cascaded truncation as well. The runtime database role has no
TRUNCATE right at all (``manage.py db_roles_sql``); this trigger guards against
the owner's own mistakes. Idempotent: the function is replaced and the trigger
dropped if it exists before it is created.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION grants_ledger_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'grants_ledgerentry is append-only: TRUNCATE is refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS grants_ledger_no_truncate ON grants_ledgerentry;
CREATE TRIGGER grants_ledger_no_truncate BEFORE TRUNCATE ON grants_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION grants_ledger_no_truncate();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS grants_ledger_no_truncate ON grants_ledgerentry;
DROP FUNCTION IF EXISTS grants_ledger_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("grants", "0006_ledger_no_source_index")]

    operations = [migrations.RunPython(forward, backward)]
