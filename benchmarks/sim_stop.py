"""How long a running simulator takes to start and to stop, as every simulator test does.

    python benchmarks/sim_stop.py [CYCLES] [--uvicorn-shutdown]

Each cycle starts a simulator on loopback (`running_simulator`, the small floor the tests use),
makes one admin request (so a kept-alive connection is open, as after any test) and stops it.
Prints the median, min and max of the start and stop times over CYCLES cycles (default 20).
With --uvicorn-shutdown the server is plain `uvicorn.Server` stopped through its public
`should_exit` flag, i.e. what the stop would cost without runner._Server's fast path; run both
before bumping the uvicorn pin in pyproject.
"""

from __future__ import annotations

import statistics
import sys
import time

import uvicorn

from statdash.sim import runner
from statdash.sim.config import SimConfig


class _PublicApiServer(uvicorn.Server):
    """uvicorn's own main loop and shutdown, stopped the documented way."""

    def request_stop(self) -> None:
        self.should_exit = True


def _figures(seconds: list[float]) -> str:
    median, low, high = (1000 * f(seconds) for f in (statistics.median, min, max))
    return f"median {median:.1f} ms (min {low:.1f}, max {high:.1f})"


def main(argv: list[str]) -> None:
    if "--uvicorn-shutdown" in argv:
        runner._Server = _PublicApiServer  # type: ignore[misc,assignment]
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


if __name__ == "__main__":
    main(sys.argv[1:])
