"""Soak: a whole shift of the dashboard against the simulator, sped up, with random faults.

    python benchmarks/soak.py [--hours 8] [--scale 60] [--fault-every 600] [--seed 1]
                              [--wallboard] [--json FILE]

Not part of the test suite. The simulator runs as its own process (`statdash sim`, with an
API key and OAuth client credentials, its clock `--scale` times faster than the wall); the
dashboard runs headless in this process, built by `build_app` exactly as `statdash run`
builds it, on the shipped demo layout, with every duration of the dashboard divided by the
same scale (refresh, read timeout, token lifetime), so `--hours` of simulated shift take
hours * 3600 / scale seconds of wall time (8 h at 60x: 8 minutes).

Faults come one at a time, at exponentially distributed gaps averaging `--fault-every`
simulated seconds: 5xx bursts, outages, latency above the poll interval, timeouts, every
kind of malformed reply, dropped subscriptions (404 or envelope style), restarts that refuse
new subscriptions for a while, revoked tokens, a token endpoint that is down, and the
simulator process itself killed and restarted on the same port. A fault is survived when,
after it is cleared, the dashboard polls successfully again within 40 s of wall time.

The warm-up brings the process to its steady state before RSS is first measured: every
kind of fault once (so every code path has run and the allocator has seen the largest
replies: one 4 MiB reply lifts RSS by ~20 MiB for good, an allocator high-water mark, not a
leak) and at least one simulated hour (so trend histories are full). It reports RSS then and
at the end, the live Python objects each simulated hour (the leak signal), successful and
failed polls, faults injected and survived, crashes (the app stopping on its own) and the
subscriptions open on the simulator after the app quit.
`--wallboard` soaks the wall display instead: the shipped wallboard layout in kiosk mode (no
key bar, no palette) at 200x60, its page rotation scaled like the refresh, so the pages cycle
thousands of times without a key press (`python benchmarks/soak.py --wallboard --hours 24
--scale 120`: a day in 12 minutes); the report adds how many pages were shown. The dashboard
polls (`--updates poll`, the default here): the faults are the REST faults, and under push a
peek comes only once a minute, after the 40 s a fault is given.
Exit status 0 when there were no crashes, every fault was survived, nothing was left open
and RSS grew less than 10%; 1 otherwise. Bounded: it stops after 1.5x the planned wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from statdash.api.auth import ClientCredentials
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.shipped import shipped_layout
from statdash.live.session import Phase
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app

API_KEY = "soak-api-key"
CLIENT_ID = "soak-dashboard"
CLIENT_SECRET = "soak-client-secret"
READ_TIMEOUT = 30.0  # the client's default, scaled like everything else
TOKEN_TTL = 3600.0  # a one-hour token, scaled
RECOVERY_WALL = 40.0  # the backoff cap is 30 s of wall time, whatever the scale
WARM_UP_SIM = 3600.0
MALFORMED = ("invalid_json", "wrong_shape", "missing_fields", "bad_values", "huge", "plain_error")


@dataclass
class Result:
    """What the soak measured."""

    command: str
    machine: str
    simulated_hours: float
    scale: float
    wall_seconds: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_growth_percent: float = 0.0
    rss_hourly_mb: list[float] = field(default_factory=list)
    python_objects_hourly: list[int] = field(default_factory=list)
    traced_heap_hourly_mb: list[float] = field(default_factory=list)
    polls_ok: int = 0
    polls_failed: int = 0
    subscriptions_opened: int = 0
    warm_up_faults: int = 0
    warm_up_faults_survived: int = 0
    faults_injected: int = 0
    faults_survived: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)
    not_survived: list[str] = field(default_factory=list)
    slowest_recovery_wall_s: float = 0.0
    crashes: int = 0
    crash_details: list[str] = field(default_factory=list)
    open_subscriptions_after_exit: int = -1
    records_left: int = -1
    warnings_logged: int = 0
    cpu_seconds: float = 0.0
    memory_growth_sites: list[str] = field(default_factory=list)
    layout: str = "demo.yaml"
    pages_shown: int = 0

    @property
    def passed(self) -> bool:
        """The soak's verdict."""
        return (
            self.crashes == 0
            and self.faults_survived == self.faults_injected
            and self.warm_up_faults_survived == self.warm_up_faults
            and self.open_subscriptions_after_exit == 0
            and self.records_left == 0
            and self.rss_growth_percent < 10.0
        )


def rss_mb() -> float:
    """This process's resident set size in MiB (Linux), after a full collection."""
    gc.collect()
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def sample_heap(result: Result) -> None:
    """Record RSS, the number of live Python objects and (when tracing) the Python heap."""
    result.rss_hourly_mb.append(round(rss_mb(), 1))
    result.python_objects_hourly.append(len(gc.get_objects()))
    if tracemalloc.is_tracing():
        result.traced_heap_hourly_mb.append(round(tracemalloc.get_traced_memory()[0] / 2**20, 1))


class CountingHandler(logging.Handler):
    """Counts statdash's warnings instead of printing them over the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        self.count += 1


class CountingRecords(SubscriptionRecords):
    """The real crash records, counting the subscriptions opened."""

    opened = 0

    def add(self, server: str, subscription_id: str) -> None:
        """Record, and count, a subscription that opened."""
        self.opened += 1
        super().add(server, subscription_id)


class Simulator:
    """`statdash sim` as a child process on one loopback port, which survives restarts."""

    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.seed = seed
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the simulator (on the port it had, after a restart) and wait for it."""
        env = {
            **os.environ,
            "STATDASH_SIM_API_KEY": API_KEY,
            "STATDASH_SIM_CLIENT_SECRET": CLIENT_SECRET,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "statdash",
                "sim",
                "--port",
                str(self.port),
                "--time-scale",
                str(self.scale),
                "--seed",
                str(self.seed),
                "--client-id",
                CLIENT_ID,
                "--token-ttl",
                str(TOKEN_TTL / self.scale),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found is None:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.port = int(found.group(1))

    def stop(self) -> None:
        """Stop the simulator like Ctrl+C would (bounded)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@dataclass(frozen=True)
class Timing:
    """The dashboard's scaled durations, which some faults are sized against (wall seconds)."""

    interval: float
    read_timeout: float


@dataclass(frozen=True)
class Fault:
    """One kind of fault: what to POST, how long it lasts (simulated s), when it has bitten."""

    kind: str
    spec: Callable[[random.Random, Timing], dict[str, Any]]
    hold: tuple[float, float] = (0.0, 0.0)
    failures: Callable[[dict[str, Any]], int] = lambda spec: 0


def _burst(status: int) -> Fault:
    return Fault(
        f"HTTP {status} burst",
        lambda rng, _: {"fail_next": {"peek": rng.randint(2, 6)}, "error_status": status},
        failures=lambda spec: int(spec["fail_next"]["peek"]),
    )


def _malformed(kind: str) -> Fault:
    return Fault(
        f"malformed peek: {kind}",
        lambda rng, _: {"malformed": {"peek": {"kind": kind, "count": rng.randint(1, 3)}}},
        failures=lambda spec: 0 if kind == "huge" else int(spec["malformed"]["peek"]["count"]),
    )


FAULTS: tuple[Fault, ...] = (
    _burst(503),
    _burst(504),
    _burst(500),
    *(_malformed(kind) for kind in MALFORMED),
    Fault("outage: every request fails", lambda rng, _: {"error_rate": {"*": 1.0}}, hold=(60, 900)),
    Fault(
        "latency above the poll interval",
        lambda rng, t: {"latency_ms": {"peek": t.interval * rng.uniform(1.5, 3) * 1000}},
        hold=(120, 900),
    ),
    Fault(
        "timeouts", lambda rng, t: {"latency_ms": {"peek": t.read_timeout * 1500}}, hold=(60, 300)
    ),
    Fault(
        "subscription dropped (404)",
        lambda rng, _: {"drop_subscriptions": True, "unknown_subscription_style": "http404"},
    ),
    Fault(
        "subscription dropped (envelope 404)",
        lambda rng, _: {"drop_subscriptions": True, "unknown_subscription_style": "envelope"},
    ),
    Fault(
        "restart refusing new subscriptions",
        lambda rng, _: {
            "drop_subscriptions": True,
            "refuse_subscriptions": rng.choice(["http503", "envelope"]),
        },
        hold=(60, 600),
    ),
    Fault(
        "garbled subscribe after a restart",
        lambda rng, _: {
            "drop_subscriptions": True,
            "malformed": {"subscribe": {"kind": rng.choice(MALFORMED), "count": 1}},
        },
    ),
    Fault("tokens revoked", lambda rng, _: {"revoke_tokens": True}),
    Fault(
        "token endpoint down after revocation",
        lambda rng, _: {"revoke_tokens": True, "error_rate": {"token": 1.0}},
        hold=(60, 600),
    ),
    Fault("simulator process restart", lambda rng, _: {}),
)


class Soak:
    """Drives one soak run and fills in its Result."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.scale: float = args.scale
        self.rng = random.Random(args.seed)
        self.sim = Simulator(args.scale, args.seed)
        self.result = Result(
            command="python benchmarks/soak.py " + " ".join(sys.argv[1:]),
            machine=f"{platform.platform()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}",
            simulated_hours=args.hours,
            scale=args.scale,
        )
        if args.wallboard:
            self.result.layout = "wallboard.yaml"
        self.admin = httpx.AsyncClient(trust_env=False, timeout=30.0)
        self.kinds: Counter[str] = Counter()
        self.warnings = CountingHandler()
        logger = logging.getLogger("statdash")
        logger.addHandler(self.warnings)
        logger.propagate = False

    def wall(self, simulated: float) -> float:
        """Wall seconds for a span of simulated seconds."""
        return simulated / self.scale

    async def set_faults(self, spec: dict[str, Any]) -> None:
        """POST /simulator/faults."""
        response = await self.admin.post(f"{self.sim.base_url}/simulator/faults", json=spec)
        response.raise_for_status()

    async def clear_faults(self) -> None:
        """DELETE /simulator/faults."""
        response = await self.admin.delete(f"{self.sim.base_url}/simulator/faults")
        response.raise_for_status()

    async def run(self) -> Result:
        """Start everything, soak, stop everything; never raises for a soak failure."""
        started = time.monotonic()
        self.sim.start()
        records = CountingRecords(Path(tempfile.mkdtemp(prefix="statdash-soak-")) / "open.json")
        layout = compile_layout(load_layout(shipped_layout(self.result.layout)))
        timing = Timing(layout.refresh / self.scale, max(0.5, READ_TIMEOUT / self.scale))
        if self.args.wallboard:
            # Each page's time on screen shrinks with the scale, like the refresh.
            pages = tuple(
                replace(page, show_for=(page.show_for or 0.0) / self.scale) for page in layout.pages
            )
            layout = replace(layout, pages=pages)
        client = StatisticsClient(
            self.sim.base_url,
            API_KEY,
            auth=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
            retry=RetryPolicy(attempts=1),
            read_timeout=timing.read_timeout,
        )
        app = build_app(
            replace(layout, refresh=timing.interval),
            client,
            server_label="soak",
            records=records,
            handle_signals=False,
            kiosk=self.args.wallboard,
            updates=self.args.updates,
        )
        size = (200, 60) if self.args.wallboard else (160, 48)
        try:
            async with app.run_test(size=size) as pilot:
                await self._soak(app, timing, started)
                if app.is_running:
                    await pilot.press("q")
                    await pilot.pause(0.5)
        except Exception:  # the app died: that is what a soak is for
            self.result.crashes += 1
            self.result.crash_details.append(traceback.format_exc(limit=8))
        finally:
            await app.controller.close()
            await client.aclose()
        status = app.controller.status
        self.result.polls_ok += status.polls
        self.result.polls_failed += status.error_count
        self.result.subscriptions_opened = records.opened
        self.result.records_left = len(records.entries())
        state = (await self.admin.get(f"{self.sim.base_url}/simulator/state")).json()
        self.result.open_subscriptions_after_exit = int(state["open_subscriptions"])
        await self.admin.aclose()
        self.sim.stop()
        self.result.faults_by_kind = dict(self.kinds)
        self.result.warnings_logged = self.warnings.count
        self.result.wall_seconds = round(time.monotonic() - started, 1)
        self.result.cpu_seconds = round(time.process_time(), 1)
        return self.result

    async def _soak(self, app: StatdashApp, timing: Timing, started: float) -> None:
        shift_wall = self.wall(self.args.hours * 3600)
        limit = started + 1.5 * (shift_wall + 60)
        warm_up_end = time.monotonic() + self.wall(WARM_UP_SIM)
        await self._until(app, lambda: app.controller.status.polls > 0, 60)
        for fault in self.rng.sample(FAULTS, len(FAULTS)):
            self.result.warm_up_faults += 1
            if await self._inject(app, timing, fault):
                self.result.warm_up_faults_survived += 1
        while time.monotonic() < warm_up_end:
            await asyncio.sleep(0.2)
            self._check_alive(app)
        sample_heap(self.result)
        self.result.rss_start_mb = self.result.rss_hourly_mb[0]
        baseline = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        soak_start = time.monotonic()
        next_hour = soak_start + self.wall(3600)
        end = soak_start + shift_wall
        faults = 0
        while time.monotonic() < min(end, limit) and faults < self.args.max_faults:
            gap = self.wall(self.rng.expovariate(1 / self.args.fault_every))
            pause_until = min(time.monotonic() + gap, end)
            while time.monotonic() < pause_until:
                await asyncio.sleep(min(0.2, max(0.0, pause_until - time.monotonic())))
                self._check_alive(app)
                if time.monotonic() >= next_hour:
                    sample_heap(self.result)
                    next_hour += self.wall(3600)
            if time.monotonic() >= end:
                break
            await self._one_fault(app, timing)
            faults += 1
        self.result.rss_end_mb = round(rss_mb(), 1)
        if baseline is not None:
            growth_sites = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
            self.result.memory_growth_sites = [str(stat) for stat in growth_sites[:15]]
        growth = (self.result.rss_end_mb - self.result.rss_start_mb) / self.result.rss_start_mb
        self.result.rss_growth_percent = round(100 * growth, 1)

    def _check_alive(self, app: StatdashApp) -> None:
        if not app.is_running:
            raise RuntimeError("the app stopped on its own")
        self.result.pages_shown = app.page_changes

    async def _until(self, app: StatdashApp, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self._check_alive(app)
            await asyncio.sleep(0.01)
        return condition()

    async def _one_fault(self, app: StatdashApp, timing: Timing) -> None:
        fault = self.rng.choice(FAULTS)
        self.kinds[fault.kind] += 1
        self.result.faults_injected += 1
        if await self._inject(app, timing, fault):
            self.result.faults_survived += 1

    async def _inject(self, app: StatdashApp, timing: Timing, fault: Fault) -> bool:
        """Inject `fault`, clear it, and wait for a good poll; True when one came in time."""
        errors_before = app.controller.status.error_count
        if fault.kind == "simulator process restart":
            await asyncio.to_thread(self.sim.stop)
            await asyncio.sleep(self.wall(self.rng.uniform(10, 120)))
            await asyncio.to_thread(self.sim.start)
        else:
            spec = fault.spec(self.rng, timing)
            await self.set_faults(spec)
            if fault.hold[1] > 0:
                await asyncio.sleep(self.wall(self.rng.uniform(*fault.hold)))
            expected = fault.failures(spec)
            if expected:
                # Let a burst run its course before clearing what is left of it.
                await self._until(
                    app, lambda: app.controller.status.error_count >= errors_before + expected, 30
                )
            elif not fault.hold[1]:
                await asyncio.sleep(4 * timing.interval)
            await self.clear_faults()
        cleared = time.monotonic()
        polls = app.controller.status.polls
        survived = await self._until(
            app,
            lambda: (
                app.controller.status.phase is Phase.LIVE and app.controller.status.polls > polls
            ),
            RECOVERY_WALL,
        )
        if survived:
            recovery = time.monotonic() - cleared
            self.result.slowest_recovery_wall_s = round(
                max(self.result.slowest_recovery_wall_s, recovery), 2
            )
        else:
            self.result.not_survived.append(f"{fault.kind}: {app.controller.status}")
        return survived


def report(result: Result) -> str:
    """The result as the lines docs/reliability.md quotes."""
    lines = [
        f"command: {result.command}",
        f"machine: {result.machine}",
        f"layout: {result.layout}; page changes: {result.pages_shown}",
        f"shift: {result.simulated_hours:g} simulated hours at {result.scale:g}x "
        f"in {result.wall_seconds:g} s of wall time ({result.cpu_seconds:g} s CPU)",
        f"RSS: {result.rss_start_mb:g} MiB after warm-up, {result.rss_end_mb:g} MiB at the end "
        f"({result.rss_growth_percent:+g}%); hourly: {result.rss_hourly_mb}",
        f"live Python objects hourly: {result.python_objects_hourly}",
        f"polls: {result.polls_ok} ok, {result.polls_failed} failed; "
        f"subscriptions opened: {result.subscriptions_opened}",
        f"warm-up: each of the {result.warm_up_faults} fault kinds once, "
        f"{result.warm_up_faults_survived} survived",
        f"faults: {result.faults_injected} injected, {result.faults_survived} survived "
        f"(slowest recovery {result.slowest_recovery_wall_s:g} s wall)",
    ]
    lines.extend(f"  {count:3d} x {kind}" for kind, count in sorted(result.faults_by_kind.items()))
    lines += [
        f"crashes: {result.crashes}; warnings logged (failed polls and the like): "
        f"{result.warnings_logged}",
        f"subscriptions open after exit: {result.open_subscriptions_after_exit}; "
        f"crash records left: {result.records_left}",
        f"verdict: {'PASS' if result.passed else 'FAIL'}",
    ]
    lines.extend(f"not survived: {line}" for line in result.not_survived)
    lines.extend(f"crash: {detail}" for detail in result.crash_details)
    if result.traced_heap_hourly_mb:
        lines.append(f"traced Python heap hourly (MiB): {result.traced_heap_hourly_mb}")
    lines.extend(f"grew: {site}" for site in result.memory_growth_sites)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, soak, print the report; 0 when the soak passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, default=8.0, help="simulated shift (default 8)")
    parser.add_argument(
        "--scale", type=float, default=60.0, help="simulated seconds per wall second (default 60)"
    )
    parser.add_argument(
        "--fault-every",
        type=float,
        default=600.0,
        help="mean simulated seconds between faults (default 600)",
    )
    parser.add_argument("--max-faults", type=int, default=500, help="at most this many faults")
    parser.add_argument("--seed", type=int, default=1, help="seed of faults and simulator")
    parser.add_argument(
        "--wallboard",
        action="store_true",
        help="soak the shipped wallboard in kiosk mode, its pages rotating (scaled)",
    )
    parser.add_argument(
        "--updates",
        choices=("auto", "push", "poll"),
        default="poll",
        help="how the dashboard takes values (default poll: the faults are those of REST"
        " peeks, and a fault counts as survived after a good poll within 40 s, shorter than"
        " push's 60 s reconciliation)",
    )
    parser.add_argument("--json", type=Path, help="also write the result here as JSON")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="list where Python memory grew after the warm-up (slower)",
    )
    args = parser.parse_args(argv)
    if not (args.hours > 0 and args.scale >= 1 and args.fault_every > 0):
        parser.error("--hours and --fault-every must be positive, --scale at least 1")
    if args.trace_memory:
        tracemalloc.start()
    soak = Soak(args)
    result = asyncio.run(soak.run())
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(result), indent=1) + "\n", encoding="utf-8")
    return 0 if result.passed else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
