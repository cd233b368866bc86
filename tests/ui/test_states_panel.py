"""The state summary panel: each listed agent counted under its current state, in state order."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES

from statdash.layout.formats import state_style
from statdash.layout.problems import SourceLocation
from statdash.layout.views import RowObject, StatesView
from statdash.live.store import Batch, Store
from statdash.ui.panels import DrawContext, StatesPanel


class Host(App[None]):
    def __init__(self, panel: StatesPanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def state(status: str) -> dict[str, object]:
    return {"stateValue": {"status": status, "time": 1_700_000_000}}


async def test_counts_follow_each_agents_current_state() -> None:
    """Counts move with each poll; an agent listed twice counts twice, one without a state not."""
    agents = [RowObject(f"agent{i}", "Agent", f"Agent {i}") for i in range(4)]
    listed = [(agent, f"s{i}") for i, agent in enumerate(agents)]
    listed.append(listed[0])  # the same agent twice in a layout's list
    where = SourceLocation("floor.yaml", 1, 1)
    view = StatesView(title="States", span=1, height=None, location=where, agents=tuple(listed))
    store = Store()
    panel = StatesPanel(view)
    context = DrawContext(
        store=store,
        wall_now=0.0,
        theme=BUILTIN_THEMES["textual-dark"],
        state_style=state_style,
        problems={},
    )

    def shown() -> list[tuple[str, int]]:
        return [(style.word, count) for style, count in panel.counts]

    async with Host(panel).run_test():
        store.ingest(
            Batch.of(
                [
                    ("s0", state("CallInbound"), None),
                    ("s1", state("WaitForNextCall"), None),
                    ("s2", state("Odd"), None),
                    ("s3", {"intValue": 3}, None),  # not a state: not counted
                ]
            ),
            now=0.0,
            wall=0.0,
        )
        panel.redraw(context, None)
        # Canonical state order (Ready before Inbound), unknown statuses last.
        ready, inbound = state_style("WaitForNextCall").word, state_style("CallInbound").word
        assert shown() == [(ready, 1), (inbound, 2), ("Odd", 1)]

        moved = store.ingest(
            Batch.of([("s0", state("WaitForNextCall"), None), ("s2", {"intValue": 1}, None)]),
            now=1.0,
            wall=0.0,
        )
        panel.redraw(context, moved.changed)
        assert shown() == [(ready, 3)]
