"""How long the dashboard's data takes to be right again after a push reply that is not JSON.

Run: `.venv/bin/python benchmarks/faults.py push-recovery [--runs 10] [--refresh 2]`.
A simulator on its real clock (in this process, on loopback; connects held 5 s) and a
`LiveController` under push (auto) at `--refresh` seconds, as the dashboard runs it, a new
one per run. Two cases, `--runs` each: one damaged connect reply (`malformed_push:
invalid_json`, count 1), timed from the failed connect to the reconciliation peek that
corrects what it lost; and every reply damaged until the channel is lost, timed from the
fault's end to push live again with that peek done. The bar is two refresh intervals.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from statdash.api.client import StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live.controller import LiveController, plan_for
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

API_KEY = "bench-key"
LAYOUT = """
title: Push recovery
refresh: 2s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak, carla.ortiz, dev.weber, elena.ivanova]
        columns: [{stat: InboundCalls, label: Calls}, {stat: TalkDuration, label: Talk}]
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}, {queue: 8002@SIP_Switch}]
        columns: [{stat: CurrentNumberWaitingCalls, label: Waiting}, {stat: Total_Answered}]
"""


async def until(condition: object, ceiling: float = 60.0) -> None:
    """Wait for `condition()` to hold (polled every 10 ms), at most `ceiling` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.01)


class _Failures(logging.Handler):
    """Notes when the feed reports a failed connect (the damaged reply reached it)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("push connect failed"):
            self.at.append(time.monotonic())


async def one_run(
    simulator: RunningSimulator, refresh: float, failures: _Failures, *, outage: bool
) -> float:
    """Seconds from the damage's end to the screen right again under push.

    One damaged reply (`outage` False): from the failed connect to the reconciliation peek
    that corrects what it lost. Every reply damaged until the channel is lost (`outage`
    True): from the fault's end to push live again with that peek done.
    """
    layout = compile_layout(load_layout_text(LAYOUT, file="recovery.yaml"))
    async with StatisticsClient(simulator.base_url, API_KEY) as client:
        controller = LiveController(
            client,
            plan_for(replace(layout, refresh=refresh)),
            on_change=lambda _: None,
            on_status=lambda _: None,
            open_channel=lambda: PushChannel(client),
        )
        controller.start()
        try:
            await until(lambda: controller.pushing and controller.store.revision > 0)
            # Settle: the opening of the channel is well behind us.
            await asyncio.sleep(refresh * 3)
            seen = len(failures.at)
            if outage:
                simulator.set_faults(malformed_push="invalid_json")
                await until(lambda: controller.status.updates == "push lost: polling")
                simulator.clear_faults()
                since = time.monotonic()
            else:
                simulator.set_faults(malformed_push={"kind": "invalid_json", "count": 1})
                await until(lambda: len(failures.at) > seen)
                since = failures.at[seen]
            wall = time.time() - (time.monotonic() - since)
            await until(
                lambda: controller.pushing and (controller.status.checked_at or 0.0) >= wall
            )
            return time.monotonic() - since
        finally:
            await controller.close()


async def main_async(runs: int, refresh: float) -> None:
    failures = _Failures()
    logging.getLogger("statdash.live").addHandler(failures)
    logging.getLogger("statdash.live").setLevel(logging.INFO)
    logging.getLogger("statdash.live").propagate = False
    config = SimConfig(agents=20, queues=3, seed=7, api_key=API_KEY, notification_hold=5.0)
    bar = 2 * refresh
    with running_simulator(config, log_level="critical") as simulator:
        for outage in (False, True):
            what = "every reply damaged until push lost" if outage else "one damaged reply"
            results = []
            for run in range(runs):
                results.append(await one_run(simulator, refresh, failures, outage=outage))
                print(f"{what}, run {run + 1:2}: right again in {results[-1]:5.2f} s")
            print(
                f"{what}: median {statistics.median(results):.2f} s, "
                f"max {max(results):.2f} s; {sum(r > bar for r in results)} of {runs} "
                f"over two intervals ({bar:g} s)"
            )


def main(argv: list[str]) -> None:
    """Parse `argv` (the question's own options) and measure."""
    parser = argparse.ArgumentParser(
        prog="faults.py push-recovery", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--refresh", type=float, default=2.0)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.runs, args.refresh))


if __name__ == "__main__":
    main(sys.argv[1:])
