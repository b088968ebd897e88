"""After start-up the heap is kept out of full collections (daemon/heap.py), and what is made
later is still collected: a cycle dropped after `settle` is freed."""

from __future__ import annotations

import gc
import weakref

import pytest

from daemon import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def restore_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_what_lives_and_later_garbage_is_still_collected(restore_gc):
    kept = Node()
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
    assert kept.other is None
