"""What `perf.py` measures: floor and cycle per size, the levers, steady state, stalls, memory.

Every run starts the simulator (`statdash sim`) in its own process and measures, side by side:
- floor and cycle: CPU per poll of a bare httpx GET + json.loads (its own small process), and
  of statdash's full cycle (fetch, parse, ingest, redraw, repaint; headless, in this process),
  at about 1,000, 10,000 and 50,000 statistics (`layouts/floor.yaml` scaled), on a manual
  simulator clock moved one second per poll;
- the levers one by one at 10,000 statistics: the code, then the code with one lever off
  at a time (see levers.py);
- steady state: `statdash run` with floor.yaml at a 1 s refresh on a pty, its CPU share from
  /proc over a window, its first frame with data, and its peak memory;
- responsiveness: the longest event-loop stall, from a loop-lag probe inside the dashboard;
- memory after an 8-hour shift: the simulator's clock runs fast enough to cover 8 hours.
Nothing here is a unit test: timings vary from run to run, so each is repeated and its spread
is printed. Figures in docs/performance.md come only from the run that wrote it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchkit.cycle import SCREEN, FloorRun, floor_polls, run_cycles
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, floor_size_for, write_floor
from benchkit.levers import lever_steps
from benchkit.ptyproc import PtyProcess
from benchkit.report import DashRun, LeverResult, SizeResult
from benchkit.simproc import SimProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHIFT_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class Plan:
    """How long each part runs: full or --quick."""

    sizes: tuple[tuple[int, int, int], ...]
    """(target statistics, cycles, warm-up cycles) per size."""
    lever_cycles: tuple[int, int]
    startups: int
    window: float
    """Seconds of steady state measured (CPU, stalls)."""
    windows: int
    """Slices of the window, for the spread of the CPU share."""
    settle: float
    """Seconds after the first data frame before measuring."""
    memory_seconds: float


FULL = Plan(
    sizes=((1_000, 20, 5), (10_000, 15, 3), (50_000, 8, 2)),
    lever_cycles=(12, 3),
    startups=3,
    window=60.0,
    windows=6,
    settle=5.0,
    memory_seconds=120.0,
)
QUICK = Plan(
    sizes=((1_000, 8, 2), (10_000, 6, 2), (50_000, 3, 1)),
    lever_cycles=(5, 2),
    startups=1,
    window=10.0,
    windows=2,
    settle=3.0,
    memory_seconds=20.0,
)


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[perf {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Floor and cycle ------------------------------------------------------------------------


def _pooled(runs: list[FloorRun]) -> FloorRun:
    """Several floor runs of one subscription as one."""
    return FloorRun([ms for run in runs for ms in run.cpu_ms], runs[-1].payload_bytes)


async def measure_sizes(plan: Plan, work: Path, env: dict[str, str]) -> list[SizeResult]:
    """Floor and cycle at each size, each against its own simulator."""
    results: list[SizeResult] = []
    for target, cycles, warmup in plan.sizes:
        agents, queues = (
            (FLOOR_AGENTS, FLOOR_QUEUES) if target == 10_000 else floor_size_for(target)
        )
        scaled = write_floor(work / f"size-{target}", agents, queues)
        log(f"floor and cycle at {scaled.statistics:,} statistics")
        with SimProcess(agents, queues, env=env, manual_clock=True) as sim:
            floors: dict[str, list[FloorRun]] = {"json": [], "msgspec": []}

            def floor(
                subscription_id: str,
                sim: SimProcess = sim,
                runs: int = cycles,
                warm: int = warmup,
                pools: dict[str, list[FloorRun]] = floors,
            ) -> None:
                # Before and after the cycles, pooled: the machine's speed drifts, and a
                # floor taken at one moment only would carry that drift into the ratio.
                for parser, out in pools.items():
                    out.append(
                        floor_polls(sim, subscription_id, (runs + 1) // 2, warm, "OFF", env, parser)
                    )

            cycle = await run_cycles(
                scaled.layout, sim, cycles=cycles, warmup=warmup, before_cycles=floor,
                after_cycles=floor,
            )  # fmt: skip
        results.append(SizeResult(scaled, _pooled(floors["json"]), cycle,
                                  _pooled(floors["msgspec"])))  # fmt: skip
        gc.collect()
    return results


async def measure_levers(
    plan: Plan, work: Path, env: dict[str, str]
) -> tuple[list[LeverResult], FloorRun, FloorRun]:
    """Each lever step at floor.yaml's size, and the floor with verbose OFF and INFO."""
    scaled = write_floor(work / "levers", FLOOR_AGENTS, FLOOR_QUEUES)
    cycles, warmup = plan.lever_cycles
    steps = lever_steps()
    results: list[LeverResult] = []
    floors: dict[str, FloorRun] = {}
    with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env, manual_clock=True) as sim:

        def floor_both(subscription_id: str) -> None:
            for verbose in ("OFF", "INFO"):
                floors[verbose] = floor_polls(sim, subscription_id, cycles, warmup, verbose, env)

        for index, step in enumerate(steps):
            log(f"lever step {index + 1}/{len(steps)}: {step.name}")
            cycle = await run_cycles(
                scaled.layout, sim, cycles=cycles, warmup=warmup,
                before_cycles=floor_both if index == 0 else None, switches=step.switches,
            )  # fmt: skip
            results.append(LeverResult(step, cycle))
            gc.collect()
    return results, floors["OFF"], floors["INFO"]


# --- Dashboard processes --------------------------------------------------------------------


def _dash_argv(layout: Path, url: str, probe: Path | None) -> list[str]:
    if probe is None:
        return [sys.executable, "-m", "statdash", "run", str(layout), "--url", url]
    return [sys.executable, str(HERE / "dash_worker.py"), str(layout), url, str(probe)]


def _start_dash(argv: list[str], env: dict[str, str]) -> tuple[PtyProcess, float]:
    process = PtyProcess(argv, env=env, size=SCREEN).start()
    seconds = process.wait_for_data(timeout=120)
    if seconds is None:
        process.stop()
        raise RuntimeError(f"no data on screen within 120 s: {' '.join(argv)}")
    return process, seconds


def steady_run(
    plan: Plan,
    layout: Path,
    env: dict[str, str],
    *,
    label: str,
    probe: Path | None = None,
    startups: int = 1,
) -> DashRun:
    """Start-ups, then the CPU share (and stalls with a probe) over the steady window."""
    run = DashRun(label)
    with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as sim:
        argv = _dash_argv(layout, sim.base_url, probe)
        for attempt in range(startups):
            process, seconds = _start_dash(argv, env)
            run.startup.append(seconds)
            log(f"{label}: first data frame after {seconds:.2f} s")
            if attempt < startups - 1:
                process.stop()
                continue
            time.sleep(plan.settle)
            started = time.monotonic()
            slice_seconds = plan.window / plan.windows
            sim_before = sim.cpu_seconds()
            for _ in range(plan.windows):
                before, at = process.cpu_seconds(), time.monotonic()
                time.sleep(slice_seconds)
                spent = process.cpu_seconds() - before
                run.cpu_windows.append(100 * spent / (time.monotonic() - at))
            run.sim_cpu = 100 * (sim.cpu_seconds() - sim_before) / (time.monotonic() - started)
            ended = time.monotonic()
            run.peak_rss_mb = process.memory_kib()[1] / 1024
            if probe is not None:
                data = json.loads(probe.read_text())
                run.probe_wakeups = int(data["wakeups"])
                run.stalls = [
                    (float(t), float(lag), float(cpu))
                    for t, lag, cpu in data["late"]
                    if started <= t <= ended
                ]
            if process.stop() not in (0, None):
                log(f"{label}: the dashboard exited with an error")
    return run


def memory_run(
    plan: Plan, layout: Path, env: dict[str, str], *, record: Path | None = None
) -> DashRun:
    """floor.yaml at 1 s while the simulator covers an 8-hour shift; RSS every second.

    With `record` (a new file) the dashboard runs with `--record` to it, as a supervisor
    keeping the shift would: the recorder's rows, its writer thread and SQLite's cache are
    then part of the process measured.
    """
    run = DashRun("memory" if record is None else "memory, --record")
    scale = SHIFT_SECONDS / plan.memory_seconds
    with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env, time_scale=scale) as sim:
        argv = _dash_argv(layout, sim.base_url, None)
        if record is not None:
            argv += ["--record", str(record)]
        process, seconds = _start_dash(argv, env)
        run.startup.append(seconds)
        first = time.monotonic()
        while (elapsed := time.monotonic() - first) < plan.memory_seconds:
            time.sleep(1.0)
            run.rss_mb.append((elapsed, process.memory_kib()[0] / 1024))
        run.peak_rss_mb = process.memory_kib()[1] / 1024
        run.polls = plan.memory_seconds  # one poll a second
        run.sim_hours = plan.memory_seconds * scale / 3600
        process.stop()
    if record is not None:
        run.recorded_bytes, run.recorded_changes, run.recorded_keyframes = recording_size(record)
    return run


def recording_size(path: Path) -> tuple[int, int, int]:
    """(bytes on disk with its WAL, changes, keyframes) of a closed recording file."""
    size = sum(part.stat().st_size for part in (path, path.with_name(path.name + "-wal"))
               if part.exists())  # fmt: skip
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        (changes,) = db.execute("SELECT count(*) FROM changes").fetchone()
        (keyframes,) = db.execute("SELECT count(DISTINCT tick) FROM keyframes").fetchone()
    return size, int(changes), int(keyframes)
