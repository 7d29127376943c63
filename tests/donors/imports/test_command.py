"""``manage.py import_transfers``: JSON counts, dry run, exit status."""

import json

import pytest
from django.core.management import call_command

from donors.models import Gift
from grants.models import LedgerEntry
from tests.factories.transfers import fixture, transfer_donors

pytestmark = pytest.mark.django_db


def _run(*args):
    from io import StringIO

    out = StringIO()
    call_command("import_transfers", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_dry_run_json_writes_nothing_then_real_run_matches():
    transfer_donors()
    before = Gift.objects.count(), LedgerEntry.objects.count()
    dry = _run(fixture("zengin_01.txt"), "--format", "zengin", "--dry-run")
    assert (Gift.objects.count(), LedgerEntry.objects.count()) == before
    assert set(dry) == {
        "rows",
        "gifts_created",
        "duplicates_skipped",
        "matched",
        "ambiguous",
        "new_donors",
        "skipped_not_incoming",
        "errors",
    }
    real = _run(fixture("zengin_01.txt"), "--format", "zengin")
    assert real == dry
    assert Gift.objects.count() == before[0] + real["gifts_created"]


def test_csv_with_profile():
    transfer_donors()
    out = _run(fixture("yucho.csv"), "--format", "csv", "--profile", "yucho")
    assert out["gifts_created"] == 2 and out["errors"] == []


def test_refused_file_exits_1_with_errors():
    from io import StringIO

    out = StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command(
            "import_transfers",
            fixture("bad_zengin_trailer.txt"),
            "--format",
            "zengin",
            "--json",
            stdout=out,
        )
    assert excinfo.value.code == 1
    printed = json.loads(out.getvalue())
    assert printed["errors"][0]["row"] == 9
    assert printed["gifts_created"] == 0
    assert Gift.objects.count() == 0
