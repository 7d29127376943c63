"""Print the SQL that sets up the production database roles (see grants.db_roles)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from grants.db_roles import RoleNameError, db_roles_sql


class Command(BaseCommand):
    help = (
        "Print the PostgreSQL SQL that makes --owner own the schema (it runs "
        "migrate) and gives --app (web, worker, beat) only the rights it needs: "
        "no TRUNCATE, no ownership, the fund ledger append-only. Pipe it to "
        "psql --single-transaction as a superuser."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="e.g. kyosei_owner")
        parser.add_argument("--app", required=True, help="e.g. kyosei_app")
        parser.add_argument("--schema", default="public")

    def handle(self, *args, owner, app, schema, **options):
        try:
            self.stdout.write(db_roles_sql(owner=owner, app=app, schema=schema))
        except RoleNameError as exc:
            raise CommandError(str(exc)) from None
