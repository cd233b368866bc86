"""Settling the heap of the long-running screen, so garbage collections stay short and few."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Net new container objects between two young collections on the settled screen (Python's
default is 700). Textual makes each rendered line a `Strip` with seven small caches, so a
floor.yaml frame under push crossed 700 about 6 times a second: ~3 ms of the ~40 ms of CPU a
live second. At 10,000: one collection every ~10 s, ~6 ms each, ~0.6 ms a second (one-off
timing, 2026-12-08, docs/performance.md)."""


def hold_collections() -> None:
    """No automatic collection until `settle_heap` (or `resume_collections`).

    Start-up (imports, the layout, the widgets, the first reply) builds objects that live
    for the whole run; the collector scanned them over and over on the way: on a floor.yaml
    start ~590 young, 53 middle and 4 full collections, ~0.3 s of the ~2 s of CPU before
    the first data frame (docs/performance.md, "Start-up"). Held, none of them runs, and the
    one collection in `settle_heap` frees what start-up left behind.
    """
    gc.disable()


def resume_collections() -> None:
    """Collect automatically again (a start that shows no data does not hold them for good)."""
    gc.enable()


def settle_heap() -> None:
    """Collect once, then move every object alive now out of the collector's sight, and
    collect automatically from now on, the young generation at `YOUNG_THRESHOLD`.

    For a long-running screen whose big structures (widgets, layout, store) are built once:
    afterwards full collections scan only what came later, instead of the whole heap. On a
    2,000-agent floor a full collection scanned ~250,000 long-lived objects, a 70-90 ms
    pause of the event loop every few dozen polls (`benchmarks/perf.py`). The one collection
    here frees what start-up left behind, so no garbage is frozen with the rest.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    resume_collections()


def collect_ahead() -> None:
    """Collect now, in a step of the loop of its own, ahead of a step known to be long (a
    wallboard's page turn draws a whole page): a full collection falling due inside that
    step is added to it. Textual keeps each widget's rendered lines as `Strip`s with seven
    small caches each, ~30,000 objects on the wallboard, re-made whenever a page is drawn, so
    full collections come often and take 15-30 ms; about one page turn in two had one
    inside its frame. Nothing while collections are held (start-up)."""
    if gc.isenabled():
        gc.collect()


def release_heap() -> None:
    """Undo `settle_heap`: the frozen objects are collectable again (before a rebuild)."""
    gc.unfreeze()
