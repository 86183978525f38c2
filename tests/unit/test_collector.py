"""The collector's long-lived objects are frozen at the first check and after each graph made."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from nnplayground.engine.collector import LongLivedObjects
from nnplayground.engine.compiled import CompiledGraph


def tracked(obj: object) -> bool:
    """Whether obj is in one of the collector's generations (frozen objects are not)."""
    return any(o is obj for o in gc.get_objects())


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def heap() -> Iterator[LongLivedObjects]:
    heap = LongLivedObjects()
    yield heap
    heap.thaw()


def test_the_first_check_collects_then_freezes(heap: LongLivedObjects) -> None:
    garbage = Node()
    dead = weakref.ref(garbage)
    del garbage  # a cycle: alive until a collection
    kept = Node()
    assert heap.freeze_if_new()
    assert dead() is None, "garbage at the freeze is collected, not frozen for ever"
    assert gc.get_freeze_count() > 0
    assert not tracked(kept), "a frozen object is out of the generations"
    assert heap.freezes == 1 and heap.seconds > 0


def test_it_freezes_again_only_after_a_graph_is_made(heap: LongLivedObjects, monkeypatch: pytest.MonkeyPatch) -> None:
    assert heap.freeze_if_new()
    assert not heap.freeze_if_new(), "nothing new: no collection"
    monkeypatch.setattr(CompiledGraph, "graphs_made", CompiledGraph.graphs_made + 1)
    young = Node()
    assert tracked(young)
    assert heap.freeze_if_new()
    assert not tracked(young), "what a graph left behind is frozen too"
    assert heap.freezes == 2


def test_thaw_gives_everything_back(heap: LongLivedObjects) -> None:
    kept = Node()
    heap.freeze_if_new()
    assert not tracked(kept)
    heap.thaw()
    assert gc.get_freeze_count() == 0
    assert tracked(kept)
