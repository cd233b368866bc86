"""How long a running simulator takes to start and to stop, as every simulator test does.

    python benchmarks/perf.py sim-stop [CYCLES]

Each cycle starts a simulator on loopback (`running_simulator`, the small floor the tests use),
makes one admin request (so a kept-alive connection is open, as after any test) and stops it.
Prints the median, min and max of the start and stop times over CYCLES cycles (default 20).
(What uvicorn's own shutdown would cost, the figure in docs/simulator.md, was measured by
swapping the runner's private server class; that lever has no public seam, so it is no longer
measured here: tests/sim/test_sim_runner.py keeps the fast stop honest.)
"""

from __future__ import annotations

import statistics
import time

from statdash.sim import runner
from statdash.sim.config import SimConfig


def _figures(seconds: list[float]) -> str:
    median, low, high = (1000 * f(seconds) for f in (statistics.median, min, max))
    return f"median {median:.1f} ms (min {low:.1f}, max {high:.1f})"


def main(argv: list[str]) -> None:
    """`perf.py sim-stop`: start and stop times, printed."""
    numbers = [a for a in argv if not a.startswith("--")]
    cycles = int(numbers[0]) if numbers else 20
    config = SimConfig(agents=40, queues=5, seed=7, clock="manual", start_time=1_700_000_000.0)
    starts: list[float] = []
    stops: list[float] = []
    for _ in range(cycles):
        sim = runner.running_simulator(config)
        began = time.perf_counter()
        sim.start()
        starts.append(time.perf_counter() - began)
        sim.state()
        began = time.perf_counter()
        sim.stop()
        stops.append(time.perf_counter() - began)
    print(f"{cycles} cycles: start {_figures(starts)}, stop {_figures(stops)}")
