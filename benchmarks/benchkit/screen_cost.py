"""What the screen costs in steady state, against the Textual floor, side by side in one run.

    python benchmarks/perf.py screen-cost [--window 30] [--code LABEL=DIR ...]

One simulator (`statdash sim`, 2,000 agents, 50 queues, real time) serves every subject in
turn. Each subject runs on a pseudo-terminal of 200x50 whose output is read (and counted):
- statdash (`benchkit/dash_worker.py`, which runs what `statdash run` runs, plus its loop-lag
  probe) on layouts/floor.yaml at a 1 s refresh under push, measured live and again after
  `p` (paused: the channel open, nothing applied, the screen still ticking), once for each
  checkout given with `--code` (the dashboard imports statdash from DIR: a second checkout of
  an older commit is the "before" of the same run), this checkout when none is given;
- the Textual floor: a minimal Textual app (this module, `--floor-worker`) that shows 200x50
  cells and once a second rewrites what a paused floor dashboard changes (the time in state
  of 40 visible agent rows, and the status line), repainting only those cells.
For each: CPU % of one core (utime + stime from /proc over the window), bytes a second written
to the terminal, the longest event-loop stall (the probe: a 5 ms sleep, how late it wakes),
the load average at the start and end of its window (the machine may be shared), and the
ratio of CPU and bytes to the floor's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from benchkit.dash_worker import probe
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.ptyproc import PtyProcess
from benchkit.simproc import SimProcess, child_env

SECTION_HEADING = "## What the screen costs in steady state"
"""Its section of docs/performance.md, which the full report keeps as it was."""
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SIZE = (200, 50)
SETTLE_SECONDS = 8.0
"""After the first data frame: the first ingest, the second full one under push, the heap."""
PAUSE_SETTLE_SECONDS = 2.0
PROBE = "{probe}"
TABLE_ROWS = 40
"""Agent rows the floor's screen shows: floor.yaml's agent table at 200x50 shows about this
many; each of their time-in-state cells moves every second."""
ROW_START = "agent0000    Inbound        "
"""What comes before the clock on an agent row: the clock's cells start at its length."""
CLOCK_WIDTH = len("0:00:00")


@dataclass(frozen=True, slots=True)
class Subject:
    """One measured process: a label, its command line (`PROBE` stands for the probe file),
    its PYTHONPATH (where its statdash is imported from) and whether to pause it."""

    label: str
    argv: list[str]
    pythonpath: str
    pause: bool = False


@dataclass(frozen=True, slots=True)
class Figures:
    """What one subject cost over its window."""

    label: str
    cpu_percent: float
    bytes_per_second: float
    longest_stall_ms: float
    stalls_over_33ms: int
    load_start: float
    load_end: float
    window: float


# --- the Textual floor ----------------------------------------------------------------------


class FloorScreen(Widget):
    """200x50 cells of text; once a second the time column and the status line move."""

    def __init__(self) -> None:
        super().__init__()
        self.second = 0

    def line(self, y: int) -> str:
        """The text of line `y`: a header, agent rows whose time moves, a status line."""
        width = self.size.width
        if y == 0:
            text = "Agent        State          In state   Calls   Talk     Prod"
        elif 1 <= y <= TABLE_ROWS:
            seconds = 60 * y + self.second
            clock = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            start = f"agent{y:04d}".ljust(13) + "Inbound".ljust(15)
            text = f"{start}{clock}    {y % 17:5d}   0:0{y % 9}:12   87%"
        elif y == self.size.height - 1:
            text = f" paused │ http://127.0.0.1 │ updated {self.second}s ago │ 0 errors"
        else:
            text = ""
        return text.ljust(width)[:width]

    def render_line(self, y: int) -> Strip:
        """One line of plain text."""
        return Strip([Segment(self.line(y))], self.size.width)

    def advance(self) -> None:
        """A second passed: repaint the cells whose text moved (each row's clock, the status
        line), and only those."""
        self.second += 1
        clocks = [Region(len(ROW_START), y, CLOCK_WIDTH, 1) for y in range(1, TABLE_ROWS + 1)]
        status = Region(0, self.size.height - 1, self.size.width, 1)
        self.refresh(*clocks, status)


class FloorApp(App[None]):
    """The minimal Textual app: one widget, one timer, nothing else."""

    CSS = "FloorScreen { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield FloorScreen()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.query_one(FloorScreen).advance)


async def _floor_main(probe_path: Path) -> None:
    task = asyncio.get_running_loop().create_task(probe(probe_path))
    try:
        await FloorApp().run_async()
    finally:
        task.cancel()


# --- measuring ------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[screen-cost {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(subject: Subject, env: dict[str, str], work: Path, window: float) -> Figures:
    """Start `subject` on a 200x50 pty, let it settle, and measure it over `window` seconds."""
    probe_path = work / f"probe-{len(list(work.iterdir()))}.json"
    argv = [str(probe_path) if part == PROBE else part for part in subject.argv]
    process = PtyProcess(argv, env=env | {"PYTHONPATH": subject.pythonpath}, size=SIZE).start()
    try:
        first = process.wait_for_data(timeout=120)
        if first is None:
            raise RuntimeError(f"{subject.label}: no data on screen within 120 s")
        log(f"{subject.label}: first data frame after {first:.2f} s")
        time.sleep(SETTLE_SECONDS)
        if subject.pause:
            process.send(b"p")
            time.sleep(PAUSE_SETTLE_SECONDS)
        load_start = os.getloadavg()[0]
        cpu_before, bytes_before, started = (
            process.cpu_seconds(),
            process.bytes_read,
            time.monotonic(),
        )
        time.sleep(window)
        cpu = process.cpu_seconds() - cpu_before
        written = process.bytes_read - bytes_before
        elapsed = time.monotonic() - started
        load_end = os.getloadavg()[0]
        # The probe writes once a second: wait for a write after the window closed.
        time.sleep(1.5)
        data = json.loads(probe_path.read_text())
        lags = [
            float(lag) for at, lag, _ in data["late"] if started <= float(at) <= started + elapsed
        ]
    finally:
        process.stop()
    return Figures(
        label=subject.label,
        cpu_percent=100 * cpu / elapsed,
        bytes_per_second=written / elapsed,
        longest_stall_ms=1000 * max(lags, default=0.0),
        stalls_over_33ms=sum(lag > 0.033 for lag in lags),
        load_start=load_start,
        load_end=load_end,
        window=elapsed,
    )


def table(results: list[Figures], floor: Figures) -> str:
    """The figures as a markdown table, with the ratios to the floor."""
    lines = [
        "| subject | CPU % of a core | x floor | bytes/s to the terminal | x floor"
        " | longest stall ms | stalls > 33 ms | load (1 min) start → end |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results:
        cpu_ratio = row.cpu_percent / floor.cpu_percent if floor.cpu_percent else float("inf")
        bytes_ratio = (
            row.bytes_per_second / floor.bytes_per_second if floor.bytes_per_second else 0.0
        )
        lines.append(
            f"| {row.label} | {row.cpu_percent:.1f} | {cpu_ratio:.1f} | {row.bytes_per_second:,.0f}"
            f" | {bytes_ratio:.1f} | {row.longest_stall_ms:.0f} | {row.stalls_over_33ms}"
            f" | {row.load_start:.2f} → {row.load_end:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """`perf.py screen-cost`: measure every subject in one run and print the table."""
    parser = argparse.ArgumentParser(prog="perf.py screen-cost", description=__doc__)
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured each")
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="a checkout whose statdash to measure (repeat for before and after)",
    )
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.floor_worker is not None:
        asyncio.run(_floor_main(options.floor_worker))
        return
    checkouts = [entry.split("=", 1) for entry in options.code] or [["this code", str(ROOT)]]
    with tempfile.TemporaryDirectory(prefix="screen-cost-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        layout = write_floor(work / "layout", FLOOR_AGENTS, FLOOR_QUEUES).path
        probes = work / "probes"
        probes.mkdir()
        floor_argv = [sys.executable, str(ROOT / "benchmarks" / "perf.py"), "screen-cost"]
        floor = Subject("Textual floor", [*floor_argv, "--floor-worker", PROBE], str(ROOT))
        results: list[Figures] = []
        log(f"load average {os.getloadavg()}")
        with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as sim:
            worker = [
                sys.executable,
                str(HERE / "dash_worker.py"),
                str(layout),
                sim.base_url,
                PROBE,
            ]
            subjects = [floor]
            for label, directory in checkouts:
                for paused in (False, True):
                    mode = "paused" if paused else "live"
                    subjects.append(
                        Subject(
                            f"statdash {label}, push {mode}",
                            [*worker, "--updates", "push"],
                            directory,
                            pause=paused,
                        )
                    )
            for subject in subjects:
                results.append(measure(subject, env, probes, options.window))
                log(f"{subject.label}: {results[-1]}")
        print(f"screen-cost, {options.window:g} s windows, 200x50, floor.yaml, 2,000 agents")
        print(table(results, results[0]))
