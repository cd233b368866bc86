"""The table `perf.py` prints and the docs/performance.md it writes, from one run's figures.

Every number here is computed from the measurements handed in; the prose around them says
how each was measured and what bounds a missed target, and quotes figures only through
the same measurements.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchkit import compile_memory, screen_cost, startup
from benchkit.compile_memory import section_in
from benchkit.cycle import SCREEN, STAGES, CycleRun, FloorRun
from benchkit.dash_worker import BUSY_SHARE
from benchkit.layouts import Scaled
from benchkit.levers import Lever

# --- what perf.py measured and this report writes ------------------------------------


@dataclass(slots=True)
class SizeResult:
    """Floor and cycle at one size."""

    scaled: Scaled
    floor: FloorRun
    cycle: CycleRun
    fast_floor: FloorRun
    """The floor with msgspec's untyped decode instead of json.loads (for comparison)."""


@dataclass(slots=True)
class LeverResult:
    """One lever step at 10,000 statistics."""

    lever: Lever
    cycle: CycleRun


@dataclass(slots=True)
class DashRun:
    """One dashboard process on a pty: start-up, CPU share, stalls, memory."""

    label: str
    startup: list[float] = field(default_factory=list)
    cpu_windows: list[float] = field(default_factory=list)
    """Percent of one core in each slice of the window."""
    sim_cpu: float | None = None
    """The simulator's percent of one core over the window (the server's side)."""
    peak_rss_mb: float = 0.0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the first data frame, resident MB), for the memory run."""
    stalls: list[tuple[float, float, float]] = field(default_factory=list)
    """(monotonic time, lag s, thread CPU s) of every late probe wake-up in the window."""
    probe_wakeups: int = 0
    polls: float = 0.0
    sim_hours: float = 0.0
    recorded_bytes: int | None = None
    """With `--record`: the recording's size on disk at the end (None: not recording)."""
    recorded_changes: int = 0
    recorded_keyframes: int = 0


ROOT = Path(__file__).resolve().parents[2]
PUSH_SECTION_HEADING = "## Push against poll"
"""The section of docs/performance.md that `benchmarks/push_vs_poll.py --output` writes."""

DASH = "\u2013"
TIMES = "\u00d7"
TARGET_RATIO = 1.5
TARGET_CPU = 10.0
TARGET_STALL_MS = 50.0
TARGET_FIRST_FRAME = 1.5
TARGET_RSS_MB = 200.0
TARGET_RSS_RECORD_MB = 150.0
"""Issue 23: peak RSS of an 8-hour floor.yaml shift with `--record` on."""


def median(values: Sequence[float]) -> float:
    """The median (nan for no values)."""
    return statistics.median(values) if values else float("nan")


def mean(values: Sequence[float]) -> float:
    """The mean (nan for no values): CPU per poll in the long run, collections included."""
    return statistics.fmean(values) if values else float("nan")


def spread(values: Sequence[float], unit: str = "", digits: int = 1) -> str:
    """`median (min-max)` of repeated measurements (an en dash in the output)."""
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}{unit}"
    return (
        f"{median(values):.{digits}f}{unit} "
        f"({min(values):.{digits}f}{DASH}{max(values):.{digits}f})"
    )


def verdict(met: bool) -> str:
    """The verdict column."""
    return "met" if met else "**MISSED**"


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, str]:
    """CPU, cores, memory, load, Python, Textual and the code measured."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    commit = _run(["git", "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"]).strip())
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "CPU": model,
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "load at start (1, 5, 15 min)": load,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Textual": version("textual"),
        "pydantic-core": version("pydantic-core"),
        "httpx": version("httpx"),
        "code": f"{commit}{' plus uncommitted changes' if dirty else ''}",
    }


@dataclass(slots=True)
class Report:
    """One run: when, where, and everything it measured."""

    command: str
    date: str
    machine: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def begin(cls, command: str) -> Report:
        """Note the date and the machine before measuring."""
        return cls(command, time.strftime("%Y-%m-%d %H:%M %Z"), machine())

    def finish(self, **data: Any) -> None:
        """Keep the measurements; note the load at the end too."""
        self.data = data
        self.machine["load at end (1, 5, 15 min)"] = ", ".join(
            f"{value:.2f}" for value in os.getloadavg()
        )

    # --- figures ----------------------------------------------------------------------------

    @property
    def sizes(self) -> list[SizeResult]:
        sizes: list[SizeResult] = self.data["sizes"]
        return sizes

    @property
    def levers(self) -> list[LeverResult]:
        levers: list[LeverResult] = self.data["levers"]
        return levers

    def size_10k(self) -> SizeResult:
        """The floor.yaml-sized run."""
        return min(self.sizes, key=lambda size: abs(size.scaled.statistics - 10_000))

    def ratio(self, cycle: CycleRun, floor: FloorRun) -> float:
        """Mean cycle CPU over mean floor CPU.

        Means, not medians: a full garbage collection every few polls is part of what a poll
        costs in the long run, and a median would hide it.
        """
        return mean(cycle.cycle_ms) / mean(floor.cpu_ms)

    def current_lever(self) -> LeverResult | None:
        """The lever step that is the code as it is (every lever on)."""
        return next((step for step in self.levers if step.lever.all_on), None)

    def floor_10k(self) -> FloorRun:
        """The floor at floor.yaml's size (the size run's; every 10k ratio divides by it)."""
        return self.size_10k().floor

    def growth(self) -> tuple[float, float]:
        """(statistics growth, cycle growth) from the smallest to the largest size."""
        small, large = self.sizes[0], self.sizes[-1]
        return (
            large.scaled.statistics / small.scaled.statistics,
            mean(large.cycle.cycle_ms) / mean(small.cycle.cycle_ms),
        )

    def stall_ms(self, run: DashRun) -> float:
        """The longest probe lag in the window, in ms (0 when the loop never lagged 2 ms)."""
        return max((lag for _, lag, _ in run.stalls), default=0.0) * 1000

    def busy_stall_ms(self, run: DashRun) -> float:
        """The longest lag during which the process itself was busy (CPU >= 80% of the lag)."""
        busy = [lag for _, lag, cpu in run.stalls if cpu >= BUSY_SHARE * lag]
        return max(busy, default=0.0) * 1000

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(metric, target, measured, verdict) per target."""
        size = self.size_10k()
        ratio = self.ratio(size.cycle, size.floor)
        statistics_growth, cycle_growth = self.growth()
        product: DashRun = self.data["product"]
        stalls: DashRun = self.data["stalls"]
        memory: list[DashRun] = self.data["memory"]
        cpu = median(product.cpu_windows)
        first = median(product.startup)
        rss = memory[0].peak_rss_mb
        rows = [
            (
                f"cycle / floor, {size.scaled.statistics:,} statistics",
                f"≤ {TARGET_RATIO}",
                f"{ratio:.2f} ({mean(size.cycle.cycle_ms):.1f} / "
                f"{mean(size.floor.cpu_ms):.1f} ms CPU, means)",
                verdict(ratio <= TARGET_RATIO),
            ),
            (
                f"growth {self.sizes[0].scaled.statistics:,} → "
                f"{self.sizes[-1].scaled.statistics:,} statistics",
                "≤ linear",
                f"cycle {TIMES}{cycle_growth:.1f} for statistics {TIMES}{statistics_growth:.1f}",
                verdict(cycle_growth <= statistics_growth),
            ),
            (
                "steady CPU, floor.yaml at 1 s",
                f"≤ {TARGET_CPU:g}% of a core",
                f"{spread(product.cpu_windows, '%')}",
                verdict(cpu <= TARGET_CPU),
            ),
            (
                "longest event-loop stall",
                f"≤ {TARGET_STALL_MS:g} ms",
                f"{self.stall_ms(stalls):.0f} ms (busy: {self.busy_stall_ms(stalls):.0f} ms)",
                verdict(self.stall_ms(stalls) <= TARGET_STALL_MS),
            ),
            (
                "first frame with data",
                f"≤ {TARGET_FIRST_FRAME:g} s",
                f"{spread(product.startup, ' s', 2)}",
                verdict(first <= TARGET_FIRST_FRAME),
            ),
            (
                "peak RSS after an 8-hour shift",
                f"≤ {TARGET_RSS_MB:g} MB",
                f"{rss:.0f} MB",
                verdict(rss <= TARGET_RSS_MB),
            ),
        ]
        recorded = [run for run in memory[1:] if run.recorded_bytes is not None]
        for run in recorded:
            rows.append(
                (
                    "peak RSS after an 8-hour shift, --record",
                    f"≤ {TARGET_RSS_RECORD_MB:g} MB",
                    f"{run.peak_rss_mb:.0f} MB",
                    verdict(run.peak_rss_mb <= TARGET_RSS_RECORD_MB),
                )
            )
        return rows

    def table(self) -> str:
        """The one table, as markdown (also readable as plain text)."""
        header = ("measure", "target", "measured", "verdict")
        return markdown_table(header, self.rows())


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, its columns padded to line up in the source too."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)) + " |"
        for row in [header, *rows]
    ]
    lines.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return "\n".join(lines)


def _stage_row(name: str, cycle: CycleRun) -> list[str]:
    return [name, *(f"{cycle.stages_ms.get(stage, 0.0):.1f}" for stage in STAGES),
            f"{statistics.fmean(cycle.cycle_ms):.1f}"]  # fmt: skip


def write_report(report: Report, path: Path) -> None:
    """Write docs/performance.md for this run."""
    data = report.data
    sizes = report.sizes
    floor_off: FloorRun = data["floor_off"]
    floor_info: FloorRun = data["floor_info"]
    product: DashRun = data["product"]
    stalls: DashRun = data["stalls"]
    memory: list[DashRun] = data["memory"]
    floor_10k = report.floor_10k()
    out: list[str] = []
    add = out.append
    add("# Performance\n")
    add(
        f"Measured {report.date} by `.venv/bin/python {report.command}` "
        f"(run time {data['seconds'] / 60:.1f} min). Every figure below comes from that run; "
        "run the command again to refresh this page (`--quick` takes under 3 minutes with "
        "shorter windows). Timings move from run to run, so repeated measurements are "
        f"given as median ({DASH.join(('min', 'max'))}).\n"
    )
    add(
        "**One page for push and poll.** The sections with a date of their own were measured "
        "apart from this run and are kept as they are when `benchmarks/perf.py` rewrites this "
        "page: [What a layout costs to compile](#what-a-layout-costs-to-compile), "
        "[Start-up](#start-up), [What the screen costs in steady state]"
        "(#what-the-screen-costs-in-steady-state) (issue 23's targets at its top) and "
        "[Push against poll](#push-against-poll) (`benchmarks/push_vs_poll.py --output "
        "docs/performance.md` rewrites it).\n"
    )
    add("## Machine\n")
    add(markdown_table(("", ""), list(report.machine.items())) + "\n")
    add(
        "The machine is shared: other processes ran during the measurement (see the load). "
        "CPU figures are CPU time of the measured process only, which other load barely "
        "changes; stalls are wall time, which it can lengthen (the CPU the loop used during "
        "the worst stall is given to tell the two apart).\n"
    )
    add("## Results\n")
    add(report.table() + "\n")
    add(
        "The floor parses with the standard library's `json.loads`, as the benchmark "
        "defines it; statdash decodes verbose=OFF peeks with msgspec, which is faster than "
        "that parse, so part of the ratio is won in parsing (see the stage table and the "
        "floor's own time). *busy* is the longest stall during which the dashboard process "
        "itself used at least "
        f"{BUSY_SHARE:.0%} of the time in CPU; longer wall-time stalls with little CPU are "
        "the process waiting for a core on this shared machine.\n"
    )
    add(_second_look(report))
    add(_notes(report))
    add("## Floor and cycle by size\n")
    add(
        "Floor: one httpx GET of the subscription's values (verbose=OFF) plus `json.loads`, "
        "in a separate minimal process, half of its polls just before the cycles and half "
        "just after (the machine's speed drifts; pooling keeps that drift out of the "
        "ratio). Cycle: statdash's full poll in CPU ms: the session's "
        "GET, parsing, ingest into the store, the app's redraw of every panel and the "
        "compositor's repaint (headless Textual, real widgets, screen "
        f"{SCREEN[0]}x{SCREEN[1]}), until the screen took the update. The simulator's manual "
        "clock moves one second before every poll, so each poll sees one second of change. "
        "*msgspec floor* is the same floor with `msgspec.json.decode` (untyped) in place of "
        "`json.loads`: the floor with the faster parser statdash itself uses, for "
        "comparison; the target is stated against the `json.loads` floor.\n"
    )
    rows = []
    for size in sizes:
        cycle = mean(size.cycle.cycle_ms)
        rows.append([
            f"{size.scaled.statistics:,}",
            f"{size.scaled.agents:,} / {size.scaled.queues}",
            f"{size.floor.payload_bytes / 1e6:.2f}",
            f"{mean(size.floor.cpu_ms):.1f}",
            spread(size.floor.cpu_ms),
            f"{cycle:.1f}",
            spread(size.cycle.cycle_ms),
            f"{report.ratio(size.cycle, size.floor):.2f}",
            f"{mean(size.fast_floor.cpu_ms):.1f}",
            f"{report.ratio(size.cycle, size.fast_floor):.2f}",
            f"{median([float(c) for c in size.cycle.changed]):,.0f}",
            f"{cycle / size.scaled.statistics * 1000:.2f}",
        ])  # fmt: skip
    size_header = (
        "statistics", "agents / queues", "payload MB", "floor ms (mean)", "floor ms (median)",
        "cycle ms (mean)", "cycle ms (median)", "cycle / floor", "msgspec floor ms (mean)",
        "cycle / msgspec floor", "changed per poll", "cycle ms per 1k statistics",
    )  # fmt: skip
    add(markdown_table(size_header, rows) + "\n")
    add("## Where a CPU second goes (10,000 statistics)\n")
    add(
        "CPU ms per cycle by stage, from timers around the functions that do each stage "
        "(fetch: `StatisticsClient.request`; parse: `responses.parse_peek`; ingest: "
        "`Store.ingest`; redraw: `StatdashApp.redraw`); "
        "garbage collection is counted apart (gc callbacks) and taken out of the stage it "
        "interrupted; other is the rest of the cycle: the compositor's repaint (Textual has "
        "no public hook around it), the session, messages, the status line, a once-a-second "
        "tick that fell inside the cycle, and Textual's own bookkeeping.\n"
    )
    stage_rows = [_stage_row(step.lever.name, step.cycle) for step in report.levers]
    add(markdown_table(("step", *STAGES, "total (mean)"), stage_rows) + "\n")
    add(
        "Garbage collection is counted per cycle in the long run: young collections of "
        "Textual's drawing, and now and then a full one (of what came after the heap was "
        "settled).\n"
    )
    add("## Levers, one by one\n")
    add(
        "Every lever is in the code. The first row is the code as it is; each row after it "
        "is the same code with one lever switched off through a public seam "
        "(`benchmarks/benchkit/levers.py`; the product has no switch for benchmarks), at "
        f"{report.size_10k().scaled.statistics:,} statistics, so *worth* is what that one "
        "lever saves today with all the others in place. Means are what a poll costs in the "
        "long run; on this shared machine differences under about 10 ms are within the "
        "run-to-run noise. The history of the earlier levers, measured step by step from "
        "the code before the performance work, is in "
        "[performance-levers.md](performance-levers.md).\n"
    )
    current = report.current_lever()
    base = mean(current.cycle.cycle_ms) if current else float("nan")
    lever_rows = []
    for step in report.levers:
        cycle = mean(step.cycle.cycle_ms)
        worth = "" if step.lever.all_on else f"{cycle - base:+.1f}"
        lever_rows.append([
            step.lever.name, step.lever.where, f"{cycle:.1f}", worth,
            spread(step.cycle.cycle_ms), f"{report.ratio(step.cycle, floor_10k):.2f}",
        ])  # fmt: skip
    lever_header = (
        "step", "file", "cycle ms (mean)", "worth (ms)", "cycle ms (median)", "cycle / floor",
    )  # fmt: skip
    add(markdown_table(lever_header, lever_rows) + "\n")
    add(
        "Polling with verbose=OFF (the last row switches it off): the same subscription "
        f"peeked with verbose=INFO is {floor_info.payload_bytes / 1e6:.2f} MB instead of "
        f"{floor_off.payload_bytes / 1e6:.2f} MB, and the floor costs "
        f"{mean(floor_info.cpu_ms):.1f} ms instead of {mean(floor_off.cpu_ms):.1f} ms (means).\n"
    )
    add("## Steady state, stalls, start-up, memory\n")
    add(
        "Steady state: `python -m statdash run` with layouts/floor.yaml at a 1 s refresh (a "
        "copy with `refresh: 1s`, same agents and queues) against `statdash sim --agents 2000 "
        "--queues 50 --time-scale 1` in another process, on a pseudo-terminal of "
        f"{SCREEN[0]}x{SCREEN[1]} whose output the benchmark reads and discards. CPU share: "
        "utime + stime from /proc/<pid>/stat over the window, in slices (median and range of "
        "the slices).\n"
    )
    slices = len(product.cpu_windows)
    add(
        f"- CPU share of one core, {slices} slices: {spread(product.cpu_windows, '%')}; the "
        f"simulator meanwhile used {product.sim_cpu or 0:.1f}% of a core serving the polls.\n"
        f"- The stall run, probe included: {spread(stalls.cpu_windows, '%')} (the probe wakes "
        "200 times a second).\n"
    )
    add(
        "Stalls: `benchmarks/benchkit/dash_worker.py` runs exactly what `statdash run` runs, "
        "plus a task "
        "on the same event loop that sleeps 5 ms over and over and records how late it "
        "wakes; a wake-up late by X ms is X ms a keypress would have waited. Only the steady "
        "window counts (start-up is the first-frame row).\n"
    )
    add(f"- {_stall_line(stalls)}")
    add("")
    add(
        "\nFirst frame with data: from just before the process is created to the moment the "
        "pty carries an agent state word (Inbound, Not ready, After call), which only a data "
        "row or the state summary shows; includes Python start-up and imports, loading the "
        "layout, opening the 10,000-statistic subscription, and drawing. Runs: "
        f"{', '.join(f'{value:.2f} s' for value in product.startup)}.\n"
    )
    add(
        "Memory: the simulator runs with `--time-scale "
        f"{8 * 3600 / memory[0].polls:g}` so that {memory[0].polls:.0f} s of polling at 1 s "
        f"covers {memory[0].sim_hours:.0f} hours of simulated floor (every counter, state and "
        "average goes through a shift). Peak RSS is VmHWM from /proc/<pid>/status. The "
        "shift runs twice, one after the other: as it is, and with `--record` to a new file "
        "(the recorder's rows, its writer thread and SQLite's page cache in the process; "
        f"issue 23 asks for at most {TARGET_RSS_RECORD_MB:g} MB). `benchmarks/perf.py memory` "
        "runs these two alone.\n"
    )
    for run in memory:
        add(f"- {memory_line(run)}")
    add(_memory_note(memory))
    # The sections of `perf.py compile-memory`, `startup`, `screen-cost` and of
    # `push_vs_poll.py` are not this run's: kept as they were.
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    headings = (
        compile_memory.SECTION_HEADING,
        startup.SECTION_HEADING,
        screen_cost.SECTION_HEADING,
        PUSH_SECTION_HEADING,
    )
    for heading in headings:
        kept = section_in(old, heading)
        if kept is not None:
            add("\n" + kept.rstrip("\n") + "\n")
    add("\n## How to run\n")
    add(
        "```\n.venv/bin/python benchmarks/perf.py            # full, about 12 minutes\n"
        ".venv/bin/python benchmarks/perf.py --quick    # under 3 minutes, shorter windows\n"
        "```\n"
        "It needs nothing but the development install and a free loopback port; it starts and "
        "stops its own simulators and writes this file. The micro-benchmarks "
        "`benchmarks/perf.py table` and `benchmarks/perf.py parse` time single pieces "
        "(`benchmarks/perf.py --help` lists every question it answers).\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def _stall_line(run: DashRun) -> str:
    lags = sorted((lag * 1000 for _, lag, _ in run.stalls), reverse=True)
    if not lags:
        return f"{run.label}: the loop never woke 2 ms late"
    worst = max(run.stalls, key=lambda sample: sample[1])
    over = sum(1 for lag in lags if lag > TARGET_STALL_MS)
    wakeups = max(run.probe_wakeups, 1)
    return (
        f"{run.label}: longest {lags[0]:.0f} ms (the process used {worst[2] * 1000:.0f} ms of "
        f"CPU meanwhile); next longest {', '.join(f'{lag:.0f}' for lag in lags[1:5])} ms; "
        f"{over} wake-up(s) over {TARGET_STALL_MS:g} ms, {len(lags)} of {wakeups:,} over 2 ms; "
        f"longest with the process busy: {_busy(run):.0f} ms"
    )


def _busy(run: DashRun) -> float:
    busy = [lag for _, lag, cpu in run.stalls if cpu >= BUSY_SHARE * lag]
    return max(busy, default=0.0) * 1000


def memory_line(run: DashRun) -> str:
    samples = run.rss_mb
    half = samples[len(samples) // 2 :]
    slope = 0.0
    if len(half) >= 3:
        # Least squares over the second half: single samples move with each collection.
        slope = (
            statistics.linear_regression([t for t, _ in half], [mb for _, mb in half]).slope * 3600
        )
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)][1] for q in (0, 1, 2, 3)]
    end = samples[-1][1] if samples else 0.0
    line = (
        f"{run.label}: RSS at 0, 1/4, 1/2, 3/4 of the run and at the end: "
        f"{', '.join(f'{mb:.0f}' for mb in [*quarters, end])} MB; peak {run.peak_rss_mb:.0f} MB; "
        f"fitted trend over the second half {slope:+.0f} MB per hour of polling"
    )
    if run.recorded_bytes is not None:
        line += (
            f"; the recording: {run.recorded_bytes / 1e6:.1f} MB on disk, "
            f"{run.recorded_changes:,} changes and {run.recorded_keyframes} keyframes"
        )
    return line


def _memory_note(memory: list[DashRun]) -> str:
    return (
        "\nfloor.yaml has no trend or KPI widgets, so it keeps no history rings; the store "
        "keeps one latest value per statistic. History rings, where a layout has them, are "
        "flat float arrays allocated at full size when the layout is loaded (16 bytes a "
        "sample: an 8-hour trend at 1 s is 28,802 samples, 0.46 MB per statistic), so their "
        "memory is there from the first second, not grown over the shift. What a real "
        "8-hour run adds beyond this one is polls (one per second, the simulated shift "
        "has fewer), so the RSS slope per hour of polling above is the figure to watch.\n"
    )


def _second_look(report: Report) -> str:
    """The same code's cycle measured again in this run (the lever run's first row)."""
    current = report.current_lever()
    if current is None:
        return ""
    size = report.size_10k()
    first = report.ratio(size.cycle, size.floor)
    again = report.ratio(current.cycle, report.floor_10k())
    text = (
        "The same code's cycle was measured a second time in this run, as the first row of "
        f"the lever table: {mean(current.cycle.cycle_ms):.1f} ms, cycle / floor {again:.2f} "
        f"(against {first:.2f} in the table above)."
    )
    if (first <= TARGET_RATIO) != (again <= TARGET_RATIO):
        text += (
            " The two fall on either side of the target, so the ratio's verdict depends on "
            "the run: read it as about the target, not safely under it."
        )
    return text + "\n"


def _notes(report: Report) -> str:
    """What bounds each missed target, in terms of this run's figures."""
    notes: list[str] = []
    size = report.size_10k()
    floor = mean(report.floor_10k().cpu_ms)
    stages = size.cycle.stages_ms
    ratio = report.ratio(size.cycle, size.floor)
    if ratio > TARGET_RATIO:
        fetch_parse = stages.get("fetch", 0.0) + stages.get("parse", 0.0)
        notes.append(
            f"- **cycle / floor**: the cycle is {mean(size.cycle.cycle_ms):.0f} ms: fetch and "
            f"parse {fetch_parse:.0f} ms (the floor, the same GET and a JSON parse of the same "
            f"bytes, is {floor:.0f} ms), then ingest {stages.get('ingest', 0):.0f}, redraw "
            f"{stages.get('redraw', 0):.0f}, collection {stages.get('gc', 0):.0f} and the "
            f"rest (the repaint among it) {stages.get('other', 0):.0f} ms. What "
            "bounds it is per-statistic Python work on every poll (one comparison per value "
            "to find the ones that changed, then each changed one parsed, its cell marked "
            "and, when on screen, repainted) and Textual's compositor. At 1.5 times the "
            f"floor, {TARGET_RATIO * floor - fetch_parse:.0f} ms would be left for all of "
            "that."
        )
    product: DashRun = report.data["product"]
    if median(product.cpu_windows) > TARGET_CPU:
        notes.append(
            "- **steady CPU**: one poll a second costs the cycle above plus the once-a-second "
            "tick, turning lines into escape codes and writing them."
        )
    stalls: DashRun = report.data["stalls"]
    if report.stall_ms(stalls) > TARGET_STALL_MS:
        worst = max(stalls.stalls, key=lambda sample: sample[1])
        notes.append(
            f"- **stall**: the worst wake-up was {worst[1] * 1000:.0f} ms late while the "
            f"process used {worst[2] * 1000:.0f} ms of CPU; the longest stretch with the "
            f"process busy was {report.busy_stall_ms(stalls):.0f} ms: a poll's parse and "
            "ingest run in one step of the session task and the redraw in one message "
            "handler. Wall time beyond the CPU is the process waiting for a core."
        )
    if median(product.startup) > TARGET_FIRST_FRAME:
        notes.append(
            "- **first frame**: Python start-up and imports, compiling the 2,000-agent layout, "
            "the 10,000-statistic subscription and the first paint."
        )
    memory: list[DashRun] = report.data["memory"]
    if memory[0].peak_rss_mb > TARGET_RSS_MB:
        notes.append("- **memory**: see the memory section.")
    if not notes:
        return "Every target is met in this run.\n"
    return "What bounds the missed targets:\n\n" + "\n".join(notes) + "\n"


__all__ = ["Report", "memory_line", "write_report"]
