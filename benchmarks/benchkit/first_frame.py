"""How long `statdash run` takes to show data, under push and under poll, side by side in one run.

    python benchmarks/perf.py first-frame [--runs 7] [--code LABEL=DIR ...]

One simulator (`statdash sim`, 2,000 agents, 50 queues, real time) serves every start.
Each start is `python -m statdash run floor.yaml --url URL --updates push|poll` (floor.yaml
at a 1 s refresh) on a pseudo-terminal of 200x50, importing statdash from DIR (`--code`,
repeatable: a second checkout of an older commit is the "before" of the same run; this
checkout when none is given). The starts go round-robin (each checkout and mode in turn,
then again), so a change in the machine's load falls on every subject alike.

First frame with data: from just before the process is created to the moment the terminal
carries an agent state word (`benchkit/ptyproc.py`), which only a data row or the state
summary shows: Python start-up, imports, loading the layout, the handshake and subscribe,
the first ingest and the first paint. Bytecode is cached, as in an installed package (the
warm-up start of each subject writes it). Beside it, the CPU the dashboard had used by then
(user + system, from /proc, read as soon as the frame was seen), its peak RSS by then
(VmHWM), and the load average.
Each start ends with SIGTERM (the dashboard deletes its subscription); one that does not
exit with status 0 stops the benchmark.

Beside them, in the same rounds, the floor of any first frame on this server: a bare client
(`--floor-client`, this module) that imports httpx, posts the same 10,380 statistics (the
request body made beforehand), decodes the answer with the standard library's JSON and
writes the first agent state word it finds. What no dashboard of this server can beat: the
interpreter, the HTTP client and the server's own work on the subscription.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.ptyproc import PtyProcess
from benchkit.simproc import API_KEY, SimProcess, child_env

ROOT = Path(__file__).resolve().parents[2]
SIZE = (200, 50)
RUNS = 7
MODES = ("push", "poll")
TARGET_SECONDS = 0.8  # issue 23: first frame with data in 0.8 s or less, push and poll
PAUSE_SECONDS = 1.0
"""Between two starts: the simulator forgets the last one's CometD client and subscription."""
FLOOR_MODE = "bare client"
"""The mode of the floor subject (`--floor-client`), which is no checkout's dashboard."""
OPERATION_ID = b"@operation-id@"
"""Where the floor client puts a fresh operationId into the request body it is given."""
# The bare client, run as `python -c FLOOR_CLIENT REQUEST URL KEY PLACEHOLDER`, so that it
# imports nothing but httpx: subscribe, write the first agent state word in statdash's words
# (what `ptyproc` watches for), delete the subscription on SIGTERM.
FLOOR_CLIENT = """
import json, signal, sys, uuid
import httpx
request, url, key, placeholder = sys.argv[1:]
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
operation_id = str(uuid.uuid4())
with open(request, "rb") as file:
    body = file.read().replace(placeholder.encode(), operation_id.encode())
words = {
    "CallInbound": "Inbound", "NotReadyForNextCall": "Not ready", "AfterCallWork": "After call"
}
api = "/statistics/v3/subscriptions"
headers = {"x-api-key": key, "content-type": "application/json"}
with httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=60) as http:
    reply = http.post(api, params={"verbose": "OFF"}, content=body)
    reply.raise_for_status()
    for value in json.loads(reply.content)["data"]["statistics"]:
        state = value.get("value")
        status = state.get("stateValue", {}).get("status") if isinstance(state, dict) else None
        if status in words:
            print(words[status], flush=True)
            break
    signal.sigwait({signal.SIGTERM})
    http.delete(api + "/" + operation_id)
"""


@dataclass(slots=True)
class Subject:
    """One checkout under one way of updating, and every start measured."""

    label: str
    directory: str
    mode: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)


def start_once(subject: Subject, layout: Path, url: str, env: dict[str, str]) -> None:
    """One start of `subject`: time to the first data frame and CPU by then, then SIGTERM."""
    if subject.mode == FLOOR_MODE:
        request = str(layout.with_suffix(".json"))
        argv = [sys.executable, "-c", FLOOR_CLIENT, request, url, API_KEY, OPERATION_ID.decode()]
    else:
        argv = [sys.executable, "-m", "statdash", "run", str(layout), "--url", url]
        argv += ["--updates", subject.mode]
    process = PtyProcess(
        argv,
        env=env | {"PYTHONPATH": subject.directory},
        size=SIZE,
        cwd=Path(subject.directory),
    ).start()
    try:
        seconds = process.wait_for_data(timeout=60)
        alive = process.alive()
        cpu = process.cpu_seconds() if alive else float("nan")
        peak_mb = process.memory_kib()[1] / 1024 if alive else float("nan")
    finally:
        status = process.stop()
    if seconds is None:
        raise SystemExit(f"{subject.label} {subject.mode}: no data on screen within 60 s")
    if status != 0:
        raise SystemExit(f"{subject.label} {subject.mode}: exit status {status} after SIGTERM")
    subject.seconds.append(seconds)
    subject.cpu.append(cpu)
    subject.peak_mb.append(peak_mb)


def write_request(layout: Path) -> Path:
    """The subscribe request of `layout` (with OPERATION_ID to replace) beside it, as JSON."""
    from statdash.commands.common import load_compiled

    items = [
        item.model_dump(by_alias=True, exclude_none=True, mode="json")
        for item in load_compiled(layout).items
    ]
    body = {"operationId": OPERATION_ID.decode(), "data": {"statistics": items}}
    path = layout.with_suffix(".json")
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def check_code(subject: Subject, env: dict[str, str]) -> None:
    """Stop unless a child started as `start_once` starts it imports statdash from the
    subject's directory (a "before" that ran this checkout would compare it with itself)."""
    done = subprocess.run(
        [sys.executable, "-c", "import statdash; print(statdash.__file__)"],
        env=env | {"PYTHONPATH": subject.directory},
        cwd=subject.directory,
        capture_output=True,
        text=True,
        check=True,
    )
    found = Path(done.stdout.strip()).resolve()
    if not found.is_relative_to(Path(subject.directory).resolve()):
        raise SystemExit(f"{subject.label}: statdash came from {found}, not {subject.directory}")


def table(subjects: list[Subject]) -> str:
    """The Markdown table: median, min and max of the first frame, median CPU by then."""
    lines = [
        "| code | updates | first frame median | min | max | CPU by then (median)"
        " | peak RSS by then (median) | runs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for subject in subjects:
        lines.append(
            f"| {subject.label} | {subject.mode} | {statistics.median(subject.seconds):.2f} s "
            f"| {min(subject.seconds):.2f} s | {max(subject.seconds):.2f} s "
            f"| {statistics.median(subject.cpu):.2f} s "
            f"| {statistics.median(subject.peak_mb):.0f} MB | {len(subject.seconds)} |"
        )
    return "\n".join(lines)


def verdicts(subjects: list[Subject]) -> list[str]:
    """One line per subject: its median against the 0.8 s target."""
    lines = []
    for subject in subjects:
        median = statistics.median(subject.seconds)
        met = "met" if median <= TARGET_SECONDS else "MISSED"
        lines.append(
            f"{subject.label}, {subject.mode}: median {median:.2f} s, "
            f"target <= {TARGET_SECONDS} s: {met}"
        )
    return lines


def load() -> str:
    """The load average (1, 5, 15 minutes)."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str]) -> None:
    """`perf.py first-frame`: every checkout under push and poll, round-robin; the table."""
    parser = argparse.ArgumentParser(
        prog="perf.py first-frame", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"starts of each (default {RUNS})")
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="a checkout whose statdash to start (repeat for before and after)",
    )
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    checkouts = [entry.split("=", 1) for entry in options.code] or [["this code", str(ROOT)]]
    subjects = [Subject(label, directory, mode) for label, directory in checkouts for mode in MODES]
    subjects.append(Subject("floor", str(ROOT), FLOOR_MODE))
    with tempfile.TemporaryDirectory(prefix="first-frame-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        # As an installed package starts (pip writes the bytecode at install): the warm-up
        # start writes what a PYTHONDONTWRITEBYTECODE environment would recompile each time.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        layout = write_floor(work / "layout", FLOOR_AGENTS, FLOOR_QUEUES).path
        write_request(layout)
        before = load()
        with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as sim:
            for subject in subjects:
                check_code(subject, env)
                start_once(subject, layout, sim.base_url, env)  # warm-up, not counted
                subject.seconds.clear()
                subject.cpu.clear()
            for run in range(options.runs):
                for subject in subjects:
                    time.sleep(PAUSE_SECONDS)
                    start_once(subject, layout, sim.base_url, env)
                print(f"[first-frame] round {run + 1}/{options.runs} done", file=sys.stderr)
    print(
        f"first frame with data, floor.yaml (2,000 agents, 1 s refresh), 200x50, "
        f"{options.runs} starts of each, round-robin; load average before: {before}, "
        f"after: {load()}"
    )
    print(table(subjects))
    for line in verdicts(subjects):
        print(line)
