"""LiveTable: rendering, precise redraws, keyed sort/filter, column fitting, keys, staleness."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip

from statdash.text import safe
from statdash.ui.widgets import live_table
from statdash.ui.widgets.live_table import Cell, LiveTable, TableColumn, fit_columns

COLUMNS = (
    TableColumn("name", "Name", 12),
    TableColumn("state", "State", 10, priority=1),
    TableColumn("calls", "Calls", 6, priority=3, align="right"),
    TableColumn("time", "Time", 8, priority=2, align="right"),
)
Rows = dict[str, dict[str, Cell]]


def hidden_of(table: LiveTable) -> tuple[str, ...]:
    """The keys of the columns the table hides now (read afresh at each call)."""
    return table.hidden_column_keys


def agent_rows(count: int) -> Rows:
    """`count` agents a0000..: state alternates Ready / Not ready, calls = index % 7."""
    rows: Rows = {}
    for index in range(count):
        state = "Ready" if index % 2 == 0 else "Not ready"
        rows[f"a{index:04d}"] = {
            "name": Cell(safe(f"Agent {index:04d}"), f"Agent {index:04d}"),
            "state": Cell(safe(state), state),
            "calls": Cell(safe(str(index % 7)), index % 7),
            "time": Cell(safe(f"0:{index % 60:02d}"), index % 60),
        }
    return rows


class TableApp(App[None]):
    """A screen with one LiveTable that records the table's messages."""

    def __init__(self, rows: Rows, columns: tuple[TableColumn, ...] = COLUMNS) -> None:
        super().__init__()
        self.rows = rows
        self.columns = columns
        self.cursor_moves: list[str | None] = []
        self.sorts: list[tuple[str, bool]] = []
        self.hidden: list[tuple[str, ...]] = []

    def compose(self) -> ComposeResult:
        yield LiveTable(self.columns)

    def on_mount(self) -> None:
        self.query_one(LiveTable).set_rows(self.rows)
        self.query_one(LiveTable).focus()

    def on_live_table_cursor_moved(self, message: LiveTable.CursorMoved) -> None:
        self.cursor_moves.append(message.row_key)

    def on_live_table_columns_fitted(self, message: LiveTable.ColumnsFitted) -> None:
        self.hidden.append(message.hidden)

    def on_live_table_sort_changed(self, message: LiveTable.SortChanged) -> None:
        self.sorts.append((message.column_key, message.reverse))


def lines(table: LiveTable) -> list[str]:
    """The text of every line the table draws, header first."""
    return [table.render_line(y).text for y in range(table.size.height)]


def cursor_screen_line(table: LiveTable) -> int:
    """The screen line (0 = header) of the cursor row; fails if the cursor row is off screen."""
    key = table.cursor_row_key
    assert key is not None
    on_screen = table.screen_row_keys()
    assert key in on_screen, f"cursor row {key} is not on screen"
    return 1 + on_screen.index(key)


def is_cursor_line(table: LiveTable, y: int) -> bool:
    """True when line `y` is painted with the cursor background."""
    cursor_bg = table.get_component_rich_style("live-table--cursor").bgcolor
    strip = table.render_line(y)
    return all(
        segment.style is not None and segment.style.bgcolor == cursor_bg for segment in strip
    )


class RefreshSpy:
    """Records the regions passed to `table.refresh` ([] for a whole-widget refresh)."""

    def __init__(self, table: LiveTable) -> None:
        self.calls: list[tuple[Region, ...]] = []
        self._original = table.refresh

        def spy(*regions: Region, **kwargs: Any) -> Any:
            self.calls.append(regions)
            return self._original(*regions, **kwargs)

        table.refresh = spy  # type: ignore[method-assign]


@pytest.fixture
def count_renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Mapping[str, Cell]]]:
    """Every row LiveTable renders from scratch (cache misses), in order."""
    rendered: list[Mapping[str, Cell]] = []
    original = LiveTable._render_row

    def spy(self: LiveTable, row_key: str, *args: Any) -> Strip:
        strip = original(self, row_key, *args)
        rendered.append(self._rows[row_key])
        return strip

    monkeypatch.setattr(LiveTable, "_render_row", spy)
    yield rendered


def name_of(row: Mapping[str, Cell]) -> str:
    """The plain name cell of a row."""
    return row["name"].text.plain


# ---------------------------------------------------------------- rendering


async def test_header_and_rows_render_aligned() -> None:
    """The header shows the labels and each row its cells, right-aligned where asked."""
    app = TableApp(agent_rows(3))
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        text = lines(table)
        assert text[0].split() == ["Name", "State", "Calls", "Time"]
        assert text[1].startswith(" Agent 0000   Ready      ")
        assert text[2].startswith(" Agent 0001   Not ready  ")
        # "Calls" is six cells wide and right-aligned: the digit sits at its right edge.
        calls_end = text[0].index("Calls") + len("Calls")
        assert text[3][calls_end - 1] == "2"
        assert text[4].strip() == ""
        assert all(len(line) == table.scrollable_content_region.width for line in text)


async def test_long_cell_is_cut_with_an_ellipsis_not_wrapped() -> None:
    """A cell longer than its column ends in an ellipsis and does not push the next column."""
    rows = agent_rows(1)
    rows["a0000"]["state"] = Cell(safe("Not ready: lunch break"), "x")
    app = TableApp(rows)
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        line = table.render_line(1).text
        assert "Not ready…" in line
        assert line.index("Not ready…") == table.render_line(0).text.index("State")


# ---------------------------------------------------------------- precise updates


async def test_update_cells_repaints_only_the_changed_lines(
    count_renders: list[Mapping[str, Cell]],
) -> None:
    """Changing two rows' cells refreshes exactly those cells (not their whole lines, so the
    compositor sends only them) and re-renders only those two rows."""
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        before = {key: table._strips[key][1] for key in table.screen_row_keys()}
        count_renders.clear()
        spy = RefreshSpy(table)

        table.update_cells(
            {
                "a0002": {"calls": Cell(safe("99"), 99)},
                "a0005": {"state": Cell(safe("Inbound"), "Inbound")},
            }
        )
        # The calls cell of line 3 and the state cell of line 6, each its column's cells only.
        assert spy.calls == [(Region(25, 3, 6, 1), Region(14, 6, 10, 1))]
        header = table.render_line(0).text
        assert "Calls" in header[25 : 25 + 6] and "State" in header[14 : 14 + 10]
        await pilot.pause()

        assert sorted(name_of(row) for row in count_renders) == ["Agent 0002", "Agent 0005"]
        after = {key: table._strips[key][1] for key in table.screen_row_keys()}
        changed = {key for key in before if before[key] is not after[key]}
        assert changed == {"a0002", "a0005"}
        assert "99" in table.render_line(3).text
        assert "Inbound" in table.render_line(6).text


async def test_update_of_an_offscreen_row_repaints_nothing_but_shows_when_scrolled() -> None:
    """A change to a row below the screen causes no repaint yet is visible once scrolled to."""
    app = TableApp(agent_rows(200))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        spy = RefreshSpy(table)
        table.update_cells({"a0150": {"state": Cell(safe("On hold"), "On hold")}})
        assert spy.calls == []
        assert table.move_cursor("a0150")
        await pilot.pause()
        assert "On hold" in table.render_line(cursor_screen_line(table)).text


async def test_cursor_move_re_renders_only_the_two_affected_rows(
    count_renders: list[Mapping[str, Cell]],
) -> None:
    """Moving the cursor one row re-renders the row it left and the row it reached, no others."""
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        count_renders.clear()
        await pilot.press("down")
        await pilot.pause()
        assert sorted(name_of(row) for row in count_renders) == ["Agent 0000", "Agent 0001"]


async def test_clear_render_cache_renders_every_row_again_and_the_same(
    count_renders: list[Mapping[str, Cell]],
) -> None:
    """After clear_render_cache every line on screen is rendered anew, and reads as before."""
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(LiveTable)
        before = lines(table)
        count_renders.clear()
        assert lines(table) == before and count_renders == []
        table.clear_render_cache()
        assert lines(table) == before
        assert len(count_renders) == len(table.screen_row_keys())


async def test_a_full_row_cache_drops_rows_that_left_the_screen_not_those_on_it(
    count_renders: list[Mapping[str, Cell]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the row cache full, scrolling up one line renders only the row that came in:
    the rows still on screen stay cached (least recently used goes first)."""
    monkeypatch.setattr(live_table, "_STRIP_CACHE_SIZE", 12)
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert len(table.screen_row_keys()) == 11  # one more than that fills the cache
        table.scroll_to(y=20, animate=False)
        await pilot.pause()
        table.clear_render_cache()
        lines(table)
        table.scroll_to(y=19, animate=False)  # the cache is full from here on
        await pilot.pause()
        lines(table)
        count_renders.clear()
        table.scroll_to(y=18, animate=False)
        await pilot.pause()
        lines(table)
        assert [name_of(row) for row in count_renders] == ["Agent 0018"]


async def test_update_cells_adds_unknown_rows() -> None:
    """A row key the table has not seen is added as a new row, not dropped."""
    app = TableApp(agent_rows(3))
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(LiveTable)
        table.update_cells({"zz": {"name": Cell(safe("Newcomer"), "Newcomer")}})
        await pilot.pause()
        assert table.visible_row_keys() == ["a0000", "a0001", "a0002", "zz"]
        assert "Newcomer" in table.render_line(4).text
        assert table.row_count == 4


# ---------------------------------------------------------------- sorting


async def test_sort_keeps_the_cursor_on_the_same_row_key() -> None:
    """After sorting, the cursor is on the row it was on before, now at a different index."""
    app = TableApp(agent_rows(40))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.press("down", "down", "down")
        assert table.cursor_row_key == "a0003"
        table.sort_by("calls", reverse=True)
        await pilot.pause()
        assert table.cursor_row_key == "a0003"
        assert table.visible_row_keys().index("a0003") != 3
        y = cursor_screen_line(table)
        assert "Agent 0003" in table.render_line(y).text
        assert is_cursor_line(table, y)
        assert app.cursor_moves == ["a0000", "a0001", "a0002", "a0003"]


async def test_toggle_sort_flips_direction_and_marks_the_header() -> None:
    """Toggling a column sorts ascending then descending, with ▲/▼ in its header and messages."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.toggle_sort("time")
        await pilot.pause()
        assert "Time ▲" in table.render_line(0).text
        ascending = table.visible_row_keys()
        table.toggle_sort("time")
        await pilot.pause()
        assert "Time ▼" in table.render_line(0).text
        assert "▲" not in table.render_line(0).text
        assert table.visible_row_keys() == ascending[::-1]
        assert app.sorts == [("time", False), ("time", True)]


async def test_sort_puts_none_last_and_breaks_ties_by_row_key() -> None:
    """None and NaN sort last in both directions; equal values keep row-key order."""
    rows: Rows = {
        key: {"name": Cell(safe(key), value)}
        for key, value in [("d", 2.0), ("b", None), ("c", 1.0), ("a", 2.0), ("e", float("nan"))]
    }
    app = TableApp(rows, (TableColumn("name", "Name", 10),))
    async with app.run_test(size=(30, 10)) as pilot:
        table = app.query_one(LiveTable)
        table.sort_by("name")
        assert table.visible_row_keys() == ["c", "a", "d", "b", "e"]
        table.sort_by("name", reverse=True)
        assert table.visible_row_keys() == ["a", "d", "c", "b", "e"]
        await pilot.pause()


async def test_changed_sort_values_resort_once_before_the_next_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several updates to the sort column between two refreshes cause one re-sort, in order."""
    app = TableApp(agent_rows(20))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.sort_by("calls")
        await pilot.pause()
        sorts: list[int] = []
        original = LiveTable._sort_rows

        def spy(self: LiveTable) -> None:
            sorts.append(1)
            original(self)

        monkeypatch.setattr(LiveTable, "_sort_rows", spy)
        table.update_cells({"a0019": {"calls": Cell(safe("-1"), -1)}})
        table.update_cells({"a0018": {"calls": Cell(safe("-2"), -2)}})
        table.update_cells({"a0001": {"state": Cell(safe("Busy"), "Busy")}})
        assert sorts == []
        await pilot.pause()
        assert sorts == [1]
        assert table.visible_row_keys()[:2] == ["a0018", "a0019"]
        assert "Agent 0018" in table.render_line(1).text


async def test_changes_outside_the_sort_column_do_not_resort(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Updating cells of other columns, or the sort column to the same value, never re-sorts."""
    app = TableApp(agent_rows(20))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.sort_by("calls")
        await pilot.pause()
        sorts: list[int] = []
        monkeypatch.setattr(LiveTable, "_sort_rows", lambda self: sorts.append(1))
        table.update_cells({"a0003": {"state": Cell(safe("Busy"), "Busy")}})
        table.update_cells({"a0004": {"calls": Cell(safe("4"), 4)}})
        await pilot.pause()
        assert sorts == []


async def test_clicking_a_header_sorts_by_that_column() -> None:
    """A mouse click on a column label toggles the sort on that column."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        x = table.render_line(0).text.index("Calls")
        await pilot.click(LiveTable, offset=(x, 0))
        await pilot.click(LiveTable, offset=(x, 0))
        await pilot.pause()
        assert (table.sort_column, table.sort_reverse) == ("calls", True)
        assert app.sorts == [("calls", False), ("calls", True)]


# ---------------------------------------------------------------- filtering


async def test_filter_narrows_rows_and_keeps_the_cursor_key() -> None:
    """A filter shows matching rows only, keeps the cursor's row when it matches, and counts."""
    app = TableApp(agent_rows(2000))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(LiveTable)
        assert table.move_cursor("a1501")
        table.set_filter("NOT READY")
        await pilot.pause()
        assert (table.filtered_count, table.row_count) == (1000, 2000)
        assert all(int(key[1:]) % 2 == 1 for key in table.visible_row_keys())
        assert table.cursor_row_key == "a1501"
        assert "Agent 1501" in table.render_line(cursor_screen_line(table)).text
        table.set_filter("")
        await pilot.pause()
        assert table.filtered_count == 2000
        assert table.cursor_row_key == "a1501"


async def test_filter_moves_the_cursor_when_its_row_is_filtered_out() -> None:
    """When the cursor's row stops matching, the cursor lands on a shown row and says so."""
    app = TableApp(agent_rows(30))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        assert table.move_cursor("a0004")
        table.set_filter("agent 001")
        await pilot.pause()
        assert table.visible_row_keys() == [f"a{index:04d}" for index in range(10, 20)]
        assert table.cursor_row_key in table.visible_row_keys()
        assert app.cursor_moves[-1] == table.cursor_row_key
        table.set_filter("nobody")
        await pilot.pause()
        assert table.cursor_row_key is None
        assert app.cursor_moves[-1] is None


async def test_filter_follows_cell_updates() -> None:
    """A row joins or leaves the filtered view when an update changes whether it matches."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_filter("on hold")
        assert table.visible_row_keys() == []
        table.update_cells({"a0003": {"state": Cell(safe("On hold"), "On hold")}})
        await pilot.pause()
        assert table.visible_row_keys() == ["a0003"]
        table.update_cells({"a0003": {"state": Cell(safe("Ready"), "Ready")}})
        await pilot.pause()
        assert table.visible_row_keys() == []


async def test_filter_sees_cells_changed_while_no_filter_was_set() -> None:
    """A filter set after an update matches the new text, not what the row said before."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_filter("ready")
        table.set_filter("")
        table.update_cells({"a0004": {"state": Cell(safe("On hold"), "On hold")}})
        table.set_filter("hold")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0004"]


async def test_a_column_filter_matches_whole_words_from_the_start_of_that_cell() -> None:
    """`state:ready` keeps Ready and drops Not ready (which plain `ready` matches too);
    `state:not ready` the reverse; it follows updates; an unknown label is plain text."""
    rows = agent_rows(10)
    rows["a0002"]["state"] = Cell(safe("\u25a0 Ready"), "Ready")  # a glyph is not a word
    app = TableApp(rows)
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_filter("ready")
        await pilot.pause()
        assert table.filtered_count == 10
        table.set_filter("State:Ready")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0000", "a0002", "a0004", "a0006", "a0008"]
        table.set_filter("state:not ready")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0001", "a0003", "a0005", "a0007", "a0009"]
        table.update_cells({"a0003": {"state": Cell(safe("Ready"), "Ready")}})
        await pilot.pause()
        assert "a0003" not in table.visible_row_keys()
        table.set_filter("nosuchcolumn:ready")
        await pilot.pause()
        assert table.visible_row_keys() == []


async def test_hidden_rows_are_left_out_before_the_filter_and_counted() -> None:
    """Hidden rows are not shown, whatever the filter; the count says how many."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_hidden_rows(["a0001", "a0003", "nobody"])
        await pilot.pause()
        assert table.hidden_count == 2
        assert table.filtered_count == 8
        assert "a0001" not in table.visible_row_keys()
        table.set_filter("state:not ready")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0005", "a0007", "a0009"]
        table.set_hidden_rows([])
        await pilot.pause()
        assert table.visible_row_keys() == ["a0001", "a0003", "a0005", "a0007", "a0009"]


async def test_ranked_rows_come_first_in_the_sort_order_within_each_rank() -> None:
    """Rank -2 before -1 before the rest; each rank keeps the sort (or the rows' own order),
    and a rank set back to 0 returns the row to its place."""
    app = TableApp(agent_rows(6))
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_row_ranks({"a0004": -1, "a0002": -2, "a0005": -2})
        await pilot.pause()
        assert table.visible_row_keys() == ["a0002", "a0005", "a0004", "a0000", "a0001", "a0003"]
        table.sort_by("calls", reverse=True)  # calls = index % 7
        await pilot.pause()
        assert table.visible_row_keys() == ["a0005", "a0002", "a0004", "a0003", "a0001", "a0000"]
        table.set_row_ranks({"a0005": 0})
        await pilot.pause()
        assert table.visible_row_keys() == ["a0002", "a0004", "a0005", "a0003", "a0001", "a0000"]


async def test_filter_searches_only_the_columns_on_screen() -> None:
    """A value in a column dropped for width stops matching, and matches again when shown."""
    rows = agent_rows(10)
    rows["a0006"]["calls"] = Cell(safe("4242"), 4242)
    app = TableApp(rows)
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(LiveTable)
        table.set_filter("4242")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0006"]
        await pilot.resize_terminal(36, 14)
        await pilot.pause()
        assert "calls" in hidden_of(table)
        assert table.visible_row_keys() == []
        await pilot.resize_terminal(60, 14)
        await pilot.pause()
        assert table.visible_row_keys() == ["a0006"]


# ---------------------------------------------------------------- column fitting


def test_cell_refuses_a_plain_string() -> None:
    """A Cell built from a str (a caller skipping safe()) fails at once, not at render time."""
    with pytest.raises(TypeError):
        Cell("[/]", None)  # type: ignore[arg-type]


def test_fit_columns_drops_highest_priority_number_first() -> None:
    """Columns go by descending priority number; the first column stays even at priority 9."""
    columns = (
        TableColumn("name", "Name", 10, priority=9),
        TableColumn("a", "A", 5, priority=1),
        TableColumn("b", "B", 5, priority=3),
        TableColumn("c", "C", 5, priority=2),
    )

    def keys(width: int) -> list[str]:
        return [placed.column.key for placed in fit_columns(columns, width)]

    assert keys(29) == ["name", "a", "b", "c"]
    assert keys(28) == ["name", "a", "c"]
    assert keys(23) == ["name", "a", "c"]
    assert keys(22) == ["name", "a"]
    assert keys(17) == ["name", "a"]
    assert keys(16) == ["name"]
    assert [placed.width for placed in fit_columns(columns, 6)] == [5]


def test_fit_columns_shrinks_to_min_width_before_dropping() -> None:
    """A column with min_width gives up cells before any column is dropped."""
    columns = (
        TableColumn("name", "Name", 20, min_width=8),
        TableColumn("state", "State", 10, priority=1),
    )
    placed = fit_columns(columns, 25)
    assert [(p.column.key, p.width) for p in placed] == [("name", 13), ("state", 10)]
    placed = fit_columns(columns, 18)
    assert [(p.column.key, p.width) for p in placed] == [("name", 17)]


def test_fit_columns_brings_back_a_dropped_column_that_fits() -> None:
    """A column is hidden only when it does not fit: a narrow one returns in the room left."""
    columns = (
        TableColumn("name", "Name", 10),
        TableColumn("wide", "Wide", 10, priority=7),
        TableColumn("slim", "Slim", 4, priority=8),
    )
    # 11 + 11 + 5 = 27 cells: at 20 the wide column goes, and the slim one still fits.
    assert [p.column.key for p in fit_columns(columns, 20)] == ["name", "slim"]
    assert [p.column.key for p in fit_columns(columns, 27)] == ["name", "wide", "slim"]
    assert [p.column.key for p in fit_columns(columns, 15)] == ["name"]


async def test_fit_columns_are_as_wide_as_their_content() -> None:
    """A `fit` column takes its label's and widest cell's width (up to `width`), never shrinks.

    Content-wide columns leave room for one that a guessed width would have hidden.
    """
    columns = (
        TableColumn("name", "Name", 12),
        TableColumn("calls", "Calls", 12, priority=3, align="right", fit=True),
        TableColumn("time", "Time", 12, priority=4, align="right", fit=True),
    )
    app = TableApp(agent_rows(3), columns)
    # 13 + 13 + 13 = 39 cells of guessed widths; the content needs 13 + 6 + 5 = 24.
    async with app.run_test(size=(26, 8)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert hidden_of(table) == ()
        assert [p.width for p in table._layout] == [12, 5, 4]
        table.update_cells({"a0001": {"calls": Cell(safe("1,234,567"), 1)}})
        await pilot.pause()
        assert [p.width for p in table._layout] == [12, 9]
        assert hidden_of(table) == ("time",)
        assert "1,234,567" in table.render_line(2).text
        # A narrower value later does not narrow the column again.
        table.update_cells({"a0001": {"calls": Cell(safe("1"), 1)}})
        await pilot.pause()
        assert [p.width for p in table._layout] == [12, 9]


async def test_columns_drop_when_narrow_and_come_back_when_wide() -> None:
    """At a narrow terminal low-priority columns vanish from header and rows, and return.

    Each fitting that changes what is hidden is posted (the panel's border says the count).
    """
    app = TableApp(agent_rows(3))
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert table.render_line(0).text.split() == ["Name", "State", "Calls", "Time"]
        assert app.hidden[-1] == ()
        await pilot.resize_terminal(36, 10)
        await pilot.pause()
        header = table.render_line(0).text
        assert header.split() == ["Name", "State", "Time"]
        assert hidden_of(table) == ("calls",)
        assert app.hidden[-1:] == [("calls",)]
        assert len(header) == table.scrollable_content_region.width
        assert table.render_line(1).text.split() == ["Agent", "0000", "Ready", "0:00"]
        await pilot.resize_terminal(20, 10)
        await pilot.pause()
        # State and time do not fit beside the name; the narrower calls column still does.
        assert [column.key for column in table.visible_columns] == ["name", "calls"]
        await pilot.resize_terminal(18, 10)
        await pilot.pause()
        assert table.render_line(0).text.split()[0] == "Name"
        assert [column.key for column in table.visible_columns] == ["name"]
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert table.render_line(0).text.split() == ["Name", "State", "Calls", "Time"]
        assert "2" in table.render_line(3).text.split()


# ---------------------------------------------------------------- keyboard and mouse


async def test_keyboard_navigation_keeps_the_cursor_in_view_over_2000_rows() -> None:
    """Down, page down, end, page up and home move the cursor and the view stays on it."""
    app = TableApp(agent_rows(2000))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        for _ in range(25):
            await pilot.press("down")
        assert table.cursor_row_key == "a0025"
        assert cursor_screen_line(table) == 19
        await pilot.press("pagedown")
        assert table.cursor_row_key == "a0044"
        await pilot.press("end")
        assert table.cursor_row_key == "a1999"
        await pilot.pause()
        assert cursor_screen_line(table) == 19
        assert "Agent 1999" in table.render_line(19).text
        await pilot.press("pageup", "up")
        assert table.cursor_row_key == "a1979"
        cursor_screen_line(table)
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row_key == "a0000"
        assert cursor_screen_line(table) == 1
        assert is_cursor_line(table, 1)
        assert not is_cursor_line(table, 2)
        assert table.render_line(0).text.split()[0] == "Name"


async def test_header_stays_fixed_while_rows_scroll() -> None:
    """Scrolling moves the rows under a header line that never moves."""
    app = TableApp(agent_rows(100))
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(LiveTable)
        table.scroll_to(y=40, animate=False)
        await pilot.pause()
        assert table.render_line(0).text.split()[0] == "Name"
        assert "Agent 0040" in table.render_line(1).text


async def test_clicking_a_row_moves_the_cursor() -> None:
    """A mouse click on a row puts the cursor there and posts CursorMoved."""
    app = TableApp(agent_rows(30))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        await pilot.click(LiveTable, offset=(3, 5))
        await pilot.pause()
        assert table.cursor_row_key == "a0004"
        assert app.cursor_moves[-1] == "a0004"


async def test_set_rows_and_remove_rows_keep_the_cursor_key() -> None:
    """Replacing all rows keeps the cursor's key; removing its row moves it to a neighbour."""
    app = TableApp(agent_rows(30))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        assert table.move_cursor("a0007")
        rows = agent_rows(30)
        del rows["a0002"]
        table.set_rows(rows)
        assert table.cursor_row_key == "a0007"
        table.remove_rows(["a0007", "unknown"])
        await pilot.pause()
        assert table.cursor_row_key == "a0008"
        assert "a0007" not in table.visible_row_keys()
        assert table.row_count == 28


# ---------------------------------------------------------------- staleness


def dimmed(strip: Strip) -> bool:
    """True when every visible segment of the strip is dim."""
    return all(segment.style is not None and segment.style.dim for segment in strip)


async def test_stale_dims_every_line_and_keeps_the_values() -> None:
    """While stale, the header and every row are dim with their text unchanged."""
    app = TableApp(agent_rows(5))
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        fresh = lines(table)
        assert not any(dimmed(table.render_line(y)) for y in range(6))
        table.stale = True
        await pilot.pause()
        assert lines(table) == fresh
        assert all(dimmed(table.render_line(y)) for y in range(6))
        table.stale = False
        await pilot.pause()
        assert not dimmed(table.render_line(1))


async def test_stale_rows_dim_only_those_rows() -> None:
    """Per-row staleness dims exactly the named rows."""
    app = TableApp(agent_rows(5))
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(LiveTable)
        table.set_stale_rows(["a0002", "nope"])
        await pilot.pause()
        assert [dimmed(table.render_line(y)) for y in range(1, 6)] == [
            False,
            False,
            True,
            False,
            False,
        ]


class ThemedApp(TableApp):
    """A TableApp whose stylesheet restyles the table's component classes."""

    CSS = """
    LiveTable > .live-table--header { background: #ff0000; }
    LiveTable > .live-table--cursor { background: #00ff00; }
    """


def backgrounds(strip: Strip) -> set[str | None]:
    """The background colours (as #rrggbb) used across a strip."""
    colours = {segment.style.bgcolor if segment.style else None for segment in strip}
    return {colour.triplet.hex if colour and colour.triplet else None for colour in colours}


async def test_component_classes_style_the_header_and_cursor() -> None:
    """App CSS on live-table--header and live-table--cursor changes how those lines draw."""
    app = ThemedApp(agent_rows(3))
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert backgrounds(table.render_line(0)) == {"#ff0000"}
        assert backgrounds(table.render_line(1)) == {"#00ff00"}
        assert not backgrounds(table.render_line(2)) & {"#ff0000", "#00ff00"}


# ---------------------------------------------------------------- hostile strings

HOSTILE = ("[/]", "[@click=app.quit]x", "\x1b]52;c;aGk=\x07")


async def test_hostile_strings_render_literally_and_clicks_do_nothing() -> None:
    """Markup and escape sequences passed through safe() show as text and never act."""
    rows: Rows = {
        f"h{index}": {"name": Cell(safe(value), value), "state": Cell(safe(value), None)}
        for index, value in enumerate(HOSTILE)
    }
    columns = (TableColumn("name", safe("[b]Name[/b]").plain, 20), *COLUMNS[1:2])
    app = TableApp(rows, columns)
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        text = lines(table)
        assert text[0].split()[0] == "[b]Name[/b]"
        assert text[1].split()[:2] == ["[/]", "[/]"]
        assert text[2].split()[0] == "[@click=app.quit]x"
        assert text[3].split()[0] == "\ufffd]52;c;aGk=\ufffd"
        for y in (1, 2, 3):
            await pilot.click(LiveTable, offset=(3, y))
            await pilot.click(LiveTable, offset=(16, y))
        await pilot.pause()
        assert app.is_running
        assert table.cursor_row_key == "h2"


async def test_raw_text_with_hostile_content_cannot_crash_or_escape() -> None:
    """Text that skipped safe(), even with an @click style, renders inert and control-free."""
    rows: Rows = {
        f"r{index}": {"name": Cell(Text(value), None)} for index, value in enumerate(HOSTILE)
    }
    rows["meta"] = {"name": Cell(Text("press me", style=Style(meta={"@click": "app.quit"})))}
    rows["newline"] = {"name": Cell(Text("two\nlines\r\x9b"), None)}
    app = TableApp(rows, (TableColumn("name", "Name", 20),))
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        text = lines(table)
        # Rich's Text() already strips BEL and CR; ESC, LF and C1 CSI are left to the table.
        assert text[3].split()[0].startswith("\ufffd]52;c;aGk=")
        assert text[5].split() == ["two", "lines\ufffd"]
        assert not any(char in "".join(text) for char in "\x1b\x07\n\r\x9b")
        for y in range(1, 6):
            await pilot.click(LiveTable, offset=(2, y))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None


# ---------------------------------------------------------------- lazy cells and partial renders


class Factory:
    """A cell factory over a dict of current values that counts the cells it builds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.values: dict[tuple[str, str], int] = {}

    def __call__(self, row_key: str, column_key: str) -> Cell:
        self.calls.append((row_key, column_key))
        value = self.values.get((row_key, column_key), 0)
        return Cell(safe(f"v{value}"), value)


async def test_lazy_cells_are_built_only_when_their_row_is_drawn() -> None:
    """An invalidated cell off screen costs nothing until it is scrolled into view."""
    app = TableApp(agent_rows(200))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        factory = Factory()
        table.set_cell_factory(factory)
        await pilot.pause()
        factory.values[("a0150", "calls")] = 42
        factory.values[("a0002", "calls")] = 7
        spy = RefreshSpy(table)
        table.invalidate_cells({"a0150": ["calls"], "a0002": ["calls"]})
        assert factory.calls == []
        # Only the calls cell of the one row on screen (line 3) is repainted.
        assert spy.calls == [(Region(25, 3, 6, 1),)]
        await pilot.pause()
        assert factory.calls == [("a0002", "calls")]
        assert "v7" in table.render_line(3).text
        assert table.pending_cell_count == 1
        assert table.move_cursor("a0150")
        await pilot.pause()
        assert "v42" in table.render_line(cursor_screen_line(table)).text
        assert table.pending_cell_count == 0


async def test_get_cell_builds_a_pending_cell() -> None:
    """Reading a cell that was invalidated gives the factory's current cell."""
    app = TableApp(agent_rows(200))
    async with app.run_test(size=(60, 12)):
        table = app.query_one(LiveTable)
        factory = Factory()
        table.set_cell_factory(factory)
        factory.values[("a0190", "time")] = 5
        table.invalidate_cells({"a0190": ["time"]})
        cell = table.get_cell("a0190", "time")
        assert cell is not None and cell.sort_key == 5
        assert factory.calls == [("a0190", "time")]


async def test_invalidated_sort_column_cells_resort_at_once() -> None:
    """Cells in the sort column are built when invalidated, so rows move as values change."""
    app = TableApp(agent_rows(20))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        factory = Factory()
        table.set_cell_factory(factory)
        table.sort_by("calls")
        await pilot.pause()
        factory.values[("a0013", "calls")] = -5
        table.invalidate_cells({"a0013": ["calls", "time"]})
        assert factory.calls == [("a0013", "calls")]
        await pilot.pause()
        assert table.visible_row_keys()[0] == "a0013"
        assert "v-5" in table.render_line(1).text


async def test_filter_reads_lazy_cells() -> None:
    """A filter matches on the value the factory gives now, not the stale one."""
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        factory = Factory()
        table.set_cell_factory(factory)
        factory.values[("a0040", "state")] = 777
        table.invalidate_cells({"a0040": ["state"]})
        table.set_filter("v777")
        await pilot.pause()
        assert table.visible_row_keys() == ["a0040"]
        factory.values[("a0041", "state")] = 777
        table.invalidate_cells({"a0041": ["state"]})  # built at once while filtering
        await pilot.pause()
        assert table.visible_row_keys() == ["a0040", "a0041"]


async def test_given_cells_win_over_pending_ones() -> None:
    """update_cells after invalidate_cells keeps the given cell; the factory is not asked."""
    app = TableApp(agent_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        factory = Factory()
        table.set_cell_factory(factory)
        table.invalidate_cells({"a0001": ["calls"]})
        table.update_cells({"a0001": {"calls": Cell(safe("given"), 1)}})
        await pilot.pause()
        assert "given" in table.render_line(2).text
        assert factory.calls == []


async def test_invalidate_needs_a_factory() -> None:
    """Invalidating without a factory is a programming error, said at once."""
    app = TableApp(agent_rows(3))
    async with app.run_test(size=(60, 12)):
        with pytest.raises(RuntimeError, match="cell factory"):
            app.query_one(LiveTable).invalidate_cells({"a0001": ["calls"]})


async def test_a_changed_row_re_renders_only_its_changed_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other cells of a repainted row reuse what they rendered to."""
    from statdash.ui.widgets import live_table

    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        rendered: list[str] = []
        original = live_table._piece

        def spy(console: Any, text: Text, *args: Any) -> Any:
            rendered.append(text.plain)
            return original(console, text, *args)

        # Every cell drawn is drawn as its piece (plain ones without rendering their Text).
        monkeypatch.setattr(live_table, "_piece", spy)
        table.update_cells({"a0003": {"calls": Cell(safe("55"), 55)}})
        await pilot.pause()
        assert rendered == ["55"]
        assert "55" in table.render_line(4).text and "Agent 0003" in table.render_line(4).text


# ---------------------------------------------------------------- the pieces cache


def drawn(table: LiveTable) -> list[list[Segment]]:
    """Every line the table draws now, as segments (text and style), header first."""
    return [list(table.render_line(y)) for y in range(table.size.height)]


def assert_drawn_as_from_cold(table: LiveTable) -> list[list[Segment]]:
    """The lines drawn with whatever the table kept equal the lines drawn from its cells
    alone (with empty caches put in place of its own, so that nothing the table does to
    forget can hide a stale entry); returns them."""
    warm = drawn(table)
    table._strips = LRUCache(live_table._STRIP_CACHE_SIZE)
    table._cell_renders = LRUCache(live_table._STRIP_CACHE_SIZE)
    table._header = None
    cold = drawn(table)
    assert warm == cold
    return warm


def time_cells(rows: Rows, second: int) -> dict[str, dict[str, Cell]]:
    """A new time cell for every row, as the once-a-second clock gives them."""
    return {key: {"time": Cell(safe(f"1:{second:02d}"), second)} for key in rows}


async def test_a_clock_each_second_draws_as_from_cold_with_cursor_and_stale_rows() -> None:
    """Rows whose time cell changes each second, the cursor row and dimmed rows among them,
    draw exactly as if rendered from their cells alone, the new clock shown."""
    rows = agent_rows(30)
    app = TableApp(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        drawn(table)
        table.set_stale_rows(["a0002", "a0004"])
        await pilot.press("down")
        for second in range(3):
            table.update_cells(time_cells(rows, second))
            await pilot.pause()
            lines_now = assert_drawn_as_from_cold(table)
            assert all(f"1:{second:02d}" in Strip(line).text for line in lines_now[1:])
        assert is_cursor_line(table, 2) and dimmed(table.render_line(3))


async def test_cursor_moves_and_staleness_draw_as_from_cold() -> None:
    """The row the cursor leaves loses its highlight, the row it reaches gets it, and a row
    made stale (or fresh) dims (or not), each drawn as from its cells alone."""
    rows = agent_rows(30)
    app = TableApp(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        drawn(table)
        await pilot.press("down", "down")
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        assert is_cursor_line(table, 3) and not is_cursor_line(table, 1)
        table.set_stale_rows(["a0003"])
        table.update_cells(time_cells(rows, 7))
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        assert dimmed(table.render_line(4))
        table.set_stale_rows([])
        table.stale = True
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        table.stale = False
        await pilot.press("up")
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        assert not dimmed(table.render_line(4)) and is_cursor_line(table, 2)


async def test_width_scroll_sort_and_filter_draw_as_from_cold() -> None:
    """After the table narrows and widens, scrolls, sorts and filters, every line is drawn
    as from its cells alone."""
    rows = agent_rows(60)
    app = TableApp(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        drawn(table)
        await pilot.resize_terminal(30, 12)
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        width = table.scrollable_content_region.width
        assert all(Strip(line).cell_length == width for line in drawn(table))
        await pilot.resize_terminal(60, 12)
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        table.scroll_to(y=25, animate=False)
        await pilot.pause()
        assert "Agent 0025" in Strip(assert_drawn_as_from_cold(table)[1]).text
        table.sort_by("calls", reverse=True)
        table.update_cells(time_cells(rows, 9))
        await pilot.pause()
        assert_drawn_as_from_cold(table)
        table.set_filter("not ready")
        await pilot.pause()
        filtered = assert_drawn_as_from_cold(table)
        assert all("Not ready" in Strip(line).text for line in filtered[1:])


async def test_a_theme_change_draws_every_line_in_the_new_colours() -> None:
    """A new theme redraws the header and rows in its colours, as from cold."""
    app = TableApp(agent_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        dark = drawn(table)
        app.theme = "textual-light"
        await pilot.pause()
        light = assert_drawn_as_from_cold(table)
        assert [Strip(line).text for line in light] == [Strip(line).text for line in dark]
        assert backgrounds(Strip(light[2])) != backgrounds(Strip(dark[2]))


async def test_a_dimmed_row_whose_clock_moved_dims_only_the_new_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a stale (dimmed) row, a new time cell is rendered and dimmed alone: the other
    cells are reused as drawn, not dimmed again segment by segment."""
    rows = agent_rows(10)
    app = TableApp(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        table.stale = True
        await pilot.pause()
        drawn(table)
        dimmed_again: list[str] = []
        original = live_table._piece

        def spy(console: Any, text: Text, *args: Any) -> Any:
            piece = original(console, text, *args)
            if args[-1] is not None:
                dimmed_again.extend(segment.text for segment in piece)
            return piece

        # Every cell drawn is drawn as its piece, the dimming laid on there (post_style).
        monkeypatch.setattr(live_table, "_piece", spy)
        table.update_cells({"a0003": {"time": Cell(safe("9:59"), 599)}})
        await pilot.pause()
        line = table.render_line(4)
        assert "9:59" in line.text and "Agent 0003" in line.text and dimmed(line)
        # The time column's piece: its gap, its padding and its text, nothing else.
        assert "".join(dimmed_again).strip() == "9:59"
        assert_drawn_as_from_cold(table)


async def test_rows_redrawn_dimmed_or_under_the_cursor_are_cached_like_the_others(
    count_renders: list[Mapping[str, Cell]],
) -> None:
    """Once drawn dimmed (the table stale) or with the cursor, a row is not rendered again
    at the next paint when nothing about it changed."""
    app = TableApp(agent_rows(20))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        table.stale = True
        await pilot.press("down")
        await pilot.pause()
        drawn(table)
        count_renders.clear()
        drawn(table)
        assert count_renders == []


PIECE_TEXTS = [
    Text("0:00:34", no_wrap=True, end=""),
    Text("", end=""),
    Text("12 ", end=""),
    Text("42", "dim", end=""),
    Text("n/a", style="dim italic"),
    Text("87%", Style(color="red", bold=True)),
    Text("-", Style(color="red", meta={"@click": "app.quit"})),
    Text("—", "dim"),
    Text("too long for it"),
]


@pytest.mark.parametrize("text", PIECE_TEXTS, ids=lambda text: repr(text.plain))
@pytest.mark.parametrize("align", ["left", "right"])
@pytest.mark.parametrize("post_style", [None, Style(dim=True), Style(color="blue", bgcolor="red")])
def test_a_plain_cell_is_drawn_as_the_general_path_draws_it(
    text: Text, align: live_table.Align, post_style: Style | None
) -> None:
    """A cell of one style is drawn without rendering its Text (each second's clocks), into
    exactly the segments the general path makes: same text, styles, padding, no meta."""
    console = App().console
    base = Style(color="white", bgcolor="black")
    for width in (len(text.plain), 8):
        drawn = live_table._piece(console, text, width, align, base, post_style)
        general = live_table._rendered_piece(console, text, width, align, base, post_style)
        assert drawn == general
