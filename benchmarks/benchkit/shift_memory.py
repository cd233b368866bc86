"""Peak memory of an 8-hour floor.yaml shift, without and with `--record`, side by side.

    python benchmarks/perf.py memory [--seconds 120] [--quick] [--only plain|record]

The memory run of the full report (`measure.memory_run`), alone: `statdash run` with
floor.yaml at a 1 s refresh on a pty, against a simulator whose clock runs fast enough that
`--seconds` of real time cover 8 hours of floor; once as it is and once with
`--record FILE` (a new file in a temporary directory), one after the other in one run.
Prints each run's RSS line (resident memory over the run, peak VmHWM, the trend) and, for
the recording, its size, changes and keyframes. Issue 23's target: peak RSS with `--record`
at most 150 MB.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.measure import FULL, QUICK, log, memory_run
from benchkit.report import TARGET_RSS_RECORD_MB, memory_line
from benchkit.simproc import child_env


def main(argv: list[str]) -> None:
    """Run the shift without and with `--record` and print the figures."""
    parser = argparse.ArgumentParser(
        prog="perf.py memory", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a 20 s shift instead of 120 s")
    parser.add_argument("--seconds", type=float, help="real seconds the 8-hour shift takes")
    parser.add_argument(
        "--only",
        choices=("plain", "record"),
        help="run only the shift without (plain) or with --record (a long run costs half)",
    )
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else FULL
    if options.seconds is not None:
        plan = replace(plan, memory_seconds=options.seconds)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="statdash-memory-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        layout = write_floor(work / "layout", FLOOR_AGENTS, FLOOR_QUEUES).path
        runs = []
        if options.only != "record":
            log("memory over an 8-hour shift of simulated time")
            runs.append(memory_run(plan, layout, env))
        if options.only != "plain":
            log("the same with --record")
            runs.append(memory_run(plan, layout, env, record=work / "shift.sqlite"))
    load_after = os.getloadavg()
    print(
        f"memory, {started}, 8 simulated hours in {plan.memory_seconds:g} s, floor.yaml at 1 s; "
        f"load average before {', '.join(f'{v:.2f}' for v in load_before)}, "
        f"after {', '.join(f'{v:.2f}' for v in load_after)}"
    )
    for run in runs:
        print(f"- {memory_line(run)}")
    for run in runs:
        if run.recorded_bytes is not None:
            met = "met" if run.peak_rss_mb <= TARGET_RSS_RECORD_MB else "MISSED"
            print(
                f"peak RSS with --record {run.peak_rss_mb:.0f} MB,"
                f" target <= {TARGET_RSS_RECORD_MB:g} MB: {met}"
            )
