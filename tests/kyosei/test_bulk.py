"""The cyclic garbage collector is paused for bulk work and comes back after."""

import gc
import threading

import pytest

from kyosei.bulk import cyclic_gc_paused


@pytest.fixture(autouse=True)
def gc_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_back_after_even_on_error():
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), cyclic_gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_nested_and_concurrent_blocks_share_one_pause():
    inside, release = threading.Event(), threading.Event()

    def other():
        with cyclic_gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with cyclic_gc_paused():
        thread.start()
        inside.wait(5)
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other thread's block is still running"
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_left_off_when_it_was_off():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()


def test_decorates_a_function():
    @cyclic_gc_paused()
    def work():
        return gc.isenabled()

    assert work() is False
    assert gc.isenabled()


@pytest.mark.django_db
def test_insert_and_update_rows_write_plain_rows():
    """COPY on PostgreSQL, executemany elsewhere: the same rows either way,
    JSON included; rows not named are left alone."""
    from donors.imports.models import ImportBatch, ImportRow
    from kyosei.bulk import insert_rows, update_rows
    from tests.factories.donors import general_fund

    batch = ImportBatch.objects.create(
        file_name="x", file_sha256="0" * 64, format="zengin", fund=general_fund()
    )
    insert_rows(
        ImportRow,
        ["batch_id", "row_number", "outcome", "candidates", "note"],
        [(batch.pk, n, "ambiguous", [n, n + 1], f"row {n}") for n in range(1, 6)],
    )
    rows = {r.row_number: r for r in batch.rows.all()}
    assert [rows[n].candidates for n in (1, 5)] == [[1, 2], [5, 6]]
    update_rows(
        ImportRow,
        ["outcome", "note", "candidates"],
        [
            (rows[2].pk, "matched", "chosen\tby staff", []),
            (rows[4].pk, "new", "", [9]),
        ],
    )
    after = {r.row_number: r for r in batch.rows.all()}
    assert (after[2].outcome, after[2].note, after[2].candidates) == (
        "matched",
        "chosen\tby staff",
        [],
    )
    assert (after[4].outcome, after[4].candidates) == ("new", [9])
    assert [(after[n].outcome, after[n].note) for n in (1, 3, 5)] == [
        ("ambiguous", "row 1"),
        ("ambiguous", "row 3"),
        ("ambiguous", "row 5"),
    ]
    update_rows(ImportRow, ["note"], [])  # nothing to do is fine
