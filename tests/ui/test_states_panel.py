"""The state summary panel: counts kept up to date incrementally equal a full recount."""

from __future__ import annotations

import random
from collections import Counter

from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES

from statdash.api.values import AgentStateValue
from statdash.layout.compile import RowObject, StatesWidget
from statdash.layout.formats import state_style
from statdash.layout.problems import SourceLocation
from statdash.live.store import Store
from statdash.ui.panels import StatesPanel, View

STATUSES = ["WaitForNextCall", "CallInbound", "AfterCallWork", "NotReadyForNextCall", "Odd"]


def full_count(store: Store, spec: StatesWidget) -> dict[str, int]:
    """The reference: every listed agent counted under its current status."""
    counts: Counter[str] = Counter()
    for _, stat_id in spec.agents:
        value = store.get(stat_id)
        if isinstance(value, AgentStateValue):
            counts[value.status] += 1
    return dict(counts)


class Host(App[None]):
    def __init__(self, panel: StatesPanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


async def test_incremental_counts_equal_a_full_recount() -> None:
    """Over random polls (agents changing state, losing it, listed twice) counts stay exact."""
    rng = random.Random(7)
    agents = [RowObject(f"agent{i}", "Agent", f"Agent {i}") for i in range(60)]
    listed = [(agent, f"s{i}") for i, agent in enumerate(agents)]
    listed.append(listed[3])  # the same agent twice in a layout's list
    where = SourceLocation("floor.yaml", 1, 1)
    spec = StatesWidget(title="States", span=1, height=None, location=where, agents=tuple(listed))
    store = Store()
    panel = StatesPanel(spec)

    def view() -> View:
        return View(
            store=store,
            wall_now=0.0,
            theme=BUILTIN_THEMES["textual-dark"],
            state_style=state_style,
            problems={},
        )

    def random_value() -> object:
        roll = rng.random()
        if roll < 0.1:
            return {"intValue": 3}  # not a state any more
        return {"stateValue": {"status": rng.choice(STATUSES), "time": 1_700_000_000}}

    async with Host(panel).run_test():
        ingested = store.ingest(
            [(f"s{i}", random_value(), None) for i in range(60)], now=0.0, wall=0.0
        )
        panel.redraw(view(), None)
        for poll in range(1, 40):
            moved = rng.sample(range(60), 8)
            ingested = store.ingest(
                [(f"s{i}", random_value(), None) for i in moved], now=poll, wall=0.0
            )
            panel.redraw(view(), ingested.changed)
            shown = {style.word: count for style, count in panel.counts if count}
            counted = full_count(store, spec)
            assert shown == {state_style(status).word: n for status, n in counted.items()}, poll
