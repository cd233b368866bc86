"""Pausing Python's cyclic garbage collector around a burst of short-lived objects.

A poll of a big floor allocates tens of thousands of containers (the parsed JSON) that all
die by reference counting a few milliseconds later. With the collector running, the young
generation fills up mid-burst, and each collection scans objects that are all still alive
and promotes them, so the same dead payload is scanned again by older generations later
(and drags full collections of the whole heap closer). Paused over the burst, the payload is
freed before the collector ever sees it; what survives is scanned once, as usual.

Only for synchronous stretches (no `await` inside): a pause must never outlive the burst.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause cyclic collection for the block; nested pauses are a no-op, errors resume it."""
    if not gc.isenabled():
        # Nested, or the embedding program turned collection off: leave it as it is.
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def settle_heap() -> None:
    """Collect once, then move every object alive now out of the collector's sight.

    For a long-running screen whose big structures (widgets, layout, store) are built once:
    afterwards full collections scan only what came later, instead of the whole heap. On a
    2,000-agent floor a full collection scanned ~250,000 long-lived objects, a 70-90 ms
    pause of the event loop every few dozen polls (`benchmarks/perf.py`). The one collection
    here frees what start-up left behind, so no garbage is frozen with the rest.
    """
    gc.collect()
    gc.freeze()


def release_heap() -> None:
    """Undo `settle_heap`: the frozen objects are collectable again (before a rebuild)."""
    gc.unfreeze()
