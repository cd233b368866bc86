"""`hub.py faults`: how clients through the hub come through its faults, and what is left.

One simulator of the floor, a nats-server and the hub (its own process, with records), and
headless clients through it (`client_worker.py`, team layouts of the 50 shared queues). Then,
one after the other:
- a client killed with -9 (a lone client whose team nobody else watches, so its agents sit
  in an upstream subscription of their own): the time until the simulator no longer holds
  that subscription (its lease lapses, then the hub's grace period passes);
- the hub killed with -9 and restarted after a pause: how many subscriptions it left on the
  simulator, whether the restarted hub deleted them (from its records), and the recovery;
- nats-server stopped and started again on its port after a pause: the recovery;
- the simulator stopped and started again on its port after a pause: the recovery.
Recovery is the time from the restart until every client showed a value pinned on the
simulator just after it (a queue's CurrentNumberWaitingCalls, which every client holds):
live data again. At the end everything stops in order and the simulator must hold nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchkit.hub_report import stamp, write_subsection
from benchkit.hubproc import ClientProcess, HubProcess, left_open, stop_all, wait_until
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_team
from benchkit.report import DASH, markdown_table, median
from benchkit.simproc import SimProcess, child_env
from benchkit.startup import load
from statdash.hub.natsd import LocalNats, free_port, start_nats
from statdash.hub.protocol import DEFAULT_LEASE_SECONDS
from statdash.sim.ids import queue_id

NAMESPACE = "bench"
GRACE = 5.0
PAUSE = 3.0
RECOVERY_TIMEOUT = 180.0
HEADER = ("fault", "recovery, median / max (s)", "what happened", "load average")
LONE_TEAM = 50
"""A team the other clients (teams 0..clients-1) never include."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How many clients: full or --quick."""

    clients: int
    processes: int


FULL = Plan(clients=40, processes=2)
QUICK = Plan(clients=6, processes=1)


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[hub faults {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Fault:
    """One fault's figures."""

    name: str
    recovery: list[float]
    """Seconds from the restart to each client's showing the fresh value."""
    note: str
    load: str


class Floor:
    """The simulator, NATS, the hub and the clients, and the next pinned value."""

    def __init__(self, sim: SimProcess, nats: LocalNats, hub: HubProcess) -> None:
        self.sim = sim
        self.nats = nats
        self.hub = hub
        self.workers: list[ClientProcess] = []
        self._tag = 0

    def seen_fresh_value(self) -> list[float]:
        """Pin a new waiting count on a queue every client holds; the seconds each took to
        show it (RuntimeError when one does not within the timeout)."""
        self._tag += 1
        tag, value = self._tag, 700 + self._tag
        queue = queue_id(self._tag % FLOOR_QUEUES)
        clients = sum(w.watch(tag, queue, "CurrentNumberWaitingCalls", value) for w in self.workers)
        pinned = time.monotonic()
        self.sim.pin("Queue", queue, "CurrentNumberWaitingCalls", value)
        waited = wait_until(
            lambda: sum(len(w.seen.get(tag, [])) for w in self.workers) >= clients,
            RECOVERY_TIMEOUT,
        )
        if waited is None:
            seen = sum(len(w.seen.get(tag, [])) for w in self.workers)
            raise RuntimeError(f"only {seen} of {clients} clients showed live data again")
        return [at - pinned for w in self.workers for at in w.seen.get(tag, [])]


def restart(floor: Floor, name: str, stop: Callable[[], None], start: Callable[[], None]) -> Fault:
    """Stop something, pause, start it again; the clients' recovery after the start."""
    load_at = load()
    stop()
    time.sleep(PAUSE)
    start()
    recovery = floor.seen_fresh_value()
    log(f"{name}: every client live {max(recovery):.1f} s after the restart")
    return Fault(name, recovery, f"stopped for {PAUSE:g} s", load_at)


def measure(plan: Plan, work: Path) -> str:
    """Run the faults in order; the Markdown of the run."""
    env = child_env(work)
    layouts = work / "layouts"
    teams = list(range(plan.clients))
    for team in [*teams, LONE_TEAM]:
        write_team(layouts, team, refresh=5.0)
    began = stamp()
    faults: list[Fault] = []
    port = free_port()
    nats = start_nats(port)
    sim = SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env).start()
    records = work / "hub-records.json"
    hub = HubProcess(
        sim.base_url, nats.url, env=env, namespace=NAMESPACE, interval=5.0, grace=GRACE,
        records=records,
    )  # fmt: skip
    floor = Floor(sim, nats, hub)
    lone: ClientProcess | None = None
    left_at_end = -1
    try:
        hub.start()
        floor.workers = [
            ClientProcess("hub", nats.url, layouts, teams[i :: plan.processes], env=env,
                          namespace=NAMESPACE).start()
            for i in range(plan.processes)
        ]  # fmt: skip
        if wait_until(lambda: all(w.all_framed() for w in floor.workers), 300.0, 0.5) is None:
            raise RuntimeError("not every client showed a full frame")
        floor.seen_fresh_value()
        # The lone client declares after the others: its agents get a subscription of their own.
        before = set(sim.state()["subscriptions"])
        lone = ClientProcess("hub", nats.url, layouts, [LONE_TEAM], env=env, namespace=NAMESPACE)
        lone.start()
        if wait_until(lone.all_framed, 60.0, 0.2) is None:
            raise RuntimeError("the lone client showed no full frame")
        own = set(sim.state()["subscriptions"]) - before
        log(f"clients framed; the lone client's own upstream subscriptions: {len(own)}")
        load_at = load()
        killed = time.monotonic()
        lone.kill()
        gone = wait_until(
            lambda: not own & set(sim.state()["subscriptions"]),
            DEFAULT_LEASE_SECONDS + GRACE + 60.0,
            0.2,
        )
        faults.append(
            Fault(
                "a client killed with -9",
                [] if gone is None else [time.monotonic() - killed],
                f"its {len(own)} own subscription(s) closed upstream"
                if gone is not None
                else "its subscription was NOT closed",
                load_at,
            )
        )
        log(f"lone client: subscription gone {gone} s after the kill")

        left_by_hub: set[str] = set()

        def kill_hub() -> None:
            hub.kill()
            left_by_hub.update(sim.state()["subscriptions"])

        def start_hub_again() -> None:
            hub.start()

        faults.append(
            restart(floor, "the hub killed with -9, restarted", kill_hub, start_hub_again)
        )
        still = left_by_hub & set(sim.state()["subscriptions"])
        faults[-1].note += (
            f"; it left {len(left_by_hub)} subscription(s) upstream, the restarted hub deleted"
            f" {len(left_by_hub) - len(still)} of them"
        )

        def start_nats_again() -> None:
            floor.nats = start_nats(port)

        faults.append(restart(floor, "nats-server restarted", floor.nats.stop, start_nats_again))
        sim_port = urlsplit(sim.base_url).port
        assert sim_port is not None
        sim.port = sim_port

        def start_sim_again() -> None:
            sim.start()

        faults.append(restart(floor, "the simulator restarted", sim.stop, start_sim_again))
    finally:
        stop_all([*floor.workers, *([lone] if lone is not None else [])])
        hub.stop()
        if sim.base_url:
            left_at_end = left_open(sim)
        sim.stop()
        floor.nats.stop()
    rows = [
        [
            fault.name,
            f"{median(fault.recovery):.1f} / {max(fault.recovery):.1f}" if fault.recovery else DASH,
            fault.note,
            fault.load,
        ]
        for fault in faults
    ]
    return (
        f"Run {began}. Command: `python benchmarks/hub.py faults"
        f"{' --quick' if plan is QUICK else ''} --clients {plan.clients}`.\n\n"
        f"{plan.clients} headless clients through one hub (team layouts: 20 agents and the 50"
        f" shared queues, floor.yaml's statistics, refresh 5 s, updates auto), one simulator"
        f" of 2,000 agents; the hub's grace {GRACE:g} s, the clients' lease"
        f" {DEFAULT_LEASE_SECONDS:g} s. Recovery: seconds from the restart until each client"
        f" showed a value pinned just after it (the client kill: from the kill until its"
        f" subscription was closed upstream).\n\n"
        + markdown_table(HEADER, rows)
        + f"\n\nSubscriptions left on the simulator after everything stopped: {left_at_end}.\n"
    )


def main(argv: list[str]) -> None:
    """`hub.py faults [--quick] [--clients N] [--no-docs]`."""
    parser = argparse.ArgumentParser(prog="hub.py faults", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 clients")
    parser.add_argument("--clients", type=int, help="clients through the hub")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/hub.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.clients:
        plan = Plan(args.clients, plan.processes)
    with tempfile.TemporaryDirectory(prefix="hub-faults-") as work:
        text = measure(plan, Path(work))
    print(text)
    if not args.no_docs:
        write_subsection("Faults: recovery, and nothing left upstream", text)
