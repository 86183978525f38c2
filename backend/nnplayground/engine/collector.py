"""Python's cyclic garbage collector, kept out of a class's way.

Why: a full collection walks every object the collector tracks, with the GIL held. Once torch is
imported and a class's graphs are compiled (dynamo, inductor, sympy) that is 400-650 thousand
objects, and each full collection took 0.3-0.7 s: every few seconds at 200 sessions, training,
frames and commands all stood still that long (docs/performance.md). Nearly all of those objects
live as long as the process, so `gc.freeze()` moves them where collections never look, and a
full collection walks only what came since.

When: at the first check and after every graph made since the last (torch.compile's backend
counts them: `CompiledGraph.graphs_made`). A freeze first collects, so garbage that exists then is
freed, not kept for ever; what is frozen and dies later in a reference cycle stays (refcounting
still frees everything else). The collector is the process's: a server freezes (Settings.gc_freeze),
tests that host many servers in one process do not, and `thaw()` gives everything back.
"""

import gc
import time

from .compiled import CompiledGraph


class LongLivedObjects:
    """Freezes the objects alive now when there is something new to freeze."""

    def __init__(self) -> None:
        self._graphs_seen = -1  # the first check freezes: torch's modules, imported at start
        self.freezes = 0
        self.seconds = 0.0  # spent in the freezes' collections (each walks only what is new)

    def freeze_if_new(self) -> bool:
        """Collect and freeze at the first call and after any graph made since the last; whether it did."""
        made = CompiledGraph.graphs_made
        if made == self._graphs_seen:
            return False
        self._graphs_seen = made
        start = time.perf_counter()
        gc.collect()
        gc.freeze()
        self.seconds += time.perf_counter() - start
        self.freezes += 1
        return True

    @staticmethod
    def thaw() -> None:
        """Give every frozen object back to the collector (an engine that stops)."""
        gc.unfreeze()
