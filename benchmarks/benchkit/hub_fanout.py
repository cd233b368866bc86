"""`hub.py fanout`: many headless supervisors, direct against through one hub, side by side.

Two simulators of the same floor (2,000 agents, 50 queues, same seed) run at once: one serves
the direct clients, the other the hub, so each side's subscriptions, statistics, requests and
CometD clients are counted apart while both share the machine at the same moment. Each side
has the same supervisors: client i watches team i (20 agents, teams wrapping round the floor,
so every team has two supervisors) and the 50 shared queues, floor.yaml's statistics
(`layouts.write_team`), many clients per process (`client_worker.py`). The hub is its own
process on a local nats-server. Once every client showed a full frame and a settling time
passed, a window is measured: the simulators' request counters and CPU, the hub's and
nats-server's CPU and RSS, the clients' CPU; during it, pins (POST /simulator/pin, one
agent's InboundCalls to a value it never had) go to both simulators, and each client whose
layout holds that agent tells when it shows the value: pin-to-client latency per side; a
NATS subscriber beside the clients (`HubTap`) tells when the hub published it, the hub's part.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from benchkit.hub_report import percentile, stamp, write_subsection
from benchkit.hubproc import ClientProcess, HubProcess, left_open, stop_all, wait_until
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, TEAM_AGENTS, team_agents, write_team
from benchkit.report import DASH, markdown_table, median, verdict
from benchkit.simproc import SimProcess, child_env, proc_cpu_seconds, proc_memory_kib
from benchkit.startup import load
from statdash.api.settings import HubSettings
from statdash.hub.connection import close, connect
from statdash.hub.natsd import running_nats
from statdash.hub.protocol import Changes, Subjects, decode, object_key
from statdash.live.controller import MAX_FLUSH_GAP

NAMESPACE = "bench"
FRAME_TIMEOUT = 300.0
GOAL_MS = 250
PIN_BASE = 900_000
"""Pinned values start here: far above any count the simulator makes up."""
SEEN_TIMEOUT = 10.0
SIDES = ("direct", "hub")
HEADER = ("", "direct", "through the hub")


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long: full or --quick."""

    clients: int
    processes: int
    pins: int
    window: float
    settle: float


FULL = Plan(clients=200, processes=4, pins=60, window=60.0, settle=10.0)
QUICK = Plan(clients=40, processes=2, pins=20, window=20.0, settle=5.0)


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[hub fanout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class HubTap:
    """A NATS subscriber beside the clients, on its own thread and loop: when the hub
    published each pinned value (the hub's part of a pin's way to a client)."""

    def __init__(self, url: str, namespace: str) -> None:
        self._settings = HubSettings(url=url, namespace=namespace)
        self._subjects = Subjects(namespace)
        self.published: dict[float, float] = {}
        """Pinned value -> monotonic time the hub's first message carrying it arrived."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: NatsClient | None = None
        self._done: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> HubTap:
        """Connect (on the tap's thread) and return once connected."""
        self._thread.start()
        if not self._ready.wait(30.0):
            raise RuntimeError("the NATS tap did not connect")
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        self._connection = await connect(self._settings, name="benchmark tap")
        self._ready.set()
        await self._done.wait()
        await close(self._connection)

    async def _take(self, message: Msg) -> None:
        now = time.monotonic()
        for value in decode(message.data, Changes).values.values:
            # A count comes as the server sent it: {"intValue": N, "stringValue": "N", ...}.
            number = value.get("intValue") if isinstance(value, dict) else None
            if isinstance(number, int) and number >= PIN_BASE:
                self.published.setdefault(float(number), now)

    async def _follow(self, object_id: str) -> None:
        assert self._connection is not None
        subject = self._subjects.values(object_key("Agent", object_id))
        await self._connection.subscribe(subject, cb=self._take)
        await self._connection.flush()

    def follow(self, agent: str) -> None:
        """Hear this agent's changes from now on (confirmed by NATS before this returns)."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._follow(agent), self._loop).result(30.0)

    def stop(self) -> None:
        """Disconnect and end the thread."""
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(10.0)


def chunks(teams: list[int], parts: int) -> list[list[int]]:
    """`teams` dealt into `parts` lists."""
    return [teams[index::parts] for index in range(parts)]


def rest_requests(state: dict[str, object]) -> tuple[int, int]:
    """(REST requests, CometD HTTP requests) the simulator has served so far.

    The simulator counts each request by operation (`requests` in its state): the Statistics
    API's own (subscribe, peek, delete, ...), `notifications` for each CometD HTTP request,
    and `notifications.KIND` for each Bayeux message inside one (not requests: left out).
    """
    counts = state["requests"]
    assert isinstance(counts, dict)
    rest = sum(n for op, n in counts.items() if not op.startswith("notifications"))
    return rest, int(counts.get("notifications", 0))


@dataclass
class Side:
    """One side's simulator and client processes, and what was measured of it."""

    name: str
    sim: SimProcess
    workers: list[ClientProcess]
    pinned_at: dict[int, float]
    pin_answered: list[float] = field(default_factory=list)
    """Seconds each POST /simulator/pin took to be answered (a busy server answers late)."""

    def first_frames(self) -> list[float]:
        """Seconds from each worker's start to each of its clients' first full frame."""
        return [at - w.started_at for w in self.workers for at in w.framed.values()]

    def latencies(self) -> tuple[list[float], int]:
        """Pin-to-client seconds of every client that showed a pin, and how many never did."""
        found: list[float] = []
        missed = 0
        for worker in self.workers:
            for tag, pinned in self.pinned_at.items():
                seen = worker.seen.get(tag, [])
                found.extend(at - pinned for at in seen)
                missed += worker.armed.get(tag, 0) - len(seen)
        return found, missed


def measure(plan: Plan, refresh: float, work: Path) -> str:
    """Run both sides at once; the Markdown of the run (also printed)."""
    env = child_env(work)
    layouts = work / "layouts"
    teams = list(range(plan.clients))
    for team in teams:
        write_team(layouts, team, refresh=refresh)
    items = write_team(layouts, 0, refresh=refresh).statistics
    began = stamp()
    log(f"{plan.clients} clients a side, {items} statistics each, refresh {refresh:g} s")
    with (
        SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as direct_sim,
        SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as hub_sim,
        running_nats() as nats,
    ):
        hub = HubProcess(
            hub_sim.base_url, nats.url, env=env, namespace=NAMESPACE, interval=refresh,
            grace=30.0, records=work / "hub-records.json",
        ).start()  # fmt: skip
        tap = HubTap(nats.url, NAMESPACE).start()
        sides = {
            "direct": Side(
                "direct",
                direct_sim,
                [
                    ClientProcess("direct", direct_sim.base_url, layouts, part, env=env)
                    for part in chunks(teams, plan.processes)
                ],
                {},
            ),
            "hub": Side(
                "hub",
                hub_sim,
                [
                    ClientProcess("hub", nats.url, layouts, part, env=env, namespace=NAMESPACE)
                    for part in chunks(teams, plan.processes)
                ],
                {},
            ),
        }
        workers = [
            w for pair in zip(*(s.workers for s in sides.values()), strict=True) for w in pair
        ]
        try:
            for worker in workers:
                worker.start()
            waited = wait_until(lambda: all(w.all_framed() for w in workers), FRAME_TIMEOUT, 0.5)
            if waited is None:
                framed = {s.name: sum(len(w.framed) for w in s.workers) for s in sides.values()}
                raise RuntimeError(f"not every client showed a full frame: {framed}")
            log(f"every client framed after {waited:.1f} s; settling {plan.settle:g} s")
            time.sleep(plan.settle)
            load_before = load()
            states = {name: side.sim.state() for name, side in sides.items()}
            pids = {
                "direct simulator": direct_sim.pid, "hub simulator": hub_sim.pid,
                "hub": hub.pid, "nats-server": nats.process.pid,
            }  # fmt: skip
            client_pids = {name: [w.pid for w in side.workers] for name, side in sides.items()}

            def cpu_now() -> dict[str, float]:
                found = {k: proc_cpu_seconds(p) for k, p in pids.items()}
                for name, listed in client_pids.items():
                    found[f"{name} clients"] = sum(proc_cpu_seconds(p) for p in listed)
                return found

            cpu_before, started = cpu_now(), time.monotonic()
            rng = random.Random(7)
            agents = rng.sample(
                [
                    a
                    for team in range(min(plan.clients, FLOOR_AGENTS // TEAM_AGENTS))
                    for a in team_agents(team)
                ],
                plan.pins,
            )
            slot = plan.window / plan.pins
            for tag, agent in enumerate(agents):
                # At a random moment of its slot: pins a steady second apart would fall at
                # the same phase of every client's one-second pacing, and measure only it.
                due = started + (tag + rng.uniform(0.0, 0.8)) * slot
                time.sleep(max(0.0, due - time.monotonic()))
                value = PIN_BASE + tag
                tap.follow(agent)
                for worker in workers:
                    worker.watch(tag, agent, "InboundCalls", value)
                for side in sides.values():
                    side.pinned_at[tag] = time.monotonic()
                    side.sim.pin("Agent", agent, "InboundCalls", value)
                    side.pin_answered.append(time.monotonic() - side.pinned_at[tag])
            time.sleep(max(0.0, started + plan.window - time.monotonic()))
            elapsed = time.monotonic() - started
            cpu_after = cpu_now()
            load_after = load()
            after = {name: side.sim.state() for name, side in sides.items()}
            hub_rss = hub.rss_mib()
            nats_rss = proc_memory_kib(nats.process.pid)[0] / 1024
            worker_rss = {n: [w.rss_mib() for w in s.workers] for n, s in sides.items()}

            def everyone_saw() -> bool:
                return all(s.latencies()[1] == 0 for s in sides.values())

            wait_until(everyone_saw, SEEN_TIMEOUT, 0.2)
        finally:
            stop_all(workers)
            tap.stop()
            hub.stop()
        left = {name: left_open(side.sim) for name, side in sides.items()}
    cpu = {k: 100 * (cpu_after[k] - cpu_before[k]) / elapsed for k in cpu_before}
    minutes = elapsed / 60
    rows = []

    def row(label: str, direct: str, through: str) -> None:
        rows.append([label, direct, through])

    rest = {n: (rest_requests(after[n])[0] - rest_requests(states[n])[0]) / minutes for n in SIDES}
    pushes = {
        n: (rest_requests(after[n])[1] - rest_requests(states[n])[1]) / minutes for n in SIDES
    }
    row("clients", str(plan.clients), str(plan.clients))
    row("statistics per client", str(items), str(items))
    row(
        "subscriptions open on the simulator",
        *(str(after[n]["open_subscriptions"]) for n in SIDES),
    )
    row(
        "statistics open on the simulator",
        *(f"{after[n]['open_statistics']:,}" for n in SIDES),
    )
    row("REST requests per minute served", *(f"{rest[n]:.0f}" for n in SIDES))
    row("CometD HTTP requests per minute served", *(f"{pushes[n]:.0f}" for n in SIDES))
    row("CometD clients on the simulator", *(str(after[n]["cometd_clients"]) for n in SIDES))
    row(
        "simulator CPU (% of one core)",
        f"{cpu['direct simulator']:.1f}",
        f"{cpu['hub simulator']:.1f}",
    )
    row("hub CPU (% of one core)", DASH, f"{cpu['hub']:.1f}")
    row("hub RSS (MiB)", DASH, f"{hub_rss:.0f}")
    row("nats-server CPU / RSS", DASH, f"{cpu['nats-server']:.1f} % / {nats_rss:.0f} MiB")
    row(
        "clients' CPU, all processes (% of one core)",
        *(f"{cpu[f'{n} clients']:.1f}" for n in SIDES),
    )
    row(
        "clients' RSS per process (MiB)",
        *(f"{median(worker_rss[n]):.0f}" for n in SIDES),
    )
    row(
        "first full frame, median / max (s)",
        *(
            f"{median(sides[n].first_frames()):.1f} / {max(sides[n].first_frames()):.1f}"
            for n in SIDES
        ),
    )
    lat = {n: sides[n].latencies() for n in SIDES}
    row(
        f"pin to client, p50 / p99 (ms; {plan.pins} pins)",
        *(
            f"{1000 * median(lat[n][0]):.0f} / {1000 * percentile(lat[n][0], 0.99):.0f}"
            for n in SIDES
        ),
    )
    row(
        "POST /simulator/pin answered in, median / max (ms)",
        *(
            f"{1000 * median(sides[n].pin_answered):.0f} / {1000 * max(sides[n].pin_answered):.0f}"
            for n in SIDES
        ),
    )
    published = [
        tap.published[PIN_BASE + tag] - pinned
        for tag, pinned in sides["hub"].pinned_at.items()
        if PIN_BASE + tag in tap.published
    ]
    row(
        "of which pin to the hub's publish on NATS, p50 / p99 (ms)",
        DASH,
        f"{1000 * median(published):.0f} / {1000 * percentile(published, 0.99):.0f}"
        f" ({len(published)} of {plan.pins} pins heard)",
    )
    row("pin sightings measured / missed", *(f"{len(lat[n][0])} / {lat[n][1]}" for n in SIDES))
    row("subscriptions left after everything stopped", *(str(left[n]) for n in SIDES))
    text = (
        f"Run {began}; window {elapsed:.0f} s with load average {load_before} before and"
        f" {load_after} after. Command: `python benchmarks/hub.py fanout"
        f"{' --quick' if plan is QUICK else ''} --clients {plan.clients}"
        f" --processes {plan.processes} --refresh {refresh:g}`.\n\n"
        f"{plan.clients} supervisors a side, {plan.processes} client processes a side, each"
        f" client a team of 20 agents plus the 50 shared queues with floor.yaml's statistics"
        f" ({items} statistics), updates auto (push), refresh {refresh:g} s; the hub's grace"
        f" 30 s. Two simulators of 2,000 agents and 50 queues, one a side, at the same"
        f" time.\n\n" + markdown_table(HEADER, rows)
    )
    through = percentile(lat["hub"][0], 0.99)
    hub_part = percentile(published, 0.99)
    text += (
        f"\n\nGoal: a pin reaches a client through the hub within {GOAL_MS} ms (p99) under"
        f" push: {verdict(1000 * through <= GOAL_MS)} ({1000 * through:.0f} ms); the hub's own"
        f" part (pin to its publish on NATS) {1000 * hub_part:.0f} ms p99"
        f" ({verdict(1000 * hub_part <= GOAL_MS)} on its own). The rest is the client's: a"
        f" live session takes pushed values at most every {MAX_FLUSH_GAP:g} s"
        f" (`MAX_FLUSH_GAP`: a frame a second), through the hub or direct alike, and the"
        f" clients' processes share two busy cores.\n"
    )
    return text


def main(argv: list[str]) -> None:
    """`hub.py fanout [--quick] [--clients N] [--processes P] [--refresh S] [--no-docs]`."""
    parser = argparse.ArgumentParser(prog="hub.py fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 clients a side, 20 s")
    parser.add_argument("--clients", type=int, help="clients a side")
    parser.add_argument("--processes", type=int, help="client processes a side")
    parser.add_argument("--refresh", type=float, default=5.0, help="the layouts' refresh, s")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/hub.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.clients or args.processes:
        plan = Plan(
            args.clients or plan.clients, args.processes or plan.processes, plan.pins,
            plan.window, plan.settle,
        )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hub-fanout-") as work:
        text = measure(plan, args.refresh, Path(work))
    print(text)
    if not args.no_docs:
        write_subsection("Fan-out: supervisors direct and through one hub", text)
