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


def test_bench_import_smoke_with_the_staff_flow():
    """``bench_import`` runs end to end and reports (no timing asserted): the
    command-line import, the django-import-export comparison (rolled back) and
    the admin's upload → preview → apply → undo on a second file."""
    from io import StringIO

    from donors.imports.models import ImportBatch

    out = StringIO()
    call_command("bench_import", rows=300, compare_rows=20, staff_flow=True, stdout=out)
    report = out.getvalue()
    assert "kyosei transfer_import: 300 rows" in report
    assert "django-import-export ModelResource" in report
    assert "staff flow, 300 rows" in report and "(batch undone)" in report
    applied, undone = ImportBatch.objects.order_by("pk")
    assert applied.counts["gifts_created"] == 300
    assert undone.status == ImportBatch.Status.UNDONE
    # The comparison's rows were rolled back; the undone batch's gifts stay,
    # refunded.
    assert Gift.objects.count() == 600
    assert Gift.objects.filter(status=Gift.Status.REFUNDED).count() == 300
