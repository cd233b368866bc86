"""`hub.py dashboards`: real TUI dashboards through the hub beside direct ones, side by side.

One simulator of the floor (2,000 agents, 50 queues), a local nats-server and the hub in its
own process. Dashboard i on each side is `statdash run` of team i's layout (20 agents, the
50 shared queues, floor.yaml's statistics; `layouts.write_team`) on a pty of 200x50, direct
(`--url` the simulator) or through the hub (`--url nats://...`). They start a pair at a time
(one direct, one through the hub, together), each pair once the previous one showed data, so
each side's first frame meets the same load. Then, after a settling time, every dashboard's
CPU share over one window, the hub's and the simulator's beside them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchkit.hub_report import stamp, write_subsection
from benchkit.hubproc import HubProcess, left_open
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_team
from benchkit.ptyproc import PtyProcess
from benchkit.report import markdown_table, median, spread
from benchkit.simproc import SimProcess, child_env, proc_cpu_seconds
from benchkit.startup import load
from statdash.hub.natsd import running_nats

NAMESPACE = "bench"
SIZE = (200, 50)
FRAME_TIMEOUT = 120.0
SIDES = ("direct", "hub")
HEADER = ("", "direct", "through the hub")


@dataclass(frozen=True, slots=True)
class Plan:
    """How many and how long: full or --quick."""

    dashboards: int
    settle: float
    window: float


FULL = Plan(dashboards=20, settle=10.0, window=60.0)
QUICK = Plan(dashboards=4, settle=3.0, window=15.0)


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[hub dashboards {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(plan: Plan, refresh: float, work: Path) -> str:
    """Start the pairs, measure the window; the Markdown of the run."""
    env = child_env(work)
    layouts = [
        write_team(work / "layouts", team, refresh=refresh) for team in range(plan.dashboards)
    ]
    began = stamp()
    frames: dict[str, list[float]] = {side: [] for side in SIDES}
    shares: dict[str, list[float]] = {side: [] for side in SIDES}
    rss: dict[str, list[float]] = {side: [] for side in SIDES}
    with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as sim, running_nats() as nats:
        hub = HubProcess(
            sim.base_url, nats.url, env=env, namespace=NAMESPACE, interval=refresh, grace=30.0,
            records=work / "hub-records.json",
        ).start()  # fmt: skip
        hub_env = env | {"STATDASH_HUB_NAMESPACE": NAMESPACE}
        dashboards: dict[str, list[PtyProcess]] = {side: [] for side in SIDES}
        try:
            for index, scaled in enumerate(layouts):
                pair = {
                    "direct": PtyProcess(
                        [sys.executable, "-m", "statdash", "run", str(scaled.path), "--url",
                         sim.base_url], env=env, size=SIZE,
                    ),
                    "hub": PtyProcess(
                        [sys.executable, "-m", "statdash", "run", str(scaled.path), "--url",
                         nats.url], env=hub_env, size=SIZE,
                    ),
                }  # fmt: skip
                for side in SIDES:
                    dashboards[side].append(pair[side].start())
                for side in SIDES:
                    seconds = pair[side].wait_for_data(FRAME_TIMEOUT)
                    if seconds is None:
                        raise RuntimeError(f"{side} dashboard {index}: no data within 120 s")
                    frames[side].append(seconds)
                log(f"pair {index + 1}: direct {frames['direct'][-1]:.2f} s,"
                    f" hub {frames['hub'][-1]:.2f} s")  # fmt: skip
            time.sleep(plan.settle)
            load_before = load()
            everyone = [d for side in SIDES for d in dashboards[side]]
            before = [d.cpu_seconds() for d in everyone]
            others = {"hub": hub.pid, "simulator": sim.pid, "nats-server": nats.process.pid}
            others_before = {k: proc_cpu_seconds(p) for k, p in others.items()}
            started = time.monotonic()
            time.sleep(plan.window)
            elapsed = time.monotonic() - started
            after = [d.cpu_seconds() for d in everyone]
            others_share = {
                k: 100 * (proc_cpu_seconds(p) - others_before[k]) / elapsed
                for k, p in others.items()
            }
            load_after = load()
            for dash, spent_before, spent_after in zip(everyone, before, after, strict=True):
                side = "direct" if dash in dashboards["direct"] else "hub"
                shares[side].append(100 * (spent_after - spent_before) / elapsed)
                rss[side].append(dash.memory_kib()[0] / 1024)
            alive = {side: sum(d.alive() for d in dashboards[side]) for side in SIDES}
        finally:
            for side in SIDES:
                for dash in dashboards[side]:
                    dash.stop()
            hub.stop()
        left = left_open(sim)
    rows = [
        ["dashboards (all alive at the end)", *(f"{plan.dashboards} ({alive[s]})" for s in SIDES)],
        ["first frame with data, median (min-max), s",
         *(spread(frames[s], digits=2) for s in SIDES)],
        ["CPU per dashboard, median (max), % of one core",
         *(f"{median(shares[s]):.1f} ({max(shares[s]):.1f})" for s in SIDES)],
        ["CPU of all the side's dashboards, % of one core",
         *(f"{sum(shares[s]):.1f}" for s in SIDES)],
        ["RSS per dashboard, median, MiB", *(f"{median(rss[s]):.0f}" for s in SIDES)],
    ]  # fmt: skip
    text = (
        f"Run {began}; window {elapsed:.0f} s with load average {load_before} before and"
        f" {load_after} after. Command: `python benchmarks/hub.py dashboards"
        f"{' --quick' if plan is QUICK else ''} --dashboards {plan.dashboards}"
        f" --refresh {refresh:g}`.\n\n"
        f"{plan.dashboards} `statdash run` dashboards a side on ptys of {SIZE[0]}x{SIZE[1]}, team"
        f" layouts (20 agents and the 50 shared queues, floor.yaml's statistics) at a"
        f" {refresh:g} s refresh, updates auto (push), one simulator of 2,000 agents for both"
        f" sides. Over the same window: the hub {others_share['hub']:.1f} %, nats-server"
        f" {others_share['nats-server']:.1f} % and the simulator"
        f" {others_share['simulator']:.1f} % of one core. Subscriptions left on the simulator"
        f" after everything stopped: {left}.\n\n" + markdown_table(HEADER, rows)
    )
    return text


def main(argv: list[str]) -> None:
    """`hub.py dashboards [--quick] [--dashboards N] [--refresh S] [--no-docs]`."""
    parser = argparse.ArgumentParser(prog="hub.py dashboards", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 dashboards a side, 15 s")
    parser.add_argument("--dashboards", type=int, help="dashboards a side")
    parser.add_argument("--refresh", type=float, default=5.0, help="the layouts' refresh, s")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/hub.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.dashboards:
        plan = Plan(args.dashboards, plan.settle, plan.window)
    with tempfile.TemporaryDirectory(prefix="hub-dashboards-") as work:
        text = measure(plan, args.refresh, Path(work))
    print(text)
    if not args.no_docs:
        write_subsection("Dashboards: statdash run through the hub and direct", text)
