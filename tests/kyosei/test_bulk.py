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
