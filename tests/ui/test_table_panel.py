"""The table panel: time in state in its own column, logged-out agents spared, hidden counted."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES

from statdash.layout.compile import compile_layout
from statdash.layout.formats import Level, state_style
from statdash.layout.loader import load_layout_text
from statdash.layout.views import TableView
from statdash.live.store import Batch, Store
from statdash.ui.app import STYLESHEET
from statdash.ui.panels import DrawContext, TablePanel

NOW = 1_700_000_000.0


class Host(App[None]):
    """One panel on a screen, styled as on the dashboard."""

    CSS_PATH = STYLESHEET

    def __init__(self, panel: TablePanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def agents_view(thresholds: str) -> TableView:
    """An agents table of two agents with a productivity column judged by `thresholds`."""
    layout = compile_layout(
        load_layout_text(
            f"""
title: Floor
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva, ben.novak]
        columns:
          - {{stat: Productivity, label: Prod, format: percent, thresholds: {thresholds}}}
          - {{stat: InboundCalls, label: Calls}}
          - {{stat: TalkDuration, label: Talk, format: duration}}
""",
            file="floor.yaml",
        )
    )
    view = layout.pages[0].widgets[0]
    assert isinstance(view, TableView)
    return view


def context(store: Store) -> DrawContext:
    return DrawContext(
        store=store,
        wall_now=NOW,
        theme=BUILTIN_THEMES["textual-dark"],
        state_style=state_style,
        problems={},
    )


def feed(
    store: Store, view: TableView, agent: str, status: str, productivity: int
) -> frozenset[str]:
    """Give `agent` a state (begun 75 s ago) and a productivity; returns what changed."""
    row = next(row for row in view.rows if row.id == agent)
    state, prod = view.columns[0], view.columns[1]
    ingested = store.ingest(
        Batch.of(
            [
                (
                    view.stat_id(row, state),
                    {"stateValue": {"status": status, "time": NOW - 75}},
                    None,
                ),
                (view.stat_id(row, prod), {"intValue": productivity}, None),
            ]
        ),
        now=0.0,
        wall=NOW,
    )
    return ingested.changed


def level_glyphs(panel: TablePanel, agent: str) -> str:
    cell = panel.table.get_cell(f"Agent:{agent}", "c1")
    assert cell is not None
    return cell.text.plain.strip().lstrip("0123456789%")


async def test_thresholds_spare_agents_who_are_logged_out() -> None:
    """A logged-out agent's 0% raises no alarm; once logged in, the same 0% does."""
    view = agents_view("{warn: 60, alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with Host(panel).run_test(size=(100, 10)):
        feed(store, view, "ana.silva", "LoggedOut", 0)
        feed(store, view, "ben.novak", "WaitForNextCall", 0)
        panel.redraw(context(store), None)
        assert level_glyphs(panel, "ana.silva") == ""
        assert level_glyphs(panel, "ben.novak") == Level.ALARM.glyph
        # Only the state changes: the figure is judged again all the same.
        changed = feed(store, view, "ana.silva", "WaitForNextCall", 0)
        panel.redraw(context(store), changed)
        assert level_glyphs(panel, "ana.silva") == Level.ALARM.glyph


async def test_thresholds_judge_logged_out_agents_when_the_layout_asks() -> None:
    """`when_logged_out: true` keeps the levels of agents who are logged out."""
    view = agents_view("{warn: 60, alarm: 40, direction: below, when_logged_out: true}")
    store = Store()
    panel = TablePanel(view)
    async with Host(panel).run_test(size=(100, 10)):
        feed(store, view, "ana.silva", "LoggedOut", 0)
        panel.redraw(context(store), None)
        assert level_glyphs(panel, "ana.silva") == Level.ALARM.glyph


async def test_time_in_state_has_its_own_headed_column() -> None:
    """The clock sits in an "In state" column of its own, right of the state word."""
    view = agents_view("{alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with Host(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "NotReadyForNextCall", 50)
        panel.redraw(context(store), None)
        await pilot.pause()
        header = panel.table.render_line(0).text.split()
        assert header[:4] == ["Agent", "State", "In", "state"]
        row = panel.table.render_line(1).text
        assert row.split()[:5] == ["ana.silva", "■", "Not", "ready", "0:01:15"]
        # The header's "In state" stands over the clock.
        assert row.rindex("0:01:15") + len("0:01:15") == panel.table.render_line(0).text.index(
            "In state"
        ) + len("In state")


async def test_the_border_says_how_many_columns_are_hidden() -> None:
    """Too narrow for every column, the table's border counts the hidden ones."""
    view = agents_view("{alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with Host(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "WaitForNextCall", 50)
        panel.redraw(context(store), None)
        await pilot.pause()
        assert panel.table.hidden_column_keys == ()
        assert "hidden" not in str(panel.border_title)
        await pilot.resize_terminal(44, 10)
        await pilot.pause()
        assert len(panel.table.hidden_column_keys) == 1
        assert "1 column hidden" in str(panel.border_title)
        await pilot.resize_terminal(34, 10)
        await pilot.pause()
        hidden = len(panel.table.hidden_column_keys)
        assert hidden > 1
        assert f"{hidden} columns hidden" in str(panel.border_title)
        await pilot.resize_terminal(100, 10)
        await pilot.pause()
        assert "hidden" not in str(panel.border_title)
