"""Push against poll, side by side: the dashboard's CPU, the server's load, stalls, first frame.

    python benchmarks/push_vs_poll.py                # 2 rounds of 60 s per mode
    python benchmarks/push_vs_poll.py --rounds 3 --window 60 --output docs/performance.md
    python benchmarks/push_vs_poll.py decode [--items 1200] [--runs 200]  # reading one batch
    python benchmarks/push_vs_poll.py sim [MINUTES]  # the simulator's CPU serving push

One simulator (`statdash sim`, 2,000 agents, 50 queues: `layouts/floor.yaml`'s floor) runs in
its own process for the whole run. Each round starts the dashboard once with `--updates push`
and once with `--updates poll`, in alternating order, on a pty (`benchkit/dash_worker.py`:
`statdash run` plus a loop-lag probe and a count of the HTTP body bytes it receives), with
floor.yaml at a 1 s refresh (as `perf.py`'s steady run; the shipped file says 5 s). For each
start it records:
- first frame: seconds from process start until values are on screen;
- steady CPU: the dashboard process's share of one core over the window, after a settle;
- server load: REST peeks and notification requests during the window, from the
  simulator's own request counters (`GET /simulator/state`), per minute;
- bytes: response body bytes the dashboard received during the window, per minute;
- stalls: the longest event-loop stall in the window (the probe's latest wake-up).
With `--paused` each round also starts a push dashboard and presses `p` before the window:
the channel stays open and the screen keeps ticking, but no value is applied. Its CPU is
what the dashboard costs with nothing changing (the once-a-second tick that ages time in
state, the status line, the open channel): the bound under push's own figure.
Timings vary from run to run: every figure is given per round, and the median across rounds.
Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from benchkit import push_decode, sim_push
from benchkit.compile_memory import with_section
from benchkit.cycle import SCREEN
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.ptyproc import PtyProcess
from benchkit.report import PUSH_SECTION_HEADING, machine
from benchkit.simproc import SimProcess, child_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODES = ("push", "poll")
PAUSED = "paused"


@dataclass(slots=True)
class Sample:
    """One dashboard start in one mode."""

    mode: str
    first_frame: float
    cpu_percent: float
    peeks_per_minute: float
    notification_requests_per_minute: float
    bytes_per_minute: float
    longest_stall_ms: float
    stalls_over_33ms: float
    sim_cpu_percent: float


@dataclass(slots=True)
class Results:
    """Every sample of the run, by mode."""

    samples: list[Sample] = field(default_factory=list)

    def of(self, mode: str) -> list[Sample]:
        """The samples of one mode, in run order."""
        return [sample for sample in self.samples if sample.mode == mode]


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[push_vs_poll {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _requests(admin: httpx.Client) -> dict[str, int]:
    state = admin.get("/simulator/state").json()
    counts = state.get("requests", {})
    return {str(name): int(count) for name, count in counts.items()}


def _probe(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def measure(
    mode: str, sim: SimProcess, layout: Path, env: dict[str, str], work: Path, *, window: float
) -> Sample:
    """Start the dashboard in `mode`, wait, measure over `window` seconds, stop it."""
    probe = work / f"probe-{mode}.json"
    probe.unlink(missing_ok=True)
    argv = [
        sys.executable,
        str(HERE / "benchkit" / "dash_worker.py"),
        str(layout),
        sim.base_url,
        str(probe),
        "--updates",
        "push" if mode == PAUSED else mode,
    ]
    process = PtyProcess(argv, env=env, size=SCREEN).start()
    try:
        first = process.wait_for_data(timeout=120)
        if first is None:
            raise RuntimeError(f"{mode}: no data on screen within 120 s")
        # Settle: the first frame's parse and the heap settling are not steady state.
        time.sleep(10.0)
        if mode == PAUSED:
            process.send(b"p")
            time.sleep(2.0)
        with httpx.Client(base_url=sim.base_url, trust_env=False, timeout=30) as admin:
            requests_before = _requests(admin)
            bytes_before = int(_probe(probe)["received"])  # type: ignore[call-overload]
            cpu_before, sim_before, started = (
                process.cpu_seconds(),
                sim.cpu_seconds(),
                time.monotonic(),
            )
            time.sleep(window)
            spent = process.cpu_seconds() - cpu_before
            sim_spent = sim.cpu_seconds() - sim_before
            elapsed = time.monotonic() - started
            requests_after = _requests(admin)
        # The probe writes once a second: wait for a write after the window closed.
        time.sleep(1.5)
        data = _probe(probe)
        bytes_after = int(data["received"])  # type: ignore[call-overload]
        ended = started + elapsed
        lags = [
            float(lag)
            for at, lag, _cpu in data["late"]  # type: ignore[attr-defined]
            if started <= float(at) <= ended
        ]
    finally:
        process.stop()
    minutes = elapsed / 60
    peeks = requests_after.get("peek", 0) - requests_before.get("peek", 0)
    notifications = requests_after.get("notifications", 0) - requests_before.get("notifications", 0)
    return Sample(
        mode=mode,
        first_frame=first,
        cpu_percent=100 * spent / elapsed,
        peeks_per_minute=peeks / minutes,
        notification_requests_per_minute=notifications / minutes,
        bytes_per_minute=(bytes_after - bytes_before) / minutes,
        longest_stall_ms=1000 * max(lags, default=0.0),
        stalls_over_33ms=float(sum(lag > 0.033 for lag in lags)),
        sim_cpu_percent=100 * sim_spent / elapsed,
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _row(name: str, values: Sequence[float], fmt: str) -> str:
    each = ", ".join(format(value, fmt) for value in values)
    return f"{format(_median(values), fmt)} ({each})"


def report(results: Results, *, command: str, window: float, seconds: float) -> str:
    """The markdown report: a table per mode, the targets, and what bounds a miss."""
    push, poll, paused = results.of("push"), results.of("poll"), results.of(PAUSED)
    push_cpu = _median([s.cpu_percent for s in push])
    poll_cpu = _median([s.cpu_percent for s in poll])
    push_bytes = _median([s.bytes_per_minute for s in push])
    poll_bytes = _median([s.bytes_per_minute for s in poll])
    push_peeks = _median([s.peeks_per_minute for s in push])
    push_stall = _median([s.longest_stall_ms for s in push])
    first = _median([s.first_frame for s in push + poll])
    worst_first = max((s.first_frame for s in push + poll), default=float("nan"))

    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    info = machine()
    lines = [
        PUSH_SECTION_HEADING,
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d')} ({seconds / 60:.0f} min).",
        f"Machine: {info['CPU']}, {info['cores']} cores, load at start"
        f" {info['load at start (1, 5, 15 min)']}; Python {info['Python']}, Textual"
        f" {info['Textual']}; code {info['code']}. floor.yaml (2,000 agents, 50 queues,"
        " 10,380 statistics)"
        f" at a 1 s refresh against `statdash sim` in another process; {len(push)} round(s) of"
        f" {window:.0f} s per mode, modes alternating. Median first, each round in brackets.",
        "",
        "| measure | push | poll |",
        "|---|---|---|",
        f"| steady CPU, % of one core | {_row('', [s.cpu_percent for s in push], '.1f')}"
        f" | {_row('', [s.cpu_percent for s in poll], '.1f')} |",
        f"| REST peeks per minute | {_row('', [s.peeks_per_minute for s in push], '.1f')}"
        f" | {_row('', [s.peeks_per_minute for s in poll], '.1f')} |",
        "| notification requests per minute"
        f" | {_row('', [s.notification_requests_per_minute for s in push], '.1f')}"
        f" | {_row('', [s.notification_requests_per_minute for s in poll], '.1f')} |",
        f"| KB received per minute | {_row('', [s.bytes_per_minute / 1000 for s in push], '.0f')}"
        f" | {_row('', [s.bytes_per_minute / 1000 for s in poll], '.0f')} |",
        f"| longest stall, ms | {_row('', [s.longest_stall_ms for s in push], '.0f')}"
        f" | {_row('', [s.longest_stall_ms for s in poll], '.0f')} |",
        f"| stalls over 33 ms in the window | {_row('', [s.stalls_over_33ms for s in push], '.0f')}"
        f" | {_row('', [s.stalls_over_33ms for s in poll], '.0f')} |",
        f"| first frame with data, s | {_row('', [s.first_frame for s in push], '.2f')}"
        f" | {_row('', [s.first_frame for s in poll], '.2f')} |",
        f"| simulator CPU, % of one core | {_row('', [s.sim_cpu_percent for s in push], '.1f')}"
        f" | {_row('', [s.sim_cpu_percent for s in poll], '.1f')} |",
        "",
    ]
    if paused:
        lines += [
            "A push dashboard paused (`p`: the channel open, nothing applied, the screen"
            " ticking) took"
            f" {_row('', [s.cpu_percent for s in paused], '.1f')} % of one core: what this"
            " screen costs with nothing changing, which bounds push's figure from below.",
            "",
        ]
    lines += [
        "| target | measured | |",
        "|---|---|---|",
        f"| push CPU ≤ 3% of one core | {push_cpu:.1f}% | {verdict(push_cpu <= 3)} |",
        f"| push CPU ≤ half of poll's | {push_cpu:.1f}% against {poll_cpu:.1f}%"
        f" ({push_cpu / poll_cpu:.0%}) | {verdict(push_cpu <= poll_cpu / 2)} |",
        f"| moonshot: push CPU ≤ 1.5% | {push_cpu:.1f}% | {verdict(push_cpu <= 1.5)} |",
        f"| REST peeks per minute under push ≤ 1 | {push_peeks:.1f} | {verdict(push_peeks <= 1)} |",
        f"| bytes under push ≤ 25% of poll's | {push_bytes / 1000:.0f} KB against"
        f" {poll_bytes / 1000:.0f} KB a minute ({push_bytes / poll_bytes:.0%})"
        f" | {verdict(push_bytes <= poll_bytes / 4)} |",
        f"| longest stall under push ≤ 33 ms | {push_stall:.0f} ms | {verdict(push_stall <= 33)} |",
        f"| first frame ≤ 1.0 s (push or poll) | median {first:.2f} s, worst {worst_first:.2f} s"
        f" | {verdict(worst_first <= 1.0)} |",
        "",
    ]
    return "\n".join(lines)


def compare(argv: Sequence[str]) -> None:
    """Push against poll: the rounds, the report printed (and written with `--output`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2, help="starts per mode (default 2)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured per start")
    parser.add_argument(
        "--output",
        type=Path,
        help="also write the report as the push-against-poll section of this file"
        " (docs/performance.md: that section is replaced, the rest kept)",
    )
    parser.add_argument(
        "--paused", action="store_true", help="also measure a paused push dashboard per round"
    )
    options = parser.parse_args(argv)
    command = "benchmarks/push_vs_poll.py " + " ".join(argv)
    began = time.monotonic()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="statdash-push-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        layout = write_floor(work / "floor", FLOOR_AGENTS, FLOOR_QUEUES).path
        with SimProcess(FLOOR_AGENTS, FLOOR_QUEUES, env=env) as sim:
            for round_number in range(options.rounds):
                order: tuple[str, ...] = MODES if round_number % 2 == 0 else MODES[::-1]
                if options.paused:
                    order = (*order, PAUSED)
                for mode in order:
                    sample = measure(mode, sim, layout, env, work, window=options.window)
                    log(f"round {round_number + 1} {mode}: {sample}")
                    results.samples.append(sample)
    text = report(
        results, command=command.strip(), window=options.window, seconds=time.monotonic() - began
    )
    print(text)
    if options.output is not None:
        old = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
        options.output.write_text(with_section(old, text), encoding="utf-8")


QUESTIONS: dict[str, Callable[[list[str]], None]] = {
    "decode": push_decode.main,
    "sim": sim_push.main,
}


def main(argv: list[str]) -> None:
    """`push_vs_poll.py QUESTION ...` answers that question; anything else is the comparison's."""
    if argv and argv[0] in QUESTIONS:
        QUESTIONS[argv[0]](argv[1:])
    else:
        compare(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
