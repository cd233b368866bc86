"""The leaderboard (`kind: top`): ranking, ties, order, missing figures, and what it draws."""

from __future__ import annotations

from statdash.layout.compile import compile_layout
from statdash.layout.formats import Level
from statdash.layout.loader import load_layout_text
from statdash.layout.views import TopView
from statdash.live.store import Batch, Store
from statdash.ui.panels import TopPanel, ranking
from statdash.ui.widgets.leaderboard import Place
from tests.support.panels import NOW, PanelHost, draw_context, record_refreshes

AGENTS = ["ana", "ben", "carla", "dev", "elena", "farid"]


def top_view(options: str = "") -> TopView:
    """A board of six agents by InboundCalls, with `options` added to the widget."""
    layout = compile_layout(
        load_layout_text(
            f"""
title: Board
statistics:
  calls: {{name: InboundCalls, label: Calls}}
pages:
  - widgets:
      - kind: top
        objects: [{", ".join(f"{{agent: {a}}}" for a in AGENTS)}]
        by: $calls
        {options}
""",
            file="board.yaml",
        )
    )
    view = layout.pages[0].widgets[0]
    assert isinstance(view, TopView)
    return view


def feed(store: Store, view: TopView, calls: dict[str, int]) -> frozenset[str]:
    """Give these agents these call counts; returns what changed."""
    ids = dict(zip((row.id for row in view.rows), view.stat_ids, strict=True))
    return store.ingest(
        Batch.of((ids[agent], {"intValue": count}, None) for agent, count in calls.items()),
        now=0.0,
        wall=NOW,
    ).changed


def names(view: TopView, store: Store) -> list[str]:
    return [row.id for _, row, _ in ranking(view, store)]


def test_the_highest_come_first_ties_keep_the_layouts_order_missing_are_left_out() -> None:
    view = top_view()
    store = Store()
    feed(store, view, {"ana": 3, "ben": 7, "carla": 3, "dev": 9, "farid": 7})
    assert names(view, store) == ["dev", "ben", "farid", "ana", "carla"]
    assert (view.count, view.descending, view.label) == (5, True, "Calls")


def test_asc_puts_the_lowest_first() -> None:
    view = top_view("order: asc")
    store = Store()
    feed(store, view, {"ana": 3, "ben": 7, "carla": 1, "dev": 3})
    assert names(view, store) == ["carla", "ana", "dev", "ben"]


def lines(panel: TopPanel) -> list[str]:
    """The board's lines as painted, less the border and the blank ones."""
    painted = [
        "".join(seg.text for seg in strip) for strip in panel.render_lines(panel.outer_size.region)
    ]
    return [line.strip("│ ") for line in painted[1:-1] if line.strip("│ ")]


async def test_the_board_shows_count_places_with_levels_and_follows_changes() -> None:
    """Three places of six: rank, name and figure, the level's glyph on a figure at alarm;
    a change moves the places; the title says what it ranks when the layout gives none."""
    view = top_view("count: 3\n        thresholds: {warn: 5, alarm: 8}")
    store = Store()
    panel = TopPanel(view)
    async with PanelHost(panel).run_test(size=(60, 12)) as pilot:
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        assert lines(panel) == ["waiting for values"]
        feed(store, view, {"ana": 3, "ben": 7, "dev": 9})
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        shown = lines(panel)
        assert [line.split()[:2] for line in shown] == [["1", "dev"], ["2", "ben"], ["3", "ana"]]
        assert shown[0].endswith("9" + Level.ALARM.glyph)
        assert shown[1].endswith("7" + Level.WARN.glyph)
        assert "Top 3 by Calls" in str(panel.border_title)
        changed = feed(store, view, {"ana": 12})
        panel.redraw(draw_context(store), changed)
        await pilot.pause()
        assert [line.split()[1] for line in lines(panel)] == ["ana", "dev", "ben"]


async def test_names_and_figures_from_the_server_are_plain_text() -> None:
    """A label holding markup or an escape reaches the screen as plain text."""
    view = top_view()
    panel = TopPanel(view)
    async with PanelHost(panel).run_test(size=(60, 12)) as pilot:
        panel.set_places([Place("[b]x[/b]\x1b[2J", "1", 1.0)])
        await pilot.pause()
        (line,) = lines(panel)
        assert "[b]x[/b]" in line and "\x1b" not in line


async def test_a_changed_figure_repaints_only_its_place() -> None:
    """One figure moving (the order kept) repaints that place's line alone: the board used to
    be repainted whole, every line through Textual's border and style work."""
    view = top_view("count: 3")
    store = Store()
    panel = TopPanel(view)
    async with PanelHost(panel).run_test(size=(60, 12)) as pilot:
        feed(store, view, {"ana": 3, "ben": 7, "dev": 9})
        panel.redraw(draw_context(store), None)
        await pilot.pause()
        before = lines(panel)
        repainted = record_refreshes(panel)
        changed = feed(store, view, {"ana": 4})
        panel.redraw(draw_context(store), changed)
        await pilot.pause()
        after = lines(panel)
        assert [line.split()[1] for line in after] == ["dev", "ben", "ana"]
        assert before[:2] == after[:2] and before[2] != after[2]
        assert len(repainted) == 1 and len(repainted[0]) == 1
        assert repainted[0][0].height == 1
