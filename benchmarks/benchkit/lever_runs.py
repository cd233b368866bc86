"""The lever ablation alone, repeated: median per lever of several full lever runs.

    python benchmarks/perf.py levers --runs 3

Each run is `perf.py`'s lever table (the code, then the code with one lever off at a time, at
floor.yaml's size) in its own simulator; the summary gives each step's mean cycle per run and
the median of those means, and *worth* as the median step minus the median of the code as it
is. This is how a lever earns its place: it stays only when its worth is clearly beyond the
run-to-run noise (the spread of the first row across runs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchkit.measure import FULL, QUICK, measure_levers
from benchkit.simproc import child_env


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="lever runs (default 3)")
    parser.add_argument("--quick", action="store_true", help="fewer cycles per step")
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else FULL
    means: dict[str, list[float]] = {}
    for run in range(options.runs):
        with tempfile.TemporaryDirectory(prefix="statdash-levers-") as temporary:
            work = Path(temporary)
            results, _, _ = asyncio.run(measure_levers(plan, work, child_env(work)))
        for result in results:
            means.setdefault(result.lever.name, []).append(statistics.fmean(result.cycle.cycle_ms))
        print(f"run {run + 1}/{options.runs} done", file=sys.stderr, flush=True)
    names = list(means)
    base = statistics.median(means[names[0]])
    print("| step | cycle ms (mean) per run | median | worth (ms) |")
    print("| --- | --- | --- | --- |")
    for name in names:
        runs = ", ".join(f"{value:.1f}" for value in means[name])
        median = statistics.median(means[name])
        worth = "" if name == names[0] else f"{median - base:+.1f}"
        print(f"| {name} | {runs} | {median:.1f} | {worth} |")
