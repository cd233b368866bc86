"""Peak memory of `statdash check` on a layout whose formula aggregates over every agent.

The layout is the docs' share-of-the-floor column, `100 * talk / sum(talk)`, in an agents
table over N agents (an object list file beside it). Each size runs `python -m statdash check`
in a child process of its own and reads the child's peak RSS from `os.wait4`'s resource
usage, so nothing of this script's own memory is counted.

    .venv/bin/python benchmarks/perf.py compile-memory              # 1,000 / 5,000 / 10,000
    .venv/bin/python benchmarks/perf.py compile-memory 1000 20000   # other sizes

Prints one line per size; the figures in docs/performance.md ("What a layout costs to
compile") come from here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1000, 5000, 10000)
LAYOUT = """\
title: Share of the floor
statistics:
  talk: {name: TalkDuration, label: Talk, format: duration}
  share: {formula: "100 * talk / sum(talk)", label: Share, format: percent}
objects:
  floor: {type: agent, file: agents.txt}
pages:
  - widgets:
      - {kind: agents, agents: floor, columns: [$talk, $share]}
"""


# Its section of docs/performance.md, written by hand from this script's output (the figures
# before a fix cannot be measured again after it); `perf.py` rewrites that file and keeps it.
SECTION_HEADING = "## What a layout costs to compile"


def section_in(text: str, heading: str = SECTION_HEADING) -> str | None:
    """A hand-written section of a docs/performance.md text (from `heading` up to the next
    heading; this script's by default), or None."""
    start = text.find(heading + "\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading))
    return text[start : end + 1 if end >= 0 else len(text)]


def with_section(text: str, section: str, before: str = "## How to run") -> str:
    """`text` with `section` (starting with its `## ` heading) in place of the section of that
    heading, or, when there is none, put in before the `before` heading (else at the end)."""
    heading = section.split("\n", 1)[0]
    section = section.rstrip("\n") + "\n"
    old = section_in(text, heading)
    if old is not None:
        # The blank lines that ended the old section end the new one.
        return text.replace(old, section.rstrip("\n") + old[len(old.rstrip("\n")) :], 1)
    at = text.find("\n" + before + "\n")
    if at < 0:
        return text.rstrip("\n") + "\n\n" + section
    return text[: at + 1] + section + "\n" + text[at + 1 :]


@dataclass(frozen=True, slots=True)
class Measured:
    """One `statdash check` run: the layout's size, its peak RSS, its wall time, its status."""

    agents: int
    peak_mb: float
    seconds: float
    status: int


def write_layout(folder: Path, agents: int) -> Path:
    """The layout over `agents` agents, with its object list, in `folder`."""
    (folder / "agents.txt").write_text(
        "".join(f"agent{n:05d}\n" for n in range(agents)), encoding="utf-8"
    )
    path = folder / "share.yaml"
    path.write_text(LAYOUT, encoding="utf-8")
    return path


def measure(agents: int) -> Measured:
    """Run `statdash check` on the layout of `agents` agents; its peak RSS (ru_maxrss, kB)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_layout(Path(folder), agents)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "statdash", "check", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    # On Linux ru_maxrss is in kilobytes.
    return Measured(agents, usage.ru_maxrss / 1024, seconds, child.returncode)


def main(argv: list[str]) -> None:
    """Measure each size given (default 1,000, 5,000 and 10,000 agents) and print a line."""
    parser = argparse.ArgumentParser(
        prog="perf.py compile-memory", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="agent counts")
    args = parser.parse_args(argv)
    print(f"{'agents':>8} {'peak RSS':>10} {'time':>8}  check exit status")
    for agents in args.sizes:
        run = measure(agents)
        print(f"{run.agents:>8,} {run.peak_mb:>7.0f} MB {run.seconds:>6.1f} s  {run.status}")
