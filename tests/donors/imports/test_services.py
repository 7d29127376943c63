"""Importing transfers: outcomes, gifts through the gift service, idempotency,
all-or-nothing refusal, the staff flow (stage → resolve → apply) and undo."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from wagtail.models import ModelLogEntry

from donors.imports.errors import BatchError, ImportRefused
from donors.imports.models import ImportBatch, ImportRow, PayerAlias, TransferProfile
from donors.imports.services import (
    import_batch_apply,
    import_batch_create,
    import_batch_stage,
    import_batch_undo,
    transfer_import,
)
from donors.models import Donor, Gift, GiftRefund
from grants.models import LedgerEntry
from grants.selectors import fund_balance
from kyosei.audit import audit_entries
from kyosei.roles import Role
from tests.factories.donors import general_fund
from tests.factories.transfers import fixture, transfer_donors
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def _import(name, **kwargs):
    fmt = "csv" if name.endswith(".csv") else "zengin"
    if fmt == "csv" and "profile" not in kwargs:
        kwargs["profile"] = TransferProfile.objects.get(name="bank-standard")
    return transfer_import(path=fixture(name), format=fmt, user=None, **kwargs)


def _table_counts():
    return (
        Gift.objects.count(),
        LedgerEntry.objects.count(),
        Donor.objects.count(),
        ImportBatch.objects.count(),
        ImportRow.objects.count(),
        ModelLogEntry.objects.count(),
    )


def test_zengin_import_matches_each_outcome_and_records_gifts():
    donors = transfer_donors()
    result = _import("zengin_01.txt")
    counts = result.counts
    assert counts["rows"] == 7
    assert counts["matched"] == 3  # 山田, Nguyễn (Latin name), ｶ)ｻｸﾗｼｮｳｼﾞ
    assert counts["ambiguous"] == 1  # two スズキ ハナコ
    assert counts["new_donors"] == 1  # ﾀﾅｶ ｲﾁﾛｳ, twice
    assert counts["skipped_not_incoming"] == 1  # cancelled
    assert counts["gifts_created"] == 5
    assert counts["errors"] == []

    rows = {r.row_number: r for r in result.batch.rows.all()}
    assert rows[2].donor_id == donors["yamada"].pk
    assert rows[3].donor_id == donors["nguyen"].pk
    assert rows[4].donor_id == donors["sakura"].pk
    assert sorted(rows[5].candidates) == sorted(
        [donors["suzuki1"].pk, donors["suzuki2"].pk]
    )
    assert rows[5].gift_id is None
    assert rows[6].donor_id == rows[7].donor_id
    tanaka = Donor.objects.get(pk=rows[6].donor_id)
    assert tanaka.source == Donor.Source.TRANSFER and tanaka.needs_review
    assert tanaka.family_name_kana == "タナカ"
    assert tanaka.given_name_kana == "イチロウ"

    gift = Gift.objects.get(pk=rows[2].gift_id)
    assert gift.method == Gift.Method.BANK_TRANSFER
    assert gift.kind == Gift.Kind.DONATION
    assert gift.amount_yen == 10000 and gift.fund == general_fund()
    assert gift.ledger_entry.amount_yen == 10000
    assert gift.ledger_entry.source_id == str(gift.pk)
    # The audit trail: one row on the batch naming every gift it recorded (not
    # one per gift), and one "created" row per donor made for a new payer.
    recorded = audit_entries(result.batch).get(action="donors.gift.recorded_many")
    gift_ids = sorted(r.gift_id for r in rows.values() if r.gift_id)
    listed = [
        pk
        for first, last in recorded.data["gift_id_ranges"]
        for pk in range(first, last + 1)
    ]
    assert listed == gift_ids and len(gift_ids) == 5
    assert recorded.data["gifts"] == 5
    assert recorded.data["amount_yen"] == 10000 + 5000 + 100000 + 2000 + 2000
    assert recorded.data["funds"] == ["general"]
    assert not ModelLogEntry.objects.filter(action="donors.gift.recorded").exists()
    assert [e.action for e in audit_entries(tanaka)] == ["donors.donor.created"]
    assert fund_balance(general_fund()) == 10000 + 5000 + 100000 + 2000 + 2000


def test_audit_rows_say_who_imported_which_gifts():
    transfer_donors()
    finance = staff_user(Role.FINANCE, mfa=False)
    result = _import_as("zengin_01.txt", finance)
    recorded = audit_entries(result.batch).get(action="donors.gift.recorded_many")
    applied = audit_entries(result.batch).get(action="donor_imports.batch.applied")
    assert recorded.user == applied.user == finance
    gifts = Gift.objects.filter(pk__in=result.batch.rows.values("gift_id"))
    assert gifts.count() == 5
    assert set(gifts.values_list("received_by", flat=True)) == {finance.pk}
    new_donor = Donor.objects.get(source=Donor.Source.TRANSFER)
    created = audit_entries(new_donor).get()
    assert (created.action, created.user) == ("donors.donor.created", finance)
    assert created.data == {"source": Donor.Source.TRANSFER}


def _import_as(name, user):
    return transfer_import(path=fixture(name), format="zengin", user=user)


def test_same_file_twice_and_overlapping_statement_add_nothing():
    transfer_donors()
    _import("zengin_01.txt")
    before = Gift.objects.count(), LedgerEntry.objects.count()
    again = _import("zengin_01.txt")
    same_bytes_no_newlines = _import("zengin_01_nonewline.dat")
    assert (Gift.objects.count(), LedgerEntry.objects.count()) == before
    for result in (again, same_bytes_no_newlines):
        assert result.counts["gifts_created"] == 0
        assert result.counts["duplicates_skipped"] == 5
        assert result.counts["new_donors"] == 0
        assert result.counts["ambiguous"] == 1


def test_dry_run_writes_nothing_and_predicts_the_real_run():
    transfer_donors()
    before = _table_counts()
    dry = _import("zengin_01.txt", dry_run=True)
    assert _table_counts() == before
    real = _import("zengin_01.txt")
    assert dry.counts == real.counts


@pytest.mark.parametrize(
    "name",
    [
        "bad_zengin_truncated.txt",
        "bad_zengin_truncated_nonewline.dat",
        "bad_zengin_trailer.txt",
        "bad_zengin_utf8.txt",
        "bad_zengin_amount.txt",
        "bad_zengin_date.txt",
        "bad_bank_amount.csv",
        "bad_bank_date.csv",
        "bad_bank_missing_column.csv",
        "empty.txt",
    ],
)
def test_bad_file_is_refused_whole(name):
    transfer_donors()
    before = _table_counts()
    with pytest.raises(ImportRefused) as excinfo:
        _import(name)
    assert excinfo.value.errors
    assert _table_counts() == before


def test_zengin_03_statement_gifts_only_incoming_transfers():
    donors = transfer_donors()
    counts = _import("zengin_03.txt").counts
    assert counts["rows"] == 4
    assert counts["skipped_not_incoming"] == 2  # fee, interest
    assert counts["gifts_created"] == 2
    assert set(Gift.objects.values_list("donor_id", flat=True)) == {
        donors["yamada"].pk,
        donors["nguyen"].pk,
    }


def test_bank_csv_import():
    donors = transfer_donors()
    counts = _import("bank.csv").counts
    assert counts["gifts_created"] == 3
    assert counts["skipped_not_incoming"] == 2
    assert counts["new_donors"] == 1
    assert Gift.objects.get(donor=donors["nguyen"]).amount_yen == 1000
    assert _import("bank_utf8_bom.csv").counts["duplicates_skipped"] == 3


def test_yucho_csv_import_records_postal_transfers():
    donors = transfer_donors()
    result = _import("yucho.csv", profile=TransferProfile.objects.get(name="yucho"))
    assert result.counts["gifts_created"] == 2
    assert result.counts["skipped_not_incoming"] == 2
    gifts = Gift.objects.order_by("received_on")
    assert [g.method for g in gifts] == [Gift.Method.POSTAL_TRANSFER] * 2
    assert [g.donor_id for g in gifts] == [donors["yamada"].pk, donors["sakura"].pk]


def test_staff_flow_resolves_ambiguous_row_and_teaches_alias():
    donors = transfer_donors()
    with open(fixture("zengin_01.txt"), "rb") as handle:
        upload = SimpleUploadedFile("zengin_01.txt", handle.read())
    batch = import_batch_create(upload=upload, format="zengin", user=None)
    batch = import_batch_stage(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEW
    assert batch.percent == 100
    assert Gift.objects.count() == 0  # nothing applied before confirmation
    ambiguous = batch.rows.get(outcome=ImportRow.Outcome.AMBIGUOUS)
    with pytest.raises(BatchError, match="not one of the candidates"):
        import_batch_apply(
            batch=batch, user=None, choices={ambiguous.pk: str(donors["yamada"].pk)}
        )
    assert Gift.objects.count() == 0
    batch = import_batch_apply(
        batch=batch, user=None, choices={ambiguous.pk: str(donors["suzuki2"].pk)}
    )
    assert batch.status == ImportBatch.Status.APPLIED
    assert batch.counts["gifts_created"] == 6
    assert Gift.objects.filter(donor=donors["suzuki2"]).count() == 1
    alias = PayerAlias.objects.get(donor=donors["suzuki2"])
    assert alias.payer_key == "ススキハナコ"
    # The next statement from this payer matches at once through the alias.
    counts = _import("zengin_01.txt", dry_run=True).counts
    assert counts["ambiguous"] == 0 and counts["duplicates_skipped"] == 6


def test_refused_upload_is_recorded_on_the_batch_only():
    with open(fixture("bad_zengin_trailer.txt"), "rb") as handle:
        upload = SimpleUploadedFile("bad.txt", handle.read())
    batch = import_batch_create(upload=upload, format="zengin", user=None)
    batch = import_batch_stage(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.REFUSED
    assert batch.errors[0]["row"] == 9
    assert not batch.rows.exists()
    with pytest.raises(BatchError):
        import_batch_apply(batch=batch, user=None)


def test_undo_reverses_every_gift_without_deleting_and_allows_reimport():
    transfer_donors()
    batch = _import("zengin_01.txt").batch
    gift_ids = set(batch.rows.exclude(gift=None).values_list("gift_id", flat=True))
    entries_before = LedgerEntry.objects.count()
    import_batch_undo(batch=batch, user=None)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE
    assert set(Gift.objects.values_list("pk", flat=True)) == gift_ids  # kept
    assert LedgerEntry.objects.count() == entries_before + len(gift_ids)
    assert fund_balance(general_fund()) == 0
    assert GiftRefund.objects.filter(reason="import undone").count() == len(gift_ids)
    assert ModelLogEntry.objects.filter(action="donor_imports.batch.undone").exists()
    with pytest.raises(BatchError, match="Only an applied import"):
        import_batch_undo(batch=batch, user=None)
    # The corrected statement can be imported again.
    assert _import("zengin_01.txt").counts["gifts_created"] == 5
    assert fund_balance(general_fund()) == 119000


def test_future_date_is_refused_naming_the_row(tmp_path):
    path = tmp_path / "future.csv"
    with open(fixture("bank.csv"), "rb") as handle:
        path.write_bytes(handle.read().replace(b"2024/04/05", b"2099/04/05"))
    profile = TransferProfile.objects.get(name="bank-standard")
    with pytest.raises(ImportRefused) as excinfo:
        transfer_import(path=path, format="csv", profile=profile, user=None)
    (error,) = excinfo.value.errors
    assert error.row == 4
    assert "2099-04-05 is in the future" in error.message
    assert not Gift.objects.exists()


def test_undo_in_bulk_reverses_what_is_left_and_audits_once():
    from donors.services.gifts import gift_refund

    transfer_donors()
    user = staff_user(Role.FINANCE, mfa=False)
    batch = _import("zengin_01.txt").batch
    gifts = list(Gift.objects.filter(import_fingerprint__isnull=False).order_by("pk"))
    # Before the undo, staff refunded one gift in part and another in full.
    gift_refund(gift=gifts[0], amount_yen=1000, reason="partial")
    gift_refund(gift=gifts[1], reason="returned")
    import_batch_undo(batch=batch, user=user)

    assert fund_balance(general_fund()) == 0
    for gift in Gift.objects.filter(pk__in=[g.pk for g in gifts]):
        assert (gift.status, gift.refunded_yen) == ("refunded", gift.amount_yen)
        # Every fingerprint released, the already refunded gift's too.
        assert gift.import_fingerprint is None
    undone = GiftRefund.objects.filter(reason="import undone")
    assert undone.count() == len(gifts) - 1  # the fully refunded one is skipped
    first = undone.get(gift=gifts[0])
    assert first.amount_yen == gifts[0].amount_yen - 1000
    assert first.ledger_entry.reverses_id == gifts[0].ledger_entry_id
    assert first.ledger_entry.amount_yen == -(gifts[0].amount_yen - 1000)
    assert first.refunded_by == user
    [audit] = ModelLogEntry.objects.filter(action="donors.gift.refunded_many")
    assert audit.user_id == user.pk
    assert audit.data["gifts"] == len(gifts) - 1
    ids = [g.pk for g in gifts if g.pk != gifts[1].pk]
    covered = [n for lo, hi in audit.data["gift_id_ranges"] for n in range(lo, hi + 1)]
    assert covered == ids


def test_a_reversal_cannot_be_reversed_in_bulk():
    from grants.errors import LedgerError
    from grants.services.ledger import ledger_reverse_many

    transfer_donors()
    _import("zengin_01.txt")
    entry = Gift.objects.filter(import_fingerprint__isnull=False).first().ledger_entry
    [reversal] = ledger_reverse_many(
        entry_ids=[entry.pk], entry_date=entry.entry_date, memos=["x"]
    )
    with pytest.raises(LedgerError, match="cannot itself be reversed"):
        ledger_reverse_many(
            entry_ids=[reversal], entry_date=entry.entry_date, memos=["y"]
        )
    with pytest.raises(LedgerError, match="already been reversed in full"):
        ledger_reverse_many(
            entry_ids=[entry.pk], entry_date=entry.entry_date, memos=["z"]
        )


def test_undo_task_twice_leaves_the_batch_undone_once():
    from donors.imports.tasks import undo_import_batch

    transfer_donors()
    user = staff_user(Role.FINANCE, mfa=False)
    batch = _import("zengin_01.txt").batch
    assert undo_import_batch(batch.pk, user.pk) == ImportBatch.Status.UNDONE
    assert undo_import_batch(batch.pk, user.pk) == ImportBatch.Status.UNDONE
    assert GiftRefund.objects.filter(reason="import undone").count() == 5
    batch.refresh_from_db()
    assert batch.undone_by == user


def test_links_without_database_constraints_all_resolve():
    """Import rows → gift and donor, gift → ledger entry and fund, and entry →
    source type carry no database foreign key (each cost a per-row check at
    commit); every link the import writes must still point at a real row, and a
    gift's fund is its ledger entry's (which keeps its constraint)."""
    from django.contrib.contenttypes.models import ContentType

    transfer_donors()
    result = _import("zengin_01.txt")
    rows = list(result.batch.rows.all())
    gift_ids = {r.gift_id for r in rows if r.gift_id}
    donor_ids = {r.donor_id for r in rows if r.donor_id}
    assert len(gift_ids) == 5
    assert Gift.objects.filter(pk__in=gift_ids).count() == len(gift_ids)
    assert Donor.objects.filter(pk__in=donor_ids).count() == len(donor_ids)
    gift_type = ContentType.objects.get_for_model(Gift)
    for gift in Gift.objects.filter(pk__in=gift_ids):
        entry = LedgerEntry.objects.get(pk=gift.ledger_entry_id)
        assert entry.source_type_id == gift_type.pk
        assert entry.source_id == str(gift.pk)
        assert entry.amount_yen == gift.amount_yen
        assert gift.fund_id == entry.fund_id == general_fund().pk
    assert {r.batch_id for r in rows} == {result.batch.pk}
