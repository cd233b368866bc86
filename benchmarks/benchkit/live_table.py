"""Times LiveTable's operations in a headless app: 2,000 and 50,000 rows by 8 columns.

Run: `python benchmarks/perf.py table [--runs N] [--rows 2000,50000]`.
Each figure is the median of N runs with `time.perf_counter`. "call" is the time the method
itself holds the event loop; "+refresh" runs on through the next screen refresh
(`await pilot.pause()`), which is what a supervisor feels; "+refresh cpu" is the process's
CPU time over that same span, the steadier figure on a shared machine (other processes
lengthen wall time, not CPU time). Cells are built before timing: building them is the
caller's cost, not the table's. A DataTable doing the same full update is timed for
reference at the smaller size. "clocks of the rows on screen" is what the once-a-second
tick gives the table (a new time cell in every visible row), plain and dimmed (paused).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from statdash.text import safe
from statdash.ui.widgets.live_table import Cell, LiveTable, TableColumn

SIZE = (160, 50)
COLUMNS = (
    TableColumn("name", "Agent", 18),
    TableColumn("state", "State", 12, priority=1),
    TableColumn("reason", "Reason", 14, priority=5),
    TableColumn("time", "In state", 9, priority=2, align="right"),
    TableColumn("calls", "Calls", 6, priority=3, align="right"),
    TableColumn("aht", "AHT", 8, priority=4, align="right"),
    TableColumn("occ", "Occ %", 7, priority=6, align="right"),
    TableColumn("queue", "Queue", 12, priority=7),
)
STATES = ("Ready", "Not ready", "Inbound", "After call", "On hold")
Rows = dict[str, dict[str, Cell]]


def make_rows(count: int, variant: int) -> Rows:
    """Rows a0.. with every cell; a different `variant` changes every value."""
    rows: Rows = {}
    for index in range(count):
        seed = index * 7 + variant * 13
        state = STATES[seed % 5]
        rows[f"a{index}"] = {
            "name": Cell(safe(f"Agent {index:05d}"), f"Agent {index:05d}"),
            "state": Cell(safe(state, "green"), state),
            "reason": Cell(safe("Break" if seed % 3 else ""), "Break" if seed % 3 else None),
            "time": Cell(safe(f"0:{seed % 60:02d}:{seed % 59:02d}"), seed % 3600),
            "calls": Cell(safe(str(seed % 40)), seed % 40),
            "aht": Cell(safe(f"{seed % 9}:{seed % 60:02d}"), seed % 600),
            "occ": Cell(safe(f"{seed % 100:.1f}%", "red" if seed % 100 > 90 else ""), seed % 100),
            "queue": Cell(safe(f"Q{seed % 12}"), f"Q{seed % 12}"),
        }
    return rows


def every_fifth_cell(rows: Rows, offset: int) -> Rows:
    """20% of the cells, spread so that every row has a changed cell (every line repaints)."""
    changes: Rows = {}
    for row_index, (key, cells) in enumerate(rows.items()):
        picked = {
            column: cell
            for column_index, (column, cell) in enumerate(cells.items())
            if (row_index * len(cells) + column_index + offset) % 5 == 0
        }
        if picked:
            changes[key] = picked
    return changes


class BenchApp(App[None]):
    """Just the table, full screen."""

    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS)


class DataTableApp(App[None]):
    """Textual's DataTable with the same data, for reference."""

    def compose(self) -> ComposeResult:
        yield DataTable[Text]()


Result = tuple[str, float, float, float]


async def timed(
    runs: int, act: Callable[[int], object], pilot: Pilot[None]
) -> tuple[float, float, float]:
    """Median seconds of (`act(run)`, `act(run)` plus the next refresh, the CPU time of the
    latter) over `runs` runs."""
    calls: list[float] = []
    totals: list[float] = []
    cpus: list[float] = []
    for run in range(runs):
        await pilot.pause()
        start, cpu = time.perf_counter(), time.process_time()
        act(run)
        middle = time.perf_counter()
        await pilot.pause()
        end = time.perf_counter()
        cpus.append(time.process_time() - cpu)
        calls.append(middle - start)
        totals.append(end - start)
    return statistics.median(calls), statistics.median(totals), statistics.median(cpus)


async def bench(row_count: int, runs: int) -> list[Result]:
    """Every LiveTable measurement for one table size."""
    app = BenchApp()
    results: list[Result] = []
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(LiveTable)
        variants = [make_rows(row_count, variant) for variant in range(2)]
        subsets = [every_fifth_cell(variants[variant], variant) for variant in range(2)]

        async def measure(name: str, act: Callable[[int], object]) -> None:
            results.append((name, *await timed(runs, act, pilot)))

        def render_screen(cold: bool) -> None:
            if cold:
                table.clear_render_cache()
            for y in range(table.size.height):
                table.render_line(y)

        await measure("(nothing: pilot.pause only)", lambda run: None)
        await measure("set_rows (all rows)", lambda run: table.set_rows(variants[run % 2]))
        await measure("update_cells 20% of cells", lambda run: table.update_cells(subsets[run % 2]))
        await measure(
            "update_cells 100% of cells", lambda run: table.update_cells(variants[run % 2])
        )
        table.sort_by("calls")
        await measure(
            "update 20%, sort column changed", lambda run: table.update_cells(subsets[run % 2])
        )
        await measure(
            "sort_by (alternating direction)",
            lambda run: table.sort_by("time", reverse=run % 2 == 1),
        )
        await measure(
            "set_filter (on / off)", lambda run: table.set_filter("" if run % 2 else "ready")
        )
        table.set_filter("")
        await measure("render one screen, cold cache", lambda run: render_screen(True))
        await measure("render one screen, warm cache", lambda run: render_screen(False))
        await measure("cursor down one row", lambda run: table.action_cursor_down())
        # What the once-a-second tick gives the table: a new time cell for every row on
        # screen (built here, before timing), the rest of each row unchanged.
        on_screen = table.screen_row_keys()
        clocks = [
            {key: {"time": Cell(safe(f"1:{second:02d}:00"), second)} for key in on_screen}
            for second in range(2)
        ]
        await measure(
            "clocks of the rows on screen", lambda run: table.update_cells(clocks[run % 2])
        )
        table.stale = True
        await measure(
            "the same, table dimmed (paused)", lambda run: table.update_cells(clocks[run % 2])
        )
        table.stale = False
    return results


async def bench_datatable(row_count: int, runs: int) -> list[Result]:
    """DataTable.update_cell on every cell, the figure the design notes start from."""
    app = DataTableApp()
    async with app.run_test(size=SIZE) as pilot:
        table: DataTable[Text] = app.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column.label, width=column.width, key=column.key)
        variants = [make_rows(row_count, variant) for variant in range(2)]
        for key, cells in variants[0].items():
            table.add_row(*(cell.text for cell in cells.values()), key=key)

        def update_all(run: int) -> None:
            for key, cells in variants[(run + 1) % 2].items():
                for column, cell in cells.items():
                    table.update_cell(key, column, cell.text)

        return [("DataTable update_cell, 100%", *await timed(runs, update_all, pilot))]


def main(argv: Sequence[str]) -> None:
    """`perf.py table`: the LiveTable timings, printed."""
    asyncio.run(_main(argv))


async def _main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", default="2000,50000")
    parser.add_argument(
        "--datatable-max", type=int, default=2000, help="also time DataTable up to this many rows"
    )
    options = parser.parse_args(argv)
    print(
        f"LiveTable, {len(COLUMNS)} columns, screen {SIZE[0]}x{SIZE[1]}, median of {options.runs}"
    )
    print("call: the method alone; +refresh: through the next `await pilot.pause()`;")
    print("refresh: +refresh minus the bare pause (pilot overhead), i.e. roughly the paint.")
    for row_count in (int(part) for part in options.rows.split(",")):
        results = await bench(row_count, options.runs)
        if row_count <= options.datatable_max:
            results += await bench_datatable(row_count, options.runs)
        baseline = results[0][2]
        print(f"\n{row_count:,} rows{'':24}  call ms  +refresh ms  refresh ms  +refresh cpu ms")
        for name, call, total, cpu in results:
            print(
                f"  {name:<32} {call * 1000:8.1f} {total * 1000:12.1f}"
                f" {max(0.0, total - baseline - call) * 1000:11.1f} {cpu * 1000:15.1f}"
            )
