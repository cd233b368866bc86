"""The levers `perf.py` measures one by one: the code before them, and lever prototypes.

Levers already in the code are measured against the code before them: the modules of
`BASELINE_COMMIT` (the last commit before this work), read with `git show` and swapped in
for the current ones. Levers that need files other owners keep (the app, the panels, the
client, the session) are LEVER PROTOTYPES: monkeypatches that exist only in this benchmark,
each written as the patch the code would get. None of this is imported by statdash itself.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from statdash.api import client as client_module
from statdash.api import responses
from statdash.api.models import Verbose
from statdash.api.responses import PeekResult
from statdash.live import controller as controller_module
from statdash.ui import app as app_module
from statdash.ui import panels as panels_module
from statdash.ui.panels import TablePanel

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "0f6121e"
"""The last commit before the performance work: what "before" means in docs/performance.md."""

OFF_LOOP_BYTES = 1 << 20
"""Prototype: peeks at least this large are parsed in a worker thread."""

GC_GEN0_THRESHOLD = 20_000
"""Prototype: young collections every 20,000 allocations instead of 700."""


Patch = Callable[[ExitStack], None]


def _patch(stack: ExitStack, owner: Any, name: str, value: Any) -> None:
    original = getattr(owner, name)
    setattr(owner, name, value)
    stack.callback(setattr, owner, name, original)


# --- The code before the levers ----------------------------------------------------------


def baseline_module(path: str) -> ModuleType | None:
    """The module at `path` as of BASELINE_COMMIT, or None without git or that commit."""
    name = "perf_baseline_" + path.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:{path}"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    module = ModuleType(name)
    module.__file__ = f"{BASELINE_COMMIT}:{path}"
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def baseline_available() -> bool:
    """True when the baseline modules can be read."""
    return all(
        baseline_module(path) is not None
        for path in (
            "statdash/api/responses.py",
            "statdash/live/store.py",
            "statdash/ui/widgets/live_table.py",
        )
    )


def old_parsing(stack: ExitStack) -> None:
    """Before: a pydantic model for every statistic of every poll."""
    old = baseline_module("statdash/api/responses.py")
    assert old is not None
    _patch(stack, client_module, "responses", old)


def old_store(stack: ExitStack) -> None:
    """Before: every value parsed and compared on every poll."""
    old = baseline_module("statdash/live/store.py")
    assert old is not None
    _patch(stack, controller_module, "Store", old.Store)


def old_table(stack: ExitStack) -> None:
    """Before: every repainted row re-rendered all its cells, through four Strips."""
    old = baseline_module("statdash/ui/widgets/live_table.py")
    assert old is not None
    _patch(stack, panels_module, "LiveTable", old.LiveTable)


def title_always(stack: ExitStack) -> None:
    """Before (panels.py until c9ab3c7): the border title was set on every redraw.

    Textual repaints the whole panel (every line of the table, its scrollbar) on any title
    assignment, even an equal one.
    """

    def update_counts(self: TablePanel) -> None:
        total = self.table.row_count
        shown = self.table.filtered_count
        title = self._base_title.copy()
        title.append(f" {shown}/{total}" if self.table.filter_text else f" {total}")
        self.border_title = title

    _patch(stack, TablePanel, "_update_counts", update_counts)


def all_pages(stack: ExitStack) -> None:
    """Before (app.py until c9ab3c7): every page's panels redrew on every change."""

    def redraw(self: app_module.StatdashApp, changed: frozenset[str] | None) -> None:
        view = self._view()
        with self.batch_update():
            for panel in self._panels():
                panel.redraw(view, changed)

    _patch(stack, app_module.StatdashApp, "_redraw", redraw)


# --- Lever prototypes (patches for files this work does not own) --------------------------


def verbose_info(stack: ExitStack) -> None:
    """The lever reversed: poll with verbose=INFO (names travel with every value)."""
    original = client_module.StatisticsClient.peek_subscription

    async def peek(
        self: client_module.StatisticsClient,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult:
        return await original(self, subscription_id, statistic_ids=statistic_ids, verbose="INFO")

    _patch(stack, client_module.StatisticsClient, "peek_subscription", peek)


def lazy_cells(stack: ExitStack) -> None:
    """Lazy table cells: built when drawn, sorted or filtered. Now in `ui/panels.py` itself.

    This was a prototype (a monkeypatch) until the panels took it over; it is kept as a no-op
    step so the lever table keeps its row. Its measured effect as a prototype is in the
    docs/performance.md run that predates the change.
    """


def gc_tuning(stack: ExitStack) -> None:
    """LEVER PROTOTYPE (app.py): after the first data frame, freeze the heap and batch GC.

    `gc.freeze()` moves everything alive then (Textual, the layout, the first values) out of
    the collector's sight, so full collections stop rescanning ~250,000 objects that live
    for the whole run; a larger young threshold (20,000 allocations) lets most of a poll's
    garbage die before it is ever scanned. Cyclic garbage is still collected.
    """
    original = app_module.StatdashApp._store_changed
    old_threshold = gc.get_threshold()

    def store_changed(self: app_module.StatdashApp) -> None:
        original(self)
        if not getattr(self, "_gc_tuned", False):
            self._gc_tuned = True  # type: ignore[attr-defined]

            def tune() -> None:
                # No gc.collect() first: on a big heap it would stall the loop ~100 ms. What
                # cyclic garbage exists at this moment is kept (once; it cannot grow).
                gc.freeze()
                gc.set_threshold(GC_GEN0_THRESHOLD, *old_threshold[1:])

            self.call_after_refresh(tune)

    _patch(stack, app_module.StatdashApp, "_store_changed", store_changed)
    stack.callback(gc.unfreeze)
    stack.callback(gc.set_threshold, *old_threshold)


def parse_off_loop(stack: ExitStack) -> None:
    """LEVER PROTOTYPE (client.py): parse peeks of 1 MiB and more in a worker thread."""

    async def peek(
        self: client_module.StatisticsClient,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult:
        client_module._check_verbose(verbose)
        params: dict[str, str] = {"verbose": verbose}
        if statistic_ids is not None:
            params["statisticIds"] = client_module._joined_ids(statistic_ids)
        path = (
            f"/subscriptions/{client_module._segment(subscription_id, 'subscription_id')}"
            "/statistic-values"
        )
        response = await self._call("GET", path, params=params)
        where = client_module.API_PATH + path
        if len(response.content) >= OFF_LOOP_BYTES:
            return await asyncio.to_thread(
                responses.parse_peek, response.content, where=where, scrub=self._auth.redact
            )
        return responses.parse_peek(response.content, where=where, scrub=self._auth.redact)

    _patch(stack, client_module.StatisticsClient, "peek_subscription", peek)


@dataclass(frozen=True, slots=True)
class Lever:
    """One step of the lever table: its name, where it lives, and how to get there."""

    name: str
    where: str
    patches: tuple[Patch, ...]
    prototype: bool = False

    @property
    def proposed(self) -> bool:
        """True for the steps that are the code or a proposed patch."""
        return not any(patch in MEASURED_ONLY for patch in self.patches)


PROTOTYPES: tuple[Patch, ...] = (lazy_cells, gc_tuning)
"""The proposed patches, applied together to the "with the proposed patches" runs."""

MEASURED_ONLY: tuple[Patch, ...] = (parse_off_loop,)
"""Prototypes measured on top of the proposed ones but not proposed (see the lever table)."""


def needs_baseline(step: Lever) -> bool:
    """True when the step swaps in code of BASELINE_COMMIT."""
    return any(patch in (old_parsing, old_store, old_table) for patch in step.patches)


def lever_steps() -> list[Lever]:
    """Cumulative steps from the baseline, through the code as it is, to every prototype."""
    before_ui = (title_always, all_pages)
    steps = [
        Lever(
            f"before (commit {BASELINE_COMMIT})", "-",
            (old_parsing, old_store, old_table, *before_ui),
        ),
        Lever("+ lean peek parsing, lazy models", "api/responses.py",
              (old_store, old_table, *before_ui)),
        Lever("+ store compares before it parses", "live/store.py, api/values.py",
              (old_table, *before_ui)),
        Lever("+ table re-renders changed cells only", "ui/widgets/live_table.py", before_ui),
        Lever("+ border title set only on change", "ui/panels.py (c9ab3c7)", (all_pages,)),
        Lever("+ hidden pages redraw when shown", "ui/app.py (c9ab3c7)", ()),
    ]  # fmt: skip
    applied: list[Patch] = []
    names: dict[Patch, tuple[str, str]] = {
        lazy_cells: ("+ lazy cells (built when drawn; now in code)", "ui/panels.py"),
        gc_tuning: ("+ gc.freeze after start, young GC 20k", "ui/app.py"),
        parse_off_loop: ("+ big peeks parsed off the loop", "api/client.py"),
    }
    for patch in PROTOTYPES:
        applied.append(patch)
        name, where = names[patch]
        steps.append(Lever(name, where, tuple(applied), prototype=True))
    for patch in MEASURED_ONLY:
        name, where = names[patch]
        steps.append(
            Lever(f"{name} (not proposed)", where, (*applied, patch), prototype=True)
        )
    return steps


@contextmanager
def applied(patches: Sequence[Patch]) -> Iterator[None]:
    """Apply patches for the duration of a `with` block."""
    with ExitStack() as stack:
        for patch in patches:
            patch(stack)
        yield


def apply_for_process(patches: Sequence[Patch]) -> None:
    """Apply patches for the rest of this process (the dashboard process of a run)."""
    stack = ExitStack()
    for patch in patches:
        patch(stack)
    stack.pop_all()
