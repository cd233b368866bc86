"""Floor and cycle for `perf.py`: CPU per poll of the bare fetch, and of statdash's full cycle.

The cycle runs the real dashboard in this process, headless (`App.run_test`), built by
`statdash.ui.launch.build_app` exactly as `statdash run` builds it, with real widgets, against
the simulator process on a manual clock. Each cycle moves the simulated floor on by one
second, then times (in CPU seconds, with `time.process_time`) everything statdash does for one
poll: the session's GET, parsing, ingest, the app's redraw of every panel and the
compositor's repaint, until the screen has taken the update (`pilot.pause()`, whose own idle
cost is measured and subtracted). Headless Textual composes every changed line but skips
turning them into escape codes and writing them; the steady-state run on a real pty includes
that.

One thing is set for the measurement: the refresh is an hour, so that polls happen exactly
when the benchmark asks (`poll_now`). The once-a-second tick runs as in the product, so a
tick that falls inside a cycle is counted in it. The benchmark hears when a poll ended and
how many values it changed as any feature does, through a listener on the controller.
Everything here goes through statdash's public names: the stage timers wrap four of them;
the compositor's repaint has no public hook, so it is part of *other*.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchkit.levers import ALL_ON, Switches, client_for
from benchkit.simproc import API_KEY, SimProcess
from statdash.api import responses
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.views import CompiledLayout
from statdash.live.controller import Listener, LiveController
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested, Store
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app

SCREEN = (160, 50)
HERE = Path(__file__).resolve().parent
STAGES = ("fetch", "parse", "ingest", "redraw", "gc", "other")


@dataclass(slots=True)
class CycleRun:
    """What one series of cycles measured (milliseconds of CPU)."""

    statistics: int
    cycle_ms: list[float]
    changed: list[int]
    stages_ms: dict[str, float]
    """Mean CPU ms per cycle in each stage; garbage collection is its own stage."""
    pause_ms: float
    """The idle cost of `pilot.pause()`, already subtracted from `cycle_ms`."""


@dataclass(slots=True)
class FloorRun:
    """What the floor worker measured."""

    cpu_ms: list[float]
    payload_bytes: int


@dataclass(slots=True)
class _Stages:
    """CPU spent in each stage while cycles run, with collector time kept apart."""

    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    gc_total: float = 0.0
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            self.gc_total += time.process_time() - self._gc_started

    def wrap(self, owner: Any, name: str, stage: str) -> Callable[[], None]:
        """Count CPU spent in `owner.name` (less collector time) as `stage`; returns an undo."""
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, gc_before = time.process_time(), self.gc_total
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.process_time() - started
                self.spent[stage] += elapsed - (self.gc_total - gc_before)

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            # Only the synchronous stretches count: time awaiting the server costs no CPU.
            started, gc_before = time.process_time(), self.gc_total
            try:
                return await original(*args, **kwargs)
            finally:
                elapsed = time.process_time() - started
                self.spent[stage] += elapsed - (self.gc_total - gc_before)

        wrapper = timed_async if asyncio.iscoroutinefunction(original) else timed
        setattr(owner, name, wrapper)
        return lambda: setattr(owner, name, original)


@contextmanager
def stage_timers() -> Iterator[_Stages]:
    """Time the stages of a cycle by wrapping the functions that do them."""
    stages = _Stages()
    undo = [
        stages.wrap(StatisticsClient, "request", "fetch"),
        stages.wrap(responses, "parse_peek", "parse"),
        stages.wrap(Store, "ingest", "ingest"),
        stages.wrap(StatdashApp, "redraw", "redraw"),
    ]
    gc.callbacks.append(stages.on_gc)
    try:
        yield stages
    finally:
        gc.callbacks.remove(stages.on_gc)
        for step in reversed(undo):
            step()


def floor_polls(
    sim: SimProcess,
    subscription_id: str,
    count: int,
    warmup: int,
    verbose: str,
    env: dict[str, str],
    parser: str = "json",
) -> FloorRun:
    """Run the floor worker against an open subscription (`parser`: json or msgspec)."""
    output = subprocess.run(
        [sys.executable, str(HERE / "floor_worker.py"), sim.base_url, subscription_id,
         str(count), str(warmup), verbose, parser],
        capture_output=True, text=True, check=True, env=env, timeout=600,
    ).stdout  # fmt: skip
    result = json.loads(output)
    return FloorRun([float(ms) for ms in result["cpu_ms"]], int(result["bytes"]))


class CycleListener(Listener):
    """Hears, as any feature does, when the session reported (a poll ended) and what changed."""

    def __init__(self) -> None:
        self.reported = asyncio.Event()
        self.changes: list[int] = []
        """How many values each ingest changed."""

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """Count the changes."""
        self.changes.append(len(ingested.changed))

    def health_changed(self, status: SessionStatus) -> None:
        """Wake the benchmark."""
        self.reported.set()


async def run_cycles(
    layout: CompiledLayout,
    sim: SimProcess,
    *,
    cycles: int,
    warmup: int,
    before_cycles: Callable[[str], None] | None = None,
    after_cycles: Callable[[str], None] | None = None,
    switches: Switches = ALL_ON,
) -> CycleRun:
    """Time `cycles` full cycles (after `warmup` untimed ones) of the dashboard for `layout`.

    `before_cycles(subscription_id)` runs once the subscription is open, `after_cycles` once
    the cycles are done (the floor worker polls the same subscription then). `switches`
    turns levers off (levers.py); by default the dashboard is built as the code is.
    """
    layout = dataclasses.replace(layout, refresh=3600.0)
    client = client_for(
        switches, sim.base_url, API_KEY, retry=RetryPolicy(attempts=1), read_timeout=120
    )
    heard = CycleListener()
    app = build_app(layout, client, server_label="bench", handle_signals=False)
    assert isinstance(app.controller, LiveController)  # a live dashboard, not a replay
    app.controller.listeners.append(heard)
    try:
        async with app.run_test(size=SCREEN) as pilot:
            while app.controller.status.polls < 1:
                heard.reported.clear()
                await asyncio.wait_for(heard.reported.wait(), timeout=300)
            for _ in range(3):
                await pilot.pause()
            subscription_id = app.controller.status.subscription_id
            assert subscription_id is not None
            if before_cycles is not None:
                await asyncio.to_thread(before_cycles, subscription_id)
            pauses: list[float] = []
            for _ in range(10):
                started = time.process_time()
                await pilot.pause()
                pauses.append(time.process_time() - started)
            pause = statistics.median(pauses)
            cycle_ms: list[float] = []
            with stage_timers() as stages:
                for index in range(warmup + cycles):
                    await asyncio.to_thread(sim.advance, 1.0)
                    await pilot.pause()
                    if index == warmup:
                        stages.spent.clear()
                        stages.gc_total = 0.0
                        heard.changes.clear()
                    polls = app.controller.status.polls
                    started = time.process_time()
                    app.controller.poll_now()
                    while app.controller.status.polls == polls:
                        heard.reported.clear()
                        await asyncio.wait_for(heard.reported.wait(), timeout=300)
                    await pilot.pause()
                    spent = time.process_time() - started - pause
                    if index >= warmup:
                        cycle_ms.append(spent * 1000)
            if after_cycles is not None:
                await asyncio.to_thread(after_cycles, subscription_id)
            per_cycle = {name: stages.spent[name] * 1000 / cycles for name in STAGES[:4]}
            per_cycle["gc"] = stages.gc_total * 1000 / cycles
            per_cycle["other"] = max(0.0, statistics.fmean(cycle_ms) - sum(per_cycle.values()))
            await app.controller.close()
    finally:
        await client.aclose()
    return CycleRun(len(layout.items), cycle_ms, heard.changes, per_cycle, pause * 1000)
