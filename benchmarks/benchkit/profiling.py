"""Profile statdash's full poll cycle at floor.yaml's size (10,380 statistics) with cProfile.

    python benchmarks/perf.py profile [--cycles N] [--out FILE] [--sort tottime|cumulative]
    python benchmarks/perf.py profile --timings [--cycles N]

Runs the same cycle as `perf.py` (`benchkit.cycle.run_cycles`: headless dashboard, simulator in its
own process on a manual clock, one simulated second per poll) under cProfile and prints the
top functions. A tool for finding where a cycle's CPU goes, not a measurement for the report:
cProfile slows Python code several-fold, so read shares, not milliseconds. With `--timings`
there is no profiler: it prints the floor, the cycle and its stages as `perf.py` measures them,
at this one size, in about a minute (a quick check of one change; the report needs `perf.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
from pathlib import Path

from benchkit.cycle import CycleRun, FloorRun, floor_polls, run_cycles
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.simproc import SimProcess, child_env


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--out", type=Path, help="also write the raw profile here")
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--timings", action="store_true", help="no profiler: floor and stages")
    options = parser.parse_args(argv)
    if options.timings:
        timings(options.cycles)
        return
    with tempfile.TemporaryDirectory(prefix="statdash-profile-") as scratch:
        work = Path(scratch)
        env = child_env(work / "state")
        scaled = write_floor(work / "floor", FLOOR_AGENTS, FLOOR_QUEUES)
        profiler = cProfile.Profile()
        with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env, manual_clock=True) as sim:

            async def profiled() -> CycleRun:
                loop = asyncio.get_running_loop()

                def start_profiling(_subscription_id: str) -> None:
                    # Called from a worker thread; cProfile profiles the thread that enables
                    # it, and the dashboard runs on the event loop's thread.
                    loop.call_soon_threadsafe(profiler.enable)

                return await run_cycles(
                    scaled.layout, sim, cycles=options.cycles, warmup=0,
                    before_cycles=start_profiling,
                )  # fmt: skip

            result = asyncio.run(profiled())
            profiler.disable()
    print(f"{result.statistics:,} statistics, {options.cycles} cycles profiled", file=sys.stderr)
    if options.out:
        profiler.dump_stats(options.out)
    pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.top)


def timings(cycles: int) -> None:
    """Floor, cycle and stage means at floor.yaml's size, measured as `perf.py` does."""
    with tempfile.TemporaryDirectory(prefix="statdash-profile-") as scratch:
        work = Path(scratch)
        env = child_env(work / "state")
        scaled = write_floor(work / "floor", FLOOR_AGENTS, FLOOR_QUEUES)
        floors: list[FloorRun] = []
        with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env, manual_clock=True) as sim:

            def floor(subscription_id: str) -> None:
                floors.append(floor_polls(sim, subscription_id, cycles, 3, "OFF", env))

            result = asyncio.run(
                run_cycles(scaled.layout, sim, cycles=cycles, warmup=3, before_cycles=floor)
            )
    floor_ms = statistics.fmean(floors[0].cpu_ms)
    cycle_ms = statistics.fmean(result.cycle_ms)
    print(
        f"{result.statistics:,} statistics: floor {floor_ms:.1f} ms, cycle {cycle_ms:.1f} ms "
        f"(median {statistics.median(result.cycle_ms):.1f}, max {max(result.cycle_ms):.1f}), "
        f"cycle / floor {cycle_ms / floor_ms:.2f}"
    )
    print("  ".join(f"{name} {ms:.1f}" for name, ms in result.stages_ms.items()))
