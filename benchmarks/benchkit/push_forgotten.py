"""How long a subscription the server forgot stays frozen under push before it is reopened.

Run: `.venv/bin/python benchmarks/faults.py push-forgotten [--runs 3] [--refresh 2]`.
A simulator on its real clock (in this process, on loopback; time-driven statistics pushed
every 5 s, its default) and a `LiveController` under push at `--refresh` seconds, as the
dashboard runs it, a new one per run. After 20 s of deliveries, the simulator forgets every
REST subscription (`drop_subscriptions`, the channel stays healthy); timed from then to
the dashboard holding a new subscription.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchkit.push_recovery import API_KEY, LAYOUT, until
from statdash.api.client import StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live.controller import LiveController, plan_for
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

SETTLE = 20.0


async def one_run(simulator: RunningSimulator, refresh: float) -> float:
    """Seconds from the server forgetting the subscription to a new one being held."""
    layout = compile_layout(load_layout_text(LAYOUT, file="forgotten.yaml"))
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
            await asyncio.sleep(SETTLE)
            old = controller.status.subscription_id
            simulator.set_faults(drop_subscriptions=True)
            dropped = time.monotonic()
            await until(lambda: controller.status.subscription_id not in (None, old), ceiling=120.0)
            return time.monotonic() - dropped
        finally:
            await controller.close()


async def main_async(runs: int, refresh: float) -> None:
    config = SimConfig(agents=20, queues=3, seed=7, api_key=API_KEY)
    with running_simulator(config, log_level="critical") as simulator:
        results = []
        for run in range(runs):
            results.append(await one_run(simulator, refresh))
            print(f"run {run + 1}: reopened {results[-1]:5.2f} s after the server forgot it")
        print(f"median {statistics.median(results):.2f} s, max {max(results):.2f} s")


def main(argv: list[str]) -> None:
    """Parse `argv` (the question's own options) and measure."""
    parser = argparse.ArgumentParser(
        prog="faults.py push-forgotten", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refresh", type=float, default=2.0)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.runs, args.refresh))


if __name__ == "__main__":
    main(sys.argv[1:])
