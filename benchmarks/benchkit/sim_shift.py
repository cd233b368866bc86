"""How long the simulated contact center takes to run an 8-hour shift, in-process, per floor size.

    python benchmarks/perf.py sim-shift [REPEATS]

Builds the model exactly as `statdash sim` does (`Simulator(SimConfig(...)).model`, on a
manual clock), at the default size (50 agents, 5 queues) and at floor size (2,000 agents,
50 queues), then advances it one simulated second at a time, as a realtime simulator polled
every second would, through 8 simulated hours. Prints the wall and CPU seconds of the shift
(building the model is timed apart), the median of REPEATS runs (default 3) with every run's
figure, and the events processed, which are the same on every run since the seed is fixed.
No HTTP and no threads: what is measured is the model alone.
"""

from __future__ import annotations

import statistics
import time

from statdash.sim.config import SimConfig
from statdash.sim.simulator import Simulator

SHIFT_SECONDS = 8 * 3600
START = 1_700_000_000.0
SIZES = (("default", 50, 5), ("floor", 2_000, 50))


def one_shift(agents: int, queues: int) -> tuple[float, float, float, int]:
    """(build wall s, shift wall s, shift CPU s, events processed) of one fresh model."""
    config = SimConfig(agents=agents, queues=queues, clock="manual", start_time=START)
    built = time.perf_counter()
    model = Simulator(config).model
    build_wall = time.perf_counter() - built
    wall, cpu = time.perf_counter(), time.process_time()
    for second in range(1, SHIFT_SECONDS + 1):
        model.advance_to(START + second)
    return (
        build_wall,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        model.events_processed,
    )


def _figures(values: list[float]) -> str:
    runs = ", ".join(f"{v:.3f}" for v in values)
    return f"{statistics.median(values):.3f} s ({runs})"


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv else 3
    for label, agents, queues in SIZES:
        runs = [one_shift(agents, queues) for _ in range(repeats)]
        print(
            f"{label} {agents} agents / {queues} queues, {runs[0][3]:,} events: "
            f"shift wall {_figures([r[1] for r in runs])}, "
            f"CPU {_figures([r[2] for r in runs])}, "
            f"build wall {_figures([r[0] for r in runs])}"
        )
