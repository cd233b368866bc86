"""How long a statdash command takes to start: `--help`, `run --help`, `check`, `sim --help`.

Each command runs in a child process of its own, `python -m statdash ...` from this checkout,
N times; the runs go round-robin (one of each, then again) so a change in the machine's load
falls on every command alike. Wall time is from just before the child is created to its
exit; CPU is the child's user + system time from `os.wait4`, which other work on the machine
disturbs less. Two floors go beside them: `python -c pass` (the interpreter alone) and
`python -c "import textual.app"` (what any Textual app pays before it draws).

    .venv/bin/python benchmarks/perf.py startup              # 9 runs of each
    .venv/bin/python benchmarks/perf.py startup --runs 15

Prints one row per command (min and median of wall and CPU time) and the load average before
and after; the figures in docs/performance.md ("Start-up") come from here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 9
MIN_RUNS = 7  # a median of fewer runs on a shared machine says little
TARGET = ("statdash run --help", 0.25)  # issue 23: `run --help` in 0.25 s or less
SECTION_HEADING = "## Start-up"

# (label, argv after the interpreter, the exit status it must end with)
COMMANDS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("python -c pass", ("-c", "pass"), 0),
    ('python -c "import textual.app"', ("-c", "import textual.app"), 0),
    ("statdash --help", ("-m", "statdash", "--help"), 0),
    ("statdash run --help", ("-m", "statdash", "run", "--help"), 0),
    ("statdash sim --help", ("-m", "statdash", "sim", "--help"), 0),
    ("statdash check layouts/floor.yaml", ("-m", "statdash", "check", "layouts/floor.yaml"), 0),
)


@dataclass(slots=True)
class Timings:
    """Every run of one command: wall and CPU seconds."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def run_once(argv: tuple[str, ...], expected: int) -> tuple[float, float]:
    """One child `python ARGV` from the checkout: (wall seconds, CPU seconds).

    A different exit status than `expected` stops the benchmark: a command that failed early
    would look fast.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    if code != expected:
        raise SystemExit(f"python {' '.join(argv)}: exit status {code}, expected {expected}")
    return wall, usage.ru_utime + usage.ru_stime


def load() -> str:
    """The load average (1, 5, 15 minutes), as `uptime` shows it."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def measure(runs: int) -> list[Timings]:
    """`runs` runs of every command, round-robin, after one unmeasured warm-up of each (so the
    first command does not alone pay for a cold file cache)."""
    timings = [Timings(label) for label, _, _ in COMMANDS]
    for _, argv, expected in COMMANDS:
        run_once(argv, expected)
    for _ in range(runs):
        for timing, (_, argv, expected) in zip(timings, COMMANDS, strict=True):
            wall, cpu = run_once(argv, expected)
            timing.wall.append(wall)
            timing.cpu.append(cpu)
    return timings


def table(timings: list[Timings]) -> str:
    """The Markdown table: min and median of wall and CPU time per command, in seconds."""
    lines = [
        "| command | wall min | wall median | CPU min | CPU median |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for timing in timings:
        lines.append(
            f"| `{timing.label}` | {min(timing.wall):.3f} s "
            f"| {statistics.median(timing.wall):.3f} s | {min(timing.cpu):.3f} s "
            f"| {statistics.median(timing.cpu):.3f} s |"
        )
    return "\n".join(lines)


def verdict(timings: list[Timings]) -> str:
    """The target line: `statdash run --help`'s median wall time against 0.25 s."""
    label, bound = TARGET
    median = statistics.median(next(t for t in timings if t.label == label).wall)
    met = "met" if median <= bound else "MISSED"
    return f"{label}: median {median:.3f} s, target <= {bound} s: {met}"


def main(argv: list[str]) -> None:
    """Measure every command `--runs` times (at least 7) and print the table."""
    parser = argparse.ArgumentParser(
        prog="perf.py startup", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"runs of each command (default {RUNS})"
    )
    args = parser.parse_args(argv)
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}: a median of fewer says little")
    before = load()
    timings = measure(args.runs)
    print(f"{args.runs} runs of each, round-robin; load average before: {before}, after: {load()}")
    print(table(timings))
    print(verdict(timings))
