"""The table panel: time in state in its own column, logged-out agents spared, hidden counted."""

from __future__ import annotations

import dataclasses

from rich.text import Text as RichText

from statdash.layout.compile import compile_layout
from statdash.layout.formats import Level
from statdash.layout.loader import load_layout_text
from statdash.layout.views import TableView
from statdash.live.store import Batch, Store
from statdash.ui.panels import TablePanel
from tests.support.panels import NOW, PanelHost, draw_context, record_refreshes


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
    async with PanelHost(panel).run_test(size=(100, 10)):
        feed(store, view, "ana.silva", "LoggedOut", 0)
        feed(store, view, "ben.novak", "WaitForNextCall", 0)
        panel.redraw(draw_context(store), None)
        assert level_glyphs(panel, "ana.silva") == ""
        assert level_glyphs(panel, "ben.novak") == Level.ALARM.glyph
        # Only the state changes: the figure is judged again all the same.
        changed = feed(store, view, "ana.silva", "WaitForNextCall", 0)
        panel.redraw(draw_context(store), changed)
        assert level_glyphs(panel, "ana.silva") == Level.ALARM.glyph


async def test_thresholds_judge_logged_out_agents_when_the_layout_asks() -> None:
    """`when_logged_out: true` keeps the levels of agents who are logged out."""
    view = agents_view("{warn: 60, alarm: 40, direction: below, when_logged_out: true}")
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 10)):
        feed(store, view, "ana.silva", "LoggedOut", 0)
        panel.redraw(draw_context(store), None)
        assert level_glyphs(panel, "ana.silva") == Level.ALARM.glyph


async def test_time_in_state_has_its_own_headed_column() -> None:
    """The clock sits in an "In state" column of its own, right of the state word."""
    view = agents_view("{alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "NotReadyForNextCall", 50)
        panel.redraw(draw_context(store), None)
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
    async with PanelHost(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "WaitForNextCall", 50)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        assert panel.table.hidden_column_keys == ()
        assert "hidden" not in title(panel)
        await pilot.resize_terminal(44, 10)
        await pilot.pause()
        assert len(panel.table.hidden_column_keys) == 1
        assert "1 column hidden" in title(panel)
        await pilot.resize_terminal(34, 10)
        await pilot.pause()
        hidden = len(panel.table.hidden_column_keys)
        assert hidden > 1
        assert f"{hidden} columns hidden" in title(panel)
        await pilot.resize_terminal(100, 10)
        await pilot.pause()
        assert "hidden" not in title(panel)


def options_view(options: str, agents: int = 6) -> TableView:
    """An agents table of `agents` agents with a judged Prod column and `options` added."""
    ids = ", ".join(f"a{index:02d}" for index in range(agents))
    layout = compile_layout(
        load_layout_text(
            f"""
title: Floor
pages:
  - widgets:
      - kind: agents
        agents: [{ids}]
        columns:
          - {{stat: Productivity, label: Prod,
             thresholds: {{warn: 60, alarm: 40, direction: below}}}}
        {options}
""",
            file="floor.yaml",
        )
    )
    view = layout.pages[0].widgets[0]
    assert isinstance(view, TableView)
    return view


def title(panel: TablePanel) -> str:
    """The border's title as plain text (Textual keeps it as markup)."""
    return RichText.from_markup(str(panel.border_title)).plain


async def test_hidden_states_leave_agents_out_and_the_border_counts_them() -> None:
    """`hide: [logged_out]`: logged-out agents are not listed, the border says how many;
    an agent who logs in appears, one who logs out goes."""
    view = options_view("hide: [logged_out]", agents=4)
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 12)) as pilot:
        for agent, status in (("a00", "LoggedOut"), ("a01", "WaitForNextCall")):
            feed(store, view, agent, status, 70)
        feed(store, view, "a02", "LoggedOut", 70)
        feed(store, view, "a03", "NotReadyForNextCall", 70)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        assert panel.table.visible_row_keys() == ["Agent:a01", "Agent:a03"]
        assert title(panel) == "Agents 2 · 2 hidden"
        changed = feed(store, view, "a00", "WaitForNextCall", 70)
        changed |= feed(store, view, "a03", "LoggedOut", 70)
        panel.redraw(draw_context(store), changed)
        await pilot.pause()
        assert panel.table.visible_row_keys() == ["Agent:a00", "Agent:a01"]
        assert title(panel) == "Agents 2 · 2 hidden"


async def test_attention_order_puts_alarms_then_warnings_first() -> None:
    """`order: attention`: rows at alarm, then at warning, then the rest, each in the
    layout's order; a row that recovers goes back to its place."""
    view = options_view("order: attention", agents=5)
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 12)) as pilot:
        for agent, productivity in (
            ("a00", 90),
            ("a01", 50),
            ("a02", 90),
            ("a03", 10),
            ("a04", 55),
        ):
            feed(store, view, agent, "WaitForNextCall", productivity)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        assert panel.table.visible_row_keys() == [
            "Agent:a03",
            "Agent:a01",
            "Agent:a04",
            "Agent:a00",
            "Agent:a02",
        ]
        changed = feed(store, view, "a03", "WaitForNextCall", 95)
        panel.redraw(draw_context(store), changed)
        await pilot.pause()
        assert panel.table.visible_row_keys()[:3] == ["Agent:a01", "Agent:a04", "Agent:a00"]


async def test_a_long_table_pages_itself_and_a_key_pauses_it() -> None:
    """`page_rows: auto`: a table longer than its widget shows the next rows on each turn,
    then the first again, saying which on the border; a key in the table pauses it."""
    view = options_view("page_rows: auto", agents=12)
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 8)) as pilot:  # 4 rows on screen
        for index in range(12):
            feed(store, view, f"a{index:02d}", "WaitForNextCall", 70)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        first, last, of = panel.table.shown_rows
        assert (first, of) == (1, 12) and last < of
        page = last
        assert f"rows 1-{page} of 12" in title(panel)
        panel._turn_page()
        await pilot.pause()
        assert panel.table.shown_rows[0] == page + 1
        assert f"rows {page + 1}-" in title(panel)
        for _ in range(12):
            panel._turn_page()
            if panel.table.shown_rows[0] == 1:
                break
        assert panel.table.shown_rows[0] == 1  # after the last page, the first again
        panel.table.focus()
        await pilot.press("down")
        panel._turn_page()
        await pilot.pause()
        assert panel.table.shown_rows[0] == 1  # someone is reading it: no turn


async def test_the_tick_repaints_only_the_times_that_moved() -> None:
    """Each second the time in state is drawn again, but only cells whose clock text moved
    are repainted: not in the same second, not for an agent with no time to show, and not
    the rest of the line."""
    view = agents_view("{alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "TalkingInbound", 50)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        calls = record_refreshes(panel.table)
        # The same second again: nothing moved, nothing is sent.
        panel.tick(draw_context(store))
        assert calls == []
        # A second later: ana's clock moved (line 1); ben has no state, so no time to move.
        later = dataclasses.replace(draw_context(store), wall_now=NOW + 1)
        panel.tick(later)
        assert [tuple(region.y for region in regions) for regions in calls] == [(1,)]
        # Only the "In state" cell: the clock's few columns, not the table's whole line.
        assert [region.width for regions in calls for region in regions] == [len("In state")]
        await pilot.pause()
        assert "0:01:16" in panel.table.render_line(1).text


async def test_a_redraw_leaves_the_panel_alone_when_its_title_is_the_same() -> None:
    """New values repaint their cells, not the panel: setting a border title repaints every
    line of the panel (and under push that was each second), so the title is set only when
    its words change."""
    view = agents_view("{alarm: 40, direction: below}")
    store = Store()
    panel = TablePanel(view)
    async with PanelHost(panel).run_test(size=(100, 10)) as pilot:
        feed(store, view, "ana.silva", "TalkingInbound", 50)
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        repaints = record_refreshes(panel)
        changed = feed(store, view, "ana.silva", "TalkingInbound", 30)
        panel.redraw(draw_context(store), changed)
        await pilot.pause()
        assert repaints == []
        assert title(panel) == "Agents 2"
        # A filter changes the words: the title is set, and the panel repainted for it.
        panel.table.set_filter("ana")
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        assert title(panel) == "Agents 1/2"
        assert repaints
