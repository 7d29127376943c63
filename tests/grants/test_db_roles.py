"""The ledger against its own database users: the TRUNCATE trigger and the
production roles printed by ``manage.py db_roles_sql``."""

import io
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

LEDGER = "grants_ledgerentry"
INSERT_ENTRY = f"""
    INSERT INTO {LEDGER} (entry_date, fund_id, account, amount_yen, source_id,
                          memo, override_reason, posted_at)
    SELECT DATE '2025-04-01', id, 'donations', 1000, '', 'roles test', '', now()
    FROM grants_fund WHERE code = 'general'
"""


def roles_sql(owner: str, app: str) -> str:
    out = io.StringIO()
    call_command("db_roles_sql", "--owner", owner, "--app", app, stdout=out)
    return out.getvalue()


def test_command_prints_the_grants_and_refuses_odd_names():
    sql = roles_sql("kyosei_owner", "kyosei_app")
    assert (
        'REVOKE UPDATE, DELETE ON "public"."grants_ledgerentry" FROM "kyosei_app"'
        in sql
    )
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "kyosei_owner"' in sql
    assert "TRUNCATE" not in sql.split("-- 4.")[1].split("-- 6.")[0].replace(
        "No TRUNCATE", ""
    )
    for owner, app in [("Kyosei", "app"), ('x"; DROP', "app"), ("same", "same")]:
        with pytest.raises(CommandError):
            roles_sql(owner, app)


@contextmanager
def admin_connection():
    """A superuser connection to the test database, in one transaction that is
    rolled back at the end: the roles, ownership and grants vanish with it."""
    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def refused(conn, sql: str) -> str:
    """Run ``sql`` in a savepoint; return the error, failing if there is none."""
    try:
        with conn.transaction():
            conn.execute(sql)
    except psycopg.Error as exc:
        return str(exc)
    pytest.fail(f"not refused: {sql}")


@pytest.mark.postgres
def test_runtime_role_cannot_truncate_alter_or_bypass_the_ledger(
    django_db_setup, django_db_blocker
):
    suffix = uuid.uuid4().hex[:10]
    owner, app = f"kyosei_owner_{suffix}", f"kyosei_app_{suffix}"
    with django_db_blocker.unblock(), admin_connection() as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE ROLE {app} LOGIN")
        conn.execute(roles_sql(owner, app))
        assert conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = %s", [LEDGER]
        ).fetchone() == (owner,)

        conn.execute(f"SET ROLE {app}")
        # what the application does every day works (rolled back at once: the
        # insert's pending foreign-key checks would stop any TRUNCATE below
        # before the trigger is reached)
        with conn.transaction(force_rollback=True):
            conn.execute(INSERT_ENTRY)
            conn.execute("SELECT sum(amount_yen) FROM grants_ledgerentry")
            conn.execute("UPDATE grants_fund SET name = name WHERE code = 'general'")
            conn.execute("DELETE FROM django_session WHERE expire_date < now()")
            conn.execute("SELECT nextval(pg_get_serial_sequence('donors_donor', 'id'))")
            conn.execute("CREATE TEMPORARY TABLE kyosei_bulk_probe (id int)")
        # and nothing that would rewrite or empty the books
        for sql in (
            f"UPDATE {LEDGER} SET amount_yen = amount_yen",
            f"DELETE FROM {LEDGER}",
            f"TRUNCATE {LEDGER} CASCADE",
            "TRUNCATE grants_fund CASCADE",
            "TRUNCATE donors_donor CASCADE",
        ):
            assert "permission denied" in refused(conn, sql)
        for sql in (
            f"ALTER TABLE {LEDGER} DISABLE TRIGGER grants_ledger_no_update",
            f"ALTER TABLE {LEDGER} DISABLE TRIGGER ALL",
            f"ALTER TABLE {LEDGER} ADD COLUMN note text",
            f"DROP TABLE {LEDGER}",
            "DROP FUNCTION grants_ledger_append_only()",
        ):
            assert "must be owner" in refused(conn, sql)
        assert "permission denied" in refused(
            conn, "SET session_replication_role = replica"
        )
        assert "permission denied" in refused(conn, "CREATE TABLE public.probe (i int)")

        # the owner (migrations only) still meets the triggers
        conn.execute(f"SET ROLE {owner}")
        for sql in (f"TRUNCATE {LEDGER} CASCADE", "TRUNCATE grants_fund CASCADE"):
            assert "TRUNCATE is refused" in refused(conn, sql)
        with conn.transaction(force_rollback=True):
            conn.execute(INSERT_ENTRY)
            assert "append-only" in refused(conn, f"DELETE FROM {LEDGER}")


@pytest.mark.postgres
def test_the_truncate_trigger_is_there_after_migrate(
    django_db_setup, django_db_blocker
):
    with django_db_blocker.unblock(), admin_connection() as conn:
        assert "TRUNCATE is refused" in refused(conn, f"TRUNCATE {LEDGER} CASCADE")
        assert "TRUNCATE is refused" in refused(conn, "TRUNCATE grants_fund CASCADE")


@pytest.mark.postgres
def test_the_printed_sql_refuses_a_superuser_app_role(
    django_db_setup, django_db_blocker
):
    suffix = uuid.uuid4().hex[:10]
    owner, app = f"kyosei_owner_{suffix}", f"kyosei_app_{suffix}"
    with django_db_blocker.unblock(), admin_connection() as conn:
        conn.execute(f"CREATE ROLE {owner}")
        conn.execute(f"CREATE ROLE {app} SUPERUSER")
        assert "must be NOSUPERUSER" in refused(conn, roles_sql(owner, app))
        conn.execute(f"ALTER ROLE {app} NOSUPERUSER")
        conn.execute(f"GRANT {owner} TO {app}")
        assert "must not be a member" in refused(conn, roles_sql(owner, app))
        conn.execute(f"REVOKE {owner} FROM {app}")
        conn.execute(f"GRANT TRUNCATE ON {LEDGER} TO PUBLIC")
        assert "rights it must not have" in refused(conn, roles_sql(owner, app))


@pytest.mark.postgres
def test_the_printed_sql_runs_before_the_first_migrate(
    django_db_setup, django_db_blocker
):
    """On an empty schema (no ledger yet) it runs, and the owner may create."""
    suffix = uuid.uuid4().hex[:10]
    owner, app, schema = (f"kyosei_{n}_{suffix}" for n in ("owner", "app", "empty"))
    with django_db_blocker.unblock(), admin_connection() as conn:
        conn.execute(f"CREATE ROLE {owner}")
        conn.execute(f"CREATE ROLE {app}")
        conn.execute(f"CREATE SCHEMA {schema}")
        out = io.StringIO()
        call_command(
            "db_roles_sql", "--owner", owner, "--app", app, "--schema", schema,
            stdout=out,
        )  # fmt: skip
        conn.execute(out.getvalue())
        conn.execute(f"SET ROLE {owner}")
        conn.execute(f"CREATE TABLE {schema}.later (id int)")
        conn.execute(f"SET ROLE {app}")
        conn.execute(f"INSERT INTO {schema}.later VALUES (1)")  # default privileges
        assert "permission denied" in refused(conn, f"TRUNCATE {schema}.later")
        assert "permission denied" in refused(conn, f"CREATE TABLE {schema}.x (i int)")
