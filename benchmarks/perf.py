"""statdash's performance benchmark: how fast is statdash? One entry point, one question each.

    python benchmarks/perf.py                  # the report: writes docs/performance.md (~12 min)
    python benchmarks/perf.py --quick          # the same with shorter windows (under 3 min)
    python benchmarks/perf.py cycle [--runs 3] [--quick]     # cycle/floor at floor.yaml's size
    python benchmarks/perf.py levers [--runs 3] [--quick]    # the lever table alone, repeated
    python benchmarks/perf.py profile [--timings] [--cycles N]  # cProfile of the poll cycle
    python benchmarks/perf.py parse [COUNT [REPEATS]]        # a 50,000-statistic peek's parse
    python benchmarks/perf.py table [--runs N] [--rows 2000,50000]  # LiveTable's operations
    python benchmarks/perf.py sim-shift [REPEATS]            # the simulator's 8-hour shift
    python benchmarks/perf.py sim-stop [COUNT]               # the simulator's start and stop
    python benchmarks/perf.py compile-memory [AGENTS ...]    # peak memory of `check`, N agents
    python benchmarks/perf.py startup [--runs N]             # each command's start-up time
    python benchmarks/perf.py screen-cost [--code LABEL=DIR ...]  # steady screen vs Textual floor
    python benchmarks/perf.py first-frame [--runs N] [--code LABEL=DIR ...]  # first data frame
    python benchmarks/perf.py memory [--seconds 120]          # 8-hour shift's RSS, with --record

Run from the checkout with the development install. The report (see benchkit/measure.py)
starts its own simulators and measures floor and cycle at three sizes, the levers, steady
state on a pty, stalls and memory; the other questions time one piece each and print their
figures. Push against poll is `benchmarks/push_vs_poll.py`; the soak, the recording cost and
the cost of a browser viewer have entry points of their own. Shared code is in benchkit/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchkit import (
    compile_memory,
    cycle_floor,
    first_frame,
    lever_runs,
    live_table,
    peek_parse,
    profiling,
    screen_cost,
    shift_memory,
    sim_shift,
    sim_stop,
    startup,
)
from benchkit.layouts import FLOOR_AGENTS, FLOOR_QUEUES, write_floor
from benchkit.measure import (
    FULL,
    QUICK,
    ROOT,
    log,
    measure_levers,
    measure_sizes,
    memory_run,
    steady_run,
)
from benchkit.report import Report, write_report
from benchkit.simproc import child_env

QUESTIONS: dict[str, Callable[[list[str]], None]] = {
    "cycle": cycle_floor.main,
    "levers": lever_runs.main,
    "profile": profiling.main,
    "parse": peek_parse.main,
    "table": live_table.main,
    "sim-shift": sim_shift.main,
    "sim-stop": sim_stop.main,
    "compile-memory": compile_memory.main,
    "startup": startup.main,
    "screen-cost": screen_cost.main,
    "first-frame": first_frame.main,
    "memory": shift_memory.main,
}


def report(argv: list[str]) -> None:
    """The full report: measure everything, print the table, write docs/performance.md."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"other questions: {', '.join(QUESTIONS)} (see the module docstring)",
    )
    parser.add_argument("--quick", action="store_true", help="shorter windows (under 3 min)")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "docs" / "performance.md", help="where to write"
    )
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else FULL
    command = "benchmarks/perf.py" + (" --quick" if options.quick else "")
    began = time.monotonic()
    run = Report.begin(command)
    with tempfile.TemporaryDirectory(prefix="statdash-perf-") as temporary:
        work = Path(temporary)
        env = child_env(work)
        sizes = asyncio.run(measure_sizes(plan, work, env))
        levers, floor_off, floor_info = asyncio.run(measure_levers(plan, work, env))
        layout = write_floor(work / "steady", FLOOR_AGENTS, FLOOR_QUEUES).path
        probe = work / "probe.json"
        log("steady state: statdash run, floor.yaml at 1 s")
        product = steady_run(plan, layout, env, label="statdash run", startups=plan.startups)
        log("stalls: the same with a loop-lag probe")
        stalls = steady_run(plan, layout, env, label="with probe", probe=probe)
        log("memory over an 8-hour shift of simulated time, without and with --record")
        memory = [
            memory_run(plan, layout, env),
            memory_run(plan, layout, env, record=work / "shift.sqlite"),
        ]
    run.finish(
        sizes=sizes,
        levers=levers,
        floor_off=floor_off,
        floor_info=floor_info,
        product=product,
        stalls=stalls,
        memory=memory,
        seconds=time.monotonic() - began,
    )
    write_report(run, options.output)
    print(run.table())
    log(f"wrote {options.output} in {time.monotonic() - began:.0f} s")


def main(argv: list[str]) -> None:
    """`perf.py QUESTION ...` answers that question; anything else is the report's options."""
    if argv and argv[0] in QUESTIONS:
        QUESTIONS[argv[0]](argv[1:])
    else:
        report(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
