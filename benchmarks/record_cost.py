"""What recording costs on `floor.yaml`: CPU per second of dashboard, bytes per change, seek time.

    python benchmarks/record_cost.py [--hours 8] [--polls 24] [--keep FILE]

1. Capture: the simulator with 2,000 agents and 50 queues on a manual clock, subscribed to
   every statistic of `layouts/floor.yaml`, polled `--polls` times at the layout's refresh
   (5 s of simulated time apart) through the real client and store; each poll's ingest is kept.
2. CPU: those ingests are recorded to a fresh file while `time.process_time()` (every thread
   of this process, so the writer thread too) counts what recording adds; divided by the
   simulated seconds it covers, that is the share of one core. Needs a quiet machine.
3. Size: an `--hours` recording is written by repeating the captured polls with their times
   (and agent-state start times) moved on, then its bytes on disk are divided by the
   changes it holds (keyframes included in the bytes, not in the count).
4. Seek: the state at 20 minutes spread over the file, each at a random second (so between
   keyframes, the worst case being just before the next one), read back by a fresh
   `ReplayController`-style seek (`Recording.state_at` plus the ingest into a store): the
   wall time of each, and the worst.

Prints one JSON object. The figures in docs/recordings.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import SecretStr

from statdash.api.connect import make_client
from statdash.api.settings import Credentials, ServerSettings
from statdash.api.values import AgentStateValue, StatValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.views import CompiledLayout
from statdash.live.controller import plan_for
from statdash.live.recordings.file import Recording
from statdash.live.recordings.recorder import Recorder
from statdash.live.recordings.replay import seek_store
from statdash.live.store import Batch, Ingested, Store
from statdash.sim.config import SimConfig
from statdash.sim.runner import running_simulator

FLOOR = Path(__file__).resolve().parent.parent / "layouts" / "floor.yaml"
START = 1_700_000_000.0
BACKLOG = 100_000


@dataclass(frozen=True, slots=True)
class Poll:
    """One captured ingest: when, the values that changed, and the ids that arrived."""

    wall: float
    changed: dict[str, StatValue]
    arrived: list[str]


class _Replayed:
    """A stand-in for the store a recorder reads: one captured poll at a time."""

    def __init__(self) -> None:
        self.values_now: dict[str, StatValue] = {}
        self.arrived: list[str] = []

    @classmethod
    def holding(cls, poll: Poll) -> _Replayed:
        """The values of one poll, as its ingest left them."""
        replayed = cls()
        replayed.values_now.update(poll.changed)
        replayed.arrived = poll.arrived
        return replayed

    def get(self, statistic_id: str) -> StatValue | None:
        return self.values_now.get(statistic_id)

    def values(self) -> dict[str, StatValue]:
        return self.values_now


async def capture(layout: CompiledLayout, polls: int) -> list[Poll]:
    """`polls` ingests of the floor from the simulator, `layout.refresh` simulated s apart."""
    config = SimConfig(agents=2000, queues=50, seed=1, clock="manual", start_time=START)
    captured: list[Poll] = []
    with running_simulator(config, log_level="critical") as simulator:
        settings = ServerSettings(
            url=simulator.base_url, credentials=Credentials(api_key=SecretStr("bench"))
        )
        client = make_client(settings)
        store = Store()
        try:
            opened = await client.open_subscription(list(layout.items), verbose="OFF")
            for index in range(polls):
                wall = simulator.advance(layout.refresh) if index else START
                peeked = await client.peek_subscription(opened.subscription_id)
                result = store.ingest(
                    Batch.of((v.statistic_id, v.value, v.timestamp) for v in peeked.statistics),
                    now=wall,
                    wall=wall,
                )
                captured.append(
                    Poll(
                        wall,
                        {sid: v for sid in result.changed if (v := store.get(sid)) is not None},
                        list(store.arrived),
                    )
                )
            await client.delete_subscription(opened.subscription_id)
        finally:
            await client.aclose()
    return captured


def steady_rate(polls: list[Poll], refresh: float) -> float:
    """Changes a second the captured polls show after the first (which brings every value)."""
    return sum(len(poll.changed) for poll in polls[1:]) / ((len(polls) - 1) * refresh)


def record(
    recorder: Recorder, polls: list[Poll], seconds: float, spacing: float, *, first: bool = True
) -> int:
    """Feed `polls` to `recorder` over and over, `spacing` recorded seconds apart, until
    `seconds` of recorded time; the first poll (every value) only once, when `first`."""
    fake = _Replayed()
    fake.arrived = polls[0].arrived
    sequence = polls if first else polls[1:]
    count = 0 if first else 1
    while True:
        for poll in sequence:
            wall = START + round(count * spacing * 1000) / 1000
            if count * spacing >= seconds:
                recorder.close()
                return recorder.changes_recorded
            moved = wall - poll.wall
            changed = {sid: _moved(value, moved) for sid, value in poll.changed.items()}
            fake.values_now.update(changed)
            recorder.ingested(fake, Ingested(frozenset(changed), 0), wall, sampled=True)  # type: ignore[arg-type]
            count += 1
            # Hours are fed in minutes: let the writer keep up, as it does at 1,230 a second.
            while recorder.pending > BACKLOG:
                time.sleep(0.01)
        sequence = polls[1:]


def _moved(value: StatValue, seconds: float) -> StatValue:
    """The value as if it came `seconds` later (an agent state's start moves with it)."""
    if isinstance(value, AgentStateValue) and value.since is not None and seconds:
        # In whole milliseconds, as a server sends them.
        return replace(value, since=(round(value.since * 1000) + round(seconds * 1000)) / 1000)
    return value


def cpu_cost(
    layout: CompiledLayout, polls: list[Poll], spacing: float, directory: Path
) -> dict[str, float]:
    """CPU seconds recording takes per second of recorded time, all threads, steady state."""
    recorder = Recorder(directory / "cpu.sqlite", layout, server="sim", started=START)
    # The first poll (every value, the first keyframe) is the start-up, not the steady cost.
    first = polls[0]
    holding = _Replayed.holding(first)
    recorder.ingested(holding, Ingested(frozenset(first.changed), 0), START, sampled=True)  # type: ignore[arg-type]
    covered = 120.0
    started = time.process_time()
    changes = record(recorder, polls, covered, spacing, first=False) - len(first.changed)
    spent = time.process_time() - started
    return {
        "covered_seconds": covered,
        "changes": changes,
        "changes_per_second": changes / covered,
        "cpu_seconds": spent,
        "core_share_percent": 100 * spent / covered,
    }


def seek_times(path: Path, hours: float) -> dict[str, float]:
    """Wall seconds to show 20 random moments of the file, as the replay's seek does."""
    rng = random.Random(1)
    times: list[float] = []
    opened = time.perf_counter()
    with Recording(path) as recording:
        open_seconds = time.perf_counter() - opened
        layout = recording.layout
        plan = plan_for(layout)
        for index in range(20):
            minute = (index + 0.5) / 20 * hours * 60
            moment = recording.start + minute * 60 + rng.uniform(0, 59.9)
            started = time.perf_counter()
            store = Store(plan.history_capacity)
            seek_store(recording, store, recording.tick_at(moment))
            times.append(time.perf_counter() - started)
    return {
        "open_seconds": open_seconds,
        "seek_max_seconds": max(times),
        "seek_median_seconds": statistics.median(times),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--polls", type=int, default=24)
    parser.add_argument("--keep", type=Path, help="keep the long recording at this path")
    parser.add_argument(
        "--rate", type=float, default=1230.0, help="changes per recorded second (default 1230)"
    )
    args = parser.parse_args(argv)
    layout = compile_layout(load_layout(FLOOR))
    polls = asyncio.run(capture(layout, args.polls))
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        rate = steady_rate(polls, layout.refresh)
        # The polls come closer together so the floor changes at `--rate` a second.
        spacing = layout.refresh * rate / args.rate
        result: dict[str, object] = {
            "statistics": len(layout.items),
            "simulator_changes_per_second": rate,
            "poll_spacing_seconds": spacing,
        }
        result["cpu"] = cpu_cost(layout, polls, spacing, directory)
        long_path = args.keep or directory / "long.sqlite"
        started = time.perf_counter()
        recorder = Recorder(long_path, layout, server="sim", started=START)
        changes = record(recorder, polls, args.hours * 3600, spacing)
        size = os.path.getsize(long_path)
        result["size"] = {
            "hours": args.hours,
            "changes": changes,
            "bytes": size,
            "bytes_per_change": size / changes,
            "write_seconds": time.perf_counter() - started,
        }
        result["seek"] = seek_times(long_path, args.hours)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
