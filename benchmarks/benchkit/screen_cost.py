"""What the screen costs in steady state, against the Textual floor, side by side in one run.

    python benchmarks/perf.py screen-cost [--window 30] [--stall-window 20]
                                          [--screens floor,wallboard] [--code LABEL=DIR ...]

Two screens, each with a simulator of its own (`statdash sim`, real time) that serves every
subject of that screen in turn, each subject on a pseudo-terminal whose output is read (and
counted):
- *floor*: layouts/floor.yaml at a 1 s refresh, 2,000 agents and 50 queues, at 200x50;
- *wallboard*: layouts/wallboard.yaml as shipped (5 s refresh, pages rotating), the
  simulator's default 50 agents and 5 queues, at 200x60.
The subjects of a screen:
- statdash (`benchkit/dash_worker.py`, which runs what `statdash run` runs, plus its loop-lag
  probe, started by a signal) under push, measured live and again after `p` (paused: the
  channel open, nothing applied, the screen still ticking; on the wallboard `R` then resumes
  the page rotation that any key stops, as a wall would show it), and polling (`--updates
  poll`, at the layout's refresh); once for each checkout given with `--code` (the dashboard
  imports statdash from DIR: a second checkout of an older commit is the "before" of the
  same run), this checkout when none is given;
- the Textual floor: a minimal Textual app (this module, `--floor-worker`) of the same size
  that, once a second, repaints only what that screen changes when paused, and nothing else:
  on floor, the time in state of 40 visible agent rows and the status line; on the
  wallboard, the header (the rotation's countdown) and the status line, and every 10 s the
  whole screen (a page turn, or the team page's next page of agents).
For each, in two windows one after the other: first, without the probe, CPU % of one core
(utime + stime from /proc over the window) and bytes a second written to the terminal; then,
with the probe started (it costs ~2.5% of a core on its own, so never inside the CPU window),
the longest event-loop stall (the probe: a 5 ms sleep, how late it wakes), and the most CPU
the process used within one late wake-up (what the loop's own work took: on a shared machine
a stall's wall time also holds the wait for a core, its CPU time not),
the first frame with data (seconds from process start to the first frame showing a value:
an agent state word on floor, the status line's "updated ... ago" on the wallboard), peak
RSS (VmHWM at the end of the windows), the load average at the start of the first window and
the end of the second (the machine may be shared), and the ratio of CPU and bytes to the floor's.
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

from benchkit.dash_worker import PROBE_START_SIGNAL, start_probe
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.ptyproc import DATA_MARKERS, PtyProcess
from benchkit.simproc import SimProcess, child_env

SECTION_HEADING = "## What the screen costs in steady state"
"""Its section of docs/performance.md, which the full report keeps as it was."""
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WALLBOARD = ROOT / "layouts" / "wallboard.yaml"
SETTLE_SECONDS = 8.0
"""After the first data frame: the first ingest, the second full one under push, the heap."""
PAUSE_SETTLE_SECONDS = 2.0
PROBE_SETTLE_SECONDS = 1.0
"""From the probe's start to its window: the first flush of its file, the loop at rest."""
PROBE = "{probe}"
TABLE_ROWS = 40
"""Agent rows the floor's screen shows: floor.yaml's agent table at 200x50 shows about this
many; each of their time-in-state cells moves every second."""
ROW_START = "agent0000    Inbound        "
"""What comes before the clock on an agent row: the clock's cells start at its length."""
CLOCK_WIDTH = len("0:00:00")
UPDATED = b"updated "
"""The status line's data age ("updated 2s ago"): shown once values arrived, never before."""
BODY_SECONDS = 10
"""The wallboard's body changes whole every 10 s: its pages stay 20, 10 and 20 s, and the
team page shows its next page of agents after 10 s."""


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen measured: its layout, the simulator behind it, the terminal's size, what
    marks a frame with data, the keys that pause it, and its Textual floor."""

    name: str
    agents: int
    queues: int
    size: tuple[int, int]
    markers: tuple[bytes, ...]
    pause_keys: bytes
    floor: type[Widget]

    def layout(self, work: Path) -> Path:
        """The layout file the dashboard runs."""
        if self.name == "floor":
            return write_floor(work / "layout", FLOOR_AGENTS, FLOOR_QUEUES).path
        return WALLBOARD


@dataclass(frozen=True, slots=True)
class Subject:
    """One measured process: a label, its command line (`PROBE` stands for the probe file),
    its PYTHONPATH (where its statdash is imported from) and the keys that pause it (none:
    measured as it runs)."""

    label: str
    argv: list[str]
    pythonpath: str
    pause_keys: bytes = b""


@dataclass(frozen=True, slots=True)
class Figures:
    """What one subject cost over its window."""

    label: str
    cpu_percent: float
    bytes_per_second: float
    longest_stall_ms: float
    stalls_over_33ms: int
    busiest_stall_ms: float
    """The most CPU time the process used within one late wake-up of the probe."""
    busy_stalls_over_33ms: int
    """Late wake-ups within which the process used more than 33 ms of CPU."""
    first_frame: float
    peak_rss_mb: float
    load_start: float
    load_end: float
    window: float


# --- the Textual floors --------------------------------------------------------------------


class FloorScreen(Widget):
    """floor.yaml's cells as text; once a second the time column and the status line move."""

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


class WallboardScreen(Widget):
    """wallboard.yaml's screen as text: framed tiles; once a second the header's countdown and
    the status line move, and every `BODY_SECONDS` the whole body."""

    def __init__(self) -> None:
        super().__init__()
        self.second = 0

    def line(self, y: int) -> str:
        """The text of line `y`: the header, rows of four framed tiles, a status line."""
        width = self.size.width
        body = self.second // BODY_SECONDS
        if y == 0:
            left = BODY_SECONDS - self.second % BODY_SECONDS
            text = f"Wallboard   [1 Now]  2 Queues   3 Team 01    next: {body % 3 + 2} in {left}s"
        elif y == self.size.height - 1:
            text = f" ● live · push │ 127.0.0.1 │ updated {self.second % 5}s ago │ 0 errors"
        else:
            tile = width // 4
            row = (y - 1) % 12
            if row == 0:
                cell = f"╭─ Tile {body % 7} ".ljust(tile - 1, "─") + "╮"
            elif row == 11:
                cell = "╰".ljust(tile - 1, "─") + "╯"
            else:
                digits = " ▄▀▀▀▄ ▀▀▀▀   ▄ " if (row + body) % 2 else " ▀▄▄▄▀ ▀▀▀▀▄ ▄▀ "
                cell = ("│" + digits.center(tile - 2) + "│")[:tile]
            text = cell * 4
        return text.ljust(width)[:width]

    def render_line(self, y: int) -> Strip:
        """One line of plain text."""
        return Strip([Segment(self.line(y))], self.size.width)

    def advance(self) -> None:
        """A second passed: repaint the header and the status line; on a page turn, all."""
        self.second += 1
        if self.second % BODY_SECONDS == 0:
            self.refresh()
            return
        width, height = self.size
        self.refresh(Region(0, 0, width, 1), Region(0, height - 1, width, 1))


class FloorApp(App[None]):
    """The minimal Textual app: one widget, one timer, nothing else."""

    CSS = "Widget { height: 1fr; }"

    def __init__(self, screen_kind: type[Widget]) -> None:
        super().__init__()
        self._kind = screen_kind

    def compose(self) -> ComposeResult:
        yield self._kind()

    def on_mount(self) -> None:
        widget = self.query_one(self._kind)
        assert isinstance(widget, FloorScreen | WallboardScreen)
        self.set_interval(1.0, widget.advance)


SCREENS: dict[str, Screen] = {
    "floor": Screen("floor", FLOOR_AGENTS, FLOOR_QUEUES, (200, 50), DATA_MARKERS, b"p",
                    FloorScreen),
    "wallboard": Screen("wallboard", 50, 5, (200, 60), (UPDATED,), b"pR", WallboardScreen),
}  # fmt: skip
"""The screens measured, by name (the simulator's default floor is 50 agents, 5 queues)."""


async def _floor_main(screen: Screen, probe_path: Path) -> None:
    task = start_probe(probe_path, on_signal=True)
    try:
        await FloorApp(screen.floor).run_async()
    finally:
        task.cancel()


# --- measuring ------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so stdout holds the table."""
    print(f"[screen-cost {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(
    subject: Subject,
    screen: Screen,
    env: dict[str, str],
    work: Path,
    window: float,
    stall_window: float,
) -> Figures:
    """Start `subject` on a pty of the screen's size and let it settle; measure its CPU and
    bytes over `window` without the probe, then start the probe and read the stalls over
    `stall_window`."""
    probe_path = work / f"probe-{len(list(work.iterdir()))}.json"
    argv = [str(probe_path) if part == PROBE else part for part in subject.argv]
    process = PtyProcess(
        argv,
        env=env | {"PYTHONPATH": subject.pythonpath},
        size=screen.size,
        markers=screen.markers,
    ).start()
    try:
        first = process.wait_for_data(timeout=120)
        if first is None:
            raise RuntimeError(f"{subject.label}: no data on screen within 120 s")
        log(f"{subject.label}: first data frame after {first:.2f} s")
        time.sleep(SETTLE_SECONDS)
        if subject.pause_keys:
            for key in subject.pause_keys:
                process.send(bytes([key]))
                time.sleep(0.2)
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
        # The stalls, with the probe: it costs ~2.5% of a core, so not inside the CPU window.
        os.kill(process.pid, PROBE_START_SIGNAL)
        time.sleep(PROBE_SETTLE_SECONDS)
        stalls_from = time.monotonic()
        time.sleep(stall_window)
        stalls_until = time.monotonic()
        load_end = os.getloadavg()[0]
        peak_kib = process.memory_kib()[1]
        # The probe writes once a second: wait for a write after the window closed.
        time.sleep(1.5)
        data = json.loads(probe_path.read_text())
        late = [
            (float(lag), float(cpu))
            for at, lag, cpu in data["late"]
            if stalls_from <= float(at) <= stalls_until
        ]
        lags = [lag for lag, _ in late]
        busy = [cpu for _, cpu in late]
    finally:
        process.stop()
    return Figures(
        label=subject.label,
        cpu_percent=100 * cpu / elapsed,
        bytes_per_second=written / elapsed,
        longest_stall_ms=1000 * max(lags, default=0.0),
        stalls_over_33ms=sum(lag > 0.033 for lag in lags),
        busiest_stall_ms=1000 * max(busy, default=0.0),
        busy_stalls_over_33ms=sum(cpu > 0.033 for cpu in busy),
        first_frame=first,
        peak_rss_mb=peak_kib / 1024,
        load_start=load_start,
        load_end=load_end,
        window=elapsed,
    )


def table(results: list[Figures], floor: Figures) -> str:
    """The figures as a markdown table, with the ratios to the floor."""
    lines = [
        "| subject | CPU % of a core | x floor | bytes/s to the terminal | x floor"
        " | longest stall ms | stalls > 33 ms | busiest stall CPU ms | busy stalls > 33 ms"
        " | first frame s | peak RSS MB | load (1 min) start → end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results:
        cpu_ratio = row.cpu_percent / floor.cpu_percent if floor.cpu_percent else float("inf")
        bytes_ratio = (
            row.bytes_per_second / floor.bytes_per_second if floor.bytes_per_second else 0.0
        )
        lines.append(
            f"| {row.label} | {row.cpu_percent:.1f} | {cpu_ratio:.1f} | {row.bytes_per_second:,.0f}"
            f" | {bytes_ratio:.1f} | {row.longest_stall_ms:.0f} | {row.stalls_over_33ms}"
            f" | {row.busiest_stall_ms:.0f} | {row.busy_stalls_over_33ms}"
            f" | {row.first_frame:.2f} | {row.peak_rss_mb:.0f}"
            f" | {row.load_start:.2f} → {row.load_end:.2f} |"
        )
    return "\n".join(lines)


def subjects_of(screen: Screen, checkouts: list[list[str]], worker: list[str]) -> list[Subject]:
    """The Textual floor first, then per checkout statdash under push (live, paused) and
    polling."""
    floor_argv = [sys.executable, str(ROOT / "benchmarks" / "perf.py"), "screen-cost"]
    floor_argv += ["--screens", screen.name, "--floor-worker", PROBE]
    subjects = [Subject("Textual floor", floor_argv, str(ROOT))]
    for label, directory in checkouts:
        subjects += [
            Subject(f"statdash {label}, push live", [*worker, "--updates", "push"], directory),
            Subject(
                f"statdash {label}, push paused",
                [*worker, "--updates", "push"],
                directory,
                pause_keys=screen.pause_keys,
            ),
            Subject(f"statdash {label}, poll", [*worker, "--updates", "poll"], directory),
        ]
    return subjects


def main(argv: list[str]) -> None:
    """`perf.py screen-cost`: measure every subject in one run and print the tables."""
    parser = argparse.ArgumentParser(
        prog="perf.py screen-cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--window", type=float, default=30.0, help="seconds of CPU and bytes measured each"
    )
    parser.add_argument(
        "--stall-window",
        type=float,
        default=20.0,
        help="seconds of stalls measured each, with the probe, after the CPU window",
    )
    parser.add_argument(
        "--screens",
        default=",".join(SCREENS),
        help=f"the screens to measure, comma-separated ({', '.join(SCREENS)})",
    )
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="a checkout whose statdash to measure (repeat for before and after)",
    )
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    names = [name.strip() for name in options.screens.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCREENS]
    if unknown or not names:
        parser.error(f"--screens: choose from {', '.join(SCREENS)}")
    screens = [SCREENS[name] for name in names]
    if options.floor_worker is not None:
        asyncio.run(_floor_main(screens[0], options.floor_worker))
        return
    checkouts = [entry.split("=", 1) for entry in options.code] or [["this code", str(ROOT)]]
    if any(len(entry) != 2 for entry in checkouts):
        parser.error("--code: give LABEL=DIR")
    began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()
    tables: list[str] = []
    with tempfile.TemporaryDirectory(prefix="screen-cost-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        probes = work / "probes"
        probes.mkdir()
        log(f"load average {load_before}")
        for screen in screens:
            layout = screen.layout(work / screen.name)
            results: list[Figures] = []
            with SimProcess(screen.agents, screen.queues, env=env) as sim:
                worker = [sys.executable, str(HERE / "dash_worker.py"), str(layout),
                          sim.base_url, PROBE, "--probe-on-signal"]  # fmt: skip
                for subject in subjects_of(screen, checkouts, worker):
                    results.append(
                        measure(subject, screen, env, probes, options.window, options.stall_window)
                    )
                    log(f"{screen.name}: {results[-1]}")
            columns, rows = screen.size
            tables.append(
                f"{screen.name}: {layout.name}, {screen.agents:,} agents, {screen.queues} queues,"
                f" {columns}x{rows}\n\n{table(results, results[0])}"
            )
    load_after = os.getloadavg()
    print(
        f"screen-cost, {began}, {options.window:g} s windows without the probe (CPU, bytes),"
        f" {options.stall_window:g} s with it (stalls); load average before "
        f"{', '.join(f'{v:.2f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.2f}' for v in load_after)}\n"
    )
    print("\n\n".join(tables))
