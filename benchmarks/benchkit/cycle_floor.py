"""Poll mode's cycle against the floor at floor.yaml's size, repeated: the median of N runs.

    python benchmarks/perf.py cycle --runs 3

Each run is `perf.py`'s 10,000-statistic row on its own (a fresh simulator on a manual
clock, the floor's GET + json.loads before and after the cycles, pooled, and the full poll
cycle of the dashboard headless): the ratio of the mean cycle to the mean floor. The runs go
one after the other; the median of their ratios is the figure issue 12 asks for (poll mode
keeps cycle/floor at most 1.5). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchkit.measure import FULL, QUICK, measure_sizes
from benchkit.simproc import child_env


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument("--quick", action="store_true", help="fewer cycles per run")
    options = parser.parse_args(argv)
    base = QUICK if options.quick else FULL
    only_10k = tuple(size for size in base.sizes if size[0] == 10_000)
    plan = replace(base, sizes=only_10k)
    ratios: list[float] = []
    for run in range(options.runs):
        with tempfile.TemporaryDirectory(prefix="statdash-cycle-") as temporary:
            work = Path(temporary)
            (result,) = asyncio.run(measure_sizes(plan, work, child_env(work)))
        cycle = statistics.fmean(result.cycle.cycle_ms)
        floor = statistics.fmean(result.floor.cpu_ms)
        ratios.append(cycle / floor)
        print(
            f"run {run + 1}: {result.scaled.statistics:,} statistics, cycle {cycle:.1f} ms,"
            f" floor {floor:.1f} ms, cycle/floor {cycle / floor:.2f}",
            flush=True,
        )
    each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"cycle/floor median of {len(ratios)}: {statistics.median(ratios):.2f} ({each})")
