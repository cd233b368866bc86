"""Panels: each compiled widget view as a Textual widget that redraws itself from the store.

A panel knows which statisticIds it shows and turns their values into the plain data the
generic widgets take (table cells, a KPI figure, sparkline samples, state counts). On a
store change that touches it a panel redraws (a table only the touched cells); once a second
`tick()` moves the time-in-state of the agents on screen. Every string from the server or
the layout goes through `statdash.text.safe`/`clean` here before it reaches a widget.

Naming (spec -> view -> widget, see `statdash.layout.compile`): a panel is the page-level
Textual widget of one `XxxView` and is called `XxxPanel` (`TablePanel`, `KpiPanel`,
`StatesPanel`; a trend has one per style, `TrendPanel` for sparklines and `PlotPanel` for a
chart); it keeps its view as `self.view`. The drawing widgets it is built on, in
`statdash.ui.widgets`, have descriptive names instead (`LiveTable`, `KpiTile`, `TrendChart`,
`TrendPlot`, `StateSummary`) and know nothing of layouts. What a redraw needs besides the view
(store, clock, theme, styles, problems) is a `DrawContext`.
"""

from __future__ import annotations

import math
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Input

from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.layout.formats import (
    LOGGED_OUT,
    MISSING,
    NOT_AVAILABLE,
    STATE_STYLES,
    Level,
    StateStyle,
    duration,
    format_value,
    number_of,
)
from statdash.layout.views import (
    ClockView,
    ColumnView,
    KpiView,
    RowObject,
    StatesView,
    TableView,
    TextView,
    TopView,
    TrendView,
    View,
)
from statdash.layout.vocabulary import NUMERIC_FORMATS
from statdash.live.store import Store
from statdash.text import clean, safe
from statdash.ui.palette import colour_style, level_style
from statdash.ui.widgets.clock import ClockTile
from statdash.ui.widgets.kpi import KpiTile
from statdash.ui.widgets.leaderboard import Leaderboard, Place
from statdash.ui.widgets.live_table import Cell, LiveTable, TableColumn
from statdash.ui.widgets.plot import TrendPlot
from statdash.ui.widgets.states import StateSummary
from statdash.ui.widgets.text import TextTile
from statdash.ui.widgets.trend import SeriesInput, TrendChart, TrendSeries

NAME_COLUMN = "name"
NAME_WIDTH_BOUNDS = (8, 24)
# A table that pages itself (`page_rows:`) waits this long after a key pressed in it.
PAGING_PAUSE_SECONDS = 30.0
UNAVAILABLE = "n/a"
# The state column: glyph, space, the longest state word ("After call"), then a reason of
# up to 12 cells; it gives up the reason's cells before another column has to go.
STATE_WIDTH = 1 + 1 + 10 + 1 + 12
STATE_MIN_WIDTH = 1 + 1 + 10
TIME_IN_STATE_LABEL = "In state"
TIME_IN_STATE_WIDTH = len("10:00:00")
# A column measured by its content grows up to this (or its label) before its text is cut.
MAX_FIT_WIDTH = 20


@dataclass(frozen=True, slots=True)
class DrawContext:
    """What every panel needs to draw: the data, the clock, the styles and known problems."""

    store: Store
    wall_now: float
    theme: Theme
    state_style: Callable[[str], StateStyle]
    problems: Mapping[str, str]
    """statisticId -> why the server refused it (per-item errors at subscribe time)."""
    server_now: float | None = None
    """The server's clock as estimated (time in state counts to it); else `wall_now`."""
    numbered: Mapping[str, StateStyle] = field(default_factory=dict)
    """Styles by the status number a server sent (the layout's `states:` number keys)."""
    reasons: Mapping[str, str] = field(default_factory=dict)
    """Not-ready reason code -> the name shown (the layout's `reasons:`)."""


class Panel:
    """What the dashboard asks of every panel (a mixin, listed first, over a Textual widget)."""

    # Containers refuse to be maximized by default; a panel is exactly what `m` should fill.
    ALLOW_MAXIMIZE: ClassVar[bool | None] = True
    stat_ids: frozenset[str] = frozenset()

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        """Redraw the parts showing `changed` statistics (None: everything)."""
        raise NotImplementedError

    def tick(self, context: DrawContext) -> None:
        """Once a second: move anything that depends on the clock."""

    def set_stale(self, stale: bool) -> None:
        """Dim the panel (values kept) when its data is older than two intervals."""
        raise NotImplementedError


def _title(title: str | None, fallback: str) -> Text:
    return safe(title or fallback, max_length=60)


# --- Tables --------------------------------------------------------------------------------


def _column_key(column: ColumnView) -> str:
    return f"c{column.index}"


def _time_key(column: ColumnView) -> str:
    """The key of the time-in-state column drawn beside a state column."""
    return f"t{column.index}"


def _row_key(row: RowObject) -> str:
    return f"{row.type}:{row.id}"


def _judged_when_logged_out(column: ColumnView) -> bool:
    return column.thresholds is None or column.thresholds.when_logged_out


class TablePanel(Panel, Vertical):
    """An agents or queues table, with a filter line that `/` opens."""

    DEFAULT_CSS = """
    TablePanel {
        /* Its border is in statdash.tcss, with the other panels' frames. */
        height: 1fr;
        /* One row for the text: Input's own `:focus` rule draws a tall border, which on a
           one-row line leaves the border and hides the text; this rule is more specific. */
        & > Input, & > Input:focus {
            dock: bottom; height: 1; border: none; padding: 0 1; display: none;
        }
        & > Input.-open { display: block; }
    }
    """

    def __init__(self, view: TableView, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self._base_title = _title(view.title, "Agents" if view.kind == "agents" else "Queues")
        self.border_title = self._base_title
        self._title_shown = self._base_title
        self._rows = {_row_key(row): row for row in view.rows}
        self._state_columns = tuple(c for c in view.columns if c.format == "state")
        self._time_keys = frozenset(_time_key(column) for column in self._state_columns)
        # statisticId -> the (row key, column key) cells showing it (an id can be in several).
        self._keys_of: dict[str, list[tuple[str, str]]] = {}
        for row in view.rows:
            for column in view.columns:
                keys = [_column_key(column)]
                if column.format == "state":
                    keys.append(_time_key(column))
                for key in keys:
                    cell = (_row_key(row), key)
                    self._keys_of.setdefault(view.stat_id(row, column), []).append(cell)
        self.stat_ids = frozenset(self._keys_of)
        self._columns_by_key = {_column_key(column): column for column in view.columns}
        self._columns_by_key.update((_time_key(column), column) for column in self._state_columns)
        # An agent's own state decides whether thresholds judge its figures (not while it is
        # logged out, unless the layout asks): state statisticId -> its row, and the columns
        # to redraw when that state changes.
        self._row_states: dict[str, str] = {}
        self._state_of_row: dict[str, str] = {}
        self._spared_keys: tuple[str, ...] = ()
        if view.kind == "agents" and self._state_columns:
            agent_state = self._state_columns[0]
            for row in view.rows:
                stat_id = view.stat_id(row, agent_state)
                self._row_states.setdefault(stat_id, _row_key(row))
                self._state_of_row[_row_key(row)] = stat_id
            self._spared_keys = tuple(
                _column_key(c) for c in view.columns if not _judged_when_logged_out(c)
            )
        self._hidden_columns = 0
        self.table = LiveTable(self._table_columns())
        # Cells are built when the table needs them (drawn, sorted, filtered), from the
        # context of the latest redraw or tick: a 2,000-row table redraws only what is shown.
        self._latest_context: DrawContext | None = None
        self.table.set_cell_factory(self._lazy_cell)
        self.filter_input = Input(
            placeholder="filter: any text, or column:words (state:ready); enter to keep"
        )
        self._problem_text: str | None = None
        self._problems_read: Mapping[str, str] | None = None
        # `hide:` and `order: attention`: the rows left out now, and the columns whose
        # thresholds rank a row.
        self._hidden_rows: frozenset[str] = frozenset()
        self._judged_columns = tuple(
            column for column in view.columns if column.thresholds is not None
        )
        # When a key was last pressed in the table: a table that pages itself waits a while.
        self._last_key_at = -math.inf

    def _table_columns(self) -> list[TableColumn]:
        longest = max((len(row.label) for row in self.view.rows), default=8)
        low, high = NAME_WIDTH_BOUNDS
        name_label = "Agent" if self.view.kind == "agents" else "Name"
        columns = [TableColumn(NAME_COLUMN, name_label, max(low, min(high, longest)), 0)]
        for column in self.view.columns:
            label = clean(column.label, 30)
            if column.format == "state":
                columns.append(
                    TableColumn(
                        _column_key(column),
                        label,
                        column.width if column.fixed_width else max(STATE_WIDTH, len(label)),
                        column.priority,
                        min_width=None if column.fixed_width else STATE_MIN_WIDTH,
                        fit=not column.fixed_width,
                    )
                )
                columns.append(
                    TableColumn(
                        _time_key(column),
                        TIME_IN_STATE_LABEL,
                        TIME_IN_STATE_WIDTH,
                        column.priority,
                        "right",
                        fit=True,
                    )
                )
                continue
            columns.append(
                TableColumn(
                    _column_key(column),
                    label,
                    column.width if column.fixed_width else max(column.width, MAX_FIT_WIDTH),
                    column.priority,
                    "right" if column.format in NUMERIC_FORMATS else "left",
                    fit=not column.fixed_width,
                )
            )
        return columns

    def compose(self) -> ComposeResult:
        yield self.table
        yield self.filter_input

    # Drawing.

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        self._latest_context = context
        if changed is None:
            self.table.set_rows(
                {
                    key: {NAME_COLUMN: Cell(safe(row.label), row.label.lower())}
                    for key, row in self._rows.items()
                }
            )
            every_column = tuple(self._columns_by_key)
            self.table.invalidate_cells(dict.fromkeys(self._rows, every_column))
        else:
            stale: dict[str, list[str]] = {}
            for stat_id in changed & self.stat_ids:
                for row_key, column_key in self._keys_of[stat_id]:
                    stale.setdefault(row_key, []).append(column_key)
                if self._spared_keys and stat_id in self._row_states:
                    # Logged in or out: the row's levels may have changed with it.
                    stale.setdefault(self._row_states[stat_id], []).extend(self._spared_keys)
            if stale:
                self.table.invalidate_cells(stale)
        self._update_rows(context, changed)
        self._update_problems(context)
        self._update_counts()

    def _update_rows(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        """Hide the rows `hide:` names and rank rows for `order: attention`, for the rows
        whose values changed (every row when `changed` is None)."""
        view = self.view
        if not view.hidden_states and view.order != "attention":
            return
        if changed is None:
            rows: Iterable[str] = self._rows
        else:
            rows = {row for s in changed & self.stat_ids for row, _ in self._keys_of[s]}
        if view.hidden_states:
            hidden = set(self._hidden_rows)
            for row_key in rows:
                if self._in_hidden_state(context, row_key):
                    hidden.add(row_key)
                else:
                    hidden.discard(row_key)
            if hidden != self._hidden_rows:
                self._hidden_rows = frozenset(hidden)
                self.table.set_hidden_rows(hidden)
        if view.order == "attention":
            self.table.set_row_ranks({row_key: self._rank(context, row_key) for row_key in rows})

    def _in_hidden_state(self, context: DrawContext, row_key: str) -> bool:
        stat_id = self._state_of_row.get(row_key)
        state = context.store.get(stat_id) if stat_id is not None else None
        if not isinstance(state, AgentStateValue):
            return False
        hidden = self.view.hidden_states
        return state.status in hidden or str(state.status_code) in hidden

    def _rank(self, context: DrawContext, row_key: str) -> int:
        """-2 for a row with a cell at alarm, -1 at warning, else 0 (`order: attention`)."""
        row = self._rows[row_key]
        judged = self._judged(context, row_key)
        worst = Level.OK
        for column in self._judged_columns:
            level = cell_level(
                context.store.get(self.view.stat_id(row, column)), column, judged=judged
            )
            if level is Level.ALARM:
                return -2
            if level is Level.WARN:
                worst = level
        return -1 if worst is Level.WARN else 0

    def on_mount(self) -> None:
        """A table that pages itself (`page_rows:`) turns its page on a timer."""
        if self.view.page_every is not None:
            self.set_interval(self.view.page_every, self._turn_page)

    def on_resize(self, event: events.Resize) -> None:
        """The rows that fit changed: say so on the border once the table is laid out."""
        self.call_after_refresh(self._update_counts)

    def on_key(self, event: events.Key) -> None:
        """Someone is reading this table: it stops paging itself for a while."""
        self._last_key_at = time.monotonic()

    def _turn_page(self) -> None:
        if time.monotonic() - self._last_key_at < PAGING_PAUSE_SECONDS:
            return
        self.table.show_next_page()
        self._update_counts()

    def tick(self, context: DrawContext) -> None:
        self._latest_context = context
        if not self._state_columns:
            return
        # Only rows on screen: the time column sorts by when the state began, which the
        # clock does not move, so off-screen rows can wait until they are drawn (the cell
        # factory builds them from this context then). Of those, only the cells whose text
        # moved are given to the table, so only their lines are repainted and sent: a
        # logged-out agent's dash, or a time shown in minutes, costs nothing this second.
        table = self.table
        moved: dict[str, dict[str, Cell]] = {}
        for row_key in table.screen_row_keys():
            for column_key in self._time_keys:
                cell = self._lazy_cell(row_key, column_key)
                if table.get_cell(row_key, column_key) != cell:
                    moved.setdefault(row_key, {})[column_key] = cell
        if moved:
            table.update_cells(moved)

    def set_stale(self, stale: bool) -> None:
        self.table.stale = stale
        self.set_class(stale, "-stale")

    def _lazy_cell(self, row_key: str, column_key: str) -> Cell:
        """The table's cell factory: the cell drawn from the latest context."""
        assert self._latest_context is not None  # the table asks only after a redraw invalidated
        context = self._latest_context
        row = self._rows[row_key]
        column = self._columns_by_key[column_key]
        stat_id = self.view.stat_id(row, column)
        value = context.store.get(stat_id)
        if value is None and stat_id in context.problems:
            return Cell(Text(UNAVAILABLE, style="dim italic"), None)
        if column.format == "state" and isinstance(value, AgentStateValue):
            if column_key in self._time_keys:
                now = context.server_now if context.server_now is not None else context.wall_now
                return time_in_state_cell(value, now)
            return state_cell(value, context)
        if column_key in self._time_keys:
            return value_cell(None, column, context.theme)
        return value_cell(value, column, context.theme, judged=self._judged(context, row_key))

    def _judged(self, context: DrawContext, row_key: str) -> bool:
        """False for an agent who is logged out: its figures raise no level then."""
        stat_id = self._state_of_row.get(row_key)
        if stat_id is None:
            return True
        state = context.store.get(stat_id)
        return not (isinstance(state, AgentStateValue) and state.status == LOGGED_OUT)

    def _update_problems(self, context: DrawContext) -> None:
        if context.problems is self._problems_read:
            return  # the app replaces the mapping when problems change, never edits it
        self._problems_read = context.problems
        refused = [context.problems[s] for s in self.stat_ids if s in context.problems]
        text = None
        if refused:
            first = clean(refused[0], 60)
            text = f"{len(refused)} refused: {first}" if len(refused) > 1 else f"refused: {first}"
        if text != self._problem_text:
            self._problem_text = text
            self.border_subtitle = safe(text) if text else ""
            self.set_class(text is not None, "-problems")

    def _update_counts(self) -> None:
        table = self.table
        total = table.row_count - table.hidden_count
        shown = table.filtered_count
        title = self._base_title.copy()
        title.append(f" {shown}/{total}" if table.filter_text else f" {total}")
        if table.hidden_count:
            title.append(f" · {table.hidden_count} hidden", "dim")
        if self.view.page_every is not None:
            first, last, of = table.shown_rows
            if last - first + 1 < of:
                title.append(f" · rows {first}-{last} of {of}", "dim")
        hidden = self._hidden_columns
        if hidden:
            # The header may have no room left to say it; the border always has.
            title.append(f" · {hidden} column{'s' if hidden > 1 else ''} hidden", "dim")
        if title != self._title_shown:
            # Setting a title repaints the whole panel, every line and the chops of each
            # widget on them, even with the same words: under push that was each second.
            self._title_shown = title
            self.border_title = title

    def on_live_table_columns_fitted(self, event: LiveTable.ColumnsFitted) -> None:
        """Say in the border how many columns the width leaves out."""
        event.stop()
        if len(event.hidden) != self._hidden_columns:
            self._hidden_columns = len(event.hidden)
            self._update_counts()

    # Filtering and sorting (called by the app's actions).

    def open_filter(self) -> None:
        """Show the filter line and focus it."""
        self.filter_input.add_class("-open")
        self.filter_input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        event.stop()
        self.table.set_filter(event.value)
        self._update_counts()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter and go back to the table (an empty filter closes the line)."""
        event.stop()
        if not event.value:
            self.filter_input.remove_class("-open")
        self.table.focus()

    def clear_filter(self) -> bool:
        """Close the filter line and show all rows; False when there was nothing to clear."""
        if not self.filter_input.has_class("-open") and not self.table.filter_text:
            return False
        self.filter_input.value = ""
        self.filter_input.remove_class("-open")
        self.table.set_filter("")
        self._update_counts()
        self.table.focus()
        return True

    def sort_next(self) -> str:
        """Sort by the next visible column (name, then each column); returns its label."""
        keys = [column.key for column in self.table.visible_columns]
        current = self.table.sort_column
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        self.table.sort_by(following, reverse=False)
        return _label_of(self.table, following)

    def reverse_sort(self) -> str:
        """Flip the sort direction (sorting by the first column when unsorted)."""
        column = self.table.sort_column or NAME_COLUMN
        self.table.sort_by(column, reverse=not self.table.sort_reverse)
        return _label_of(self.table, column)


def _label_of(table: LiveTable, key: str) -> str:
    for column in table.columns:
        if column.key == key:
            return column.label
    return key


def state_cell(value: AgentStateValue, context: DrawContext) -> Cell:
    """`■ Not ready Lunch`: glyph and word in the state's colour, then the reason, dimmed.

    The table cuts the reason when the column is narrow; the time in state has its own
    column (`time_in_state_cell`).
    """
    numbered = (
        context.numbered.get(str(value.status_code)) if value.status_code is not None else None
    )
    style = numbered or context.state_style(value.status)
    colour = colour_style(style.colour, context.theme)
    text = Text(no_wrap=True, end="")
    text.append(style.glyph, colour)
    text.append(" ")
    text.append(clean(style.word, 20), colour + Style(bold=True))
    if value.reason:
        text.append(" ")
        text.append(clean(context.reasons.get(value.reason, value.reason), 40), "dim")
    # Sorted by state word, then longest in state first.
    return Cell(text, (style.word, value.since if value.since is not None else 0.0))


def time_in_state_cell(value: AgentStateValue, server_now: float) -> Cell:
    """`0:04:12`: how long the agent has been in its state at the server's clock
    `server_now`; sorts by that time (ascending: the latest to change state first, as the ▲
    in the header says)."""
    seconds = value.seconds_in_state(server_now)
    if seconds is None:
        return Cell(Text(MISSING, "dim", end=""), None)
    # Keyed on the state's start, not on `seconds`, so the order does not move with the clock.
    since = value.since
    return Cell(Text(duration(seconds), no_wrap=True, end=""), None if since is None else -since)


def cell_level(value: StatValue | None, column: ColumnView, *, judged: bool = True) -> Level:
    """The level a cell shows: its column's thresholds on the figure (OK when not `judged`,
    an agent logged out, unless the thresholds judge them anyway)."""
    if column.thresholds is not None and (judged or column.thresholds.when_logged_out):
        return column.thresholds.level(number_of(value))
    return Level.OK


def value_cell(
    value: StatValue | None, column: ColumnView, theme: Theme, *, judged: bool = True
) -> Cell:
    """A formatted figure; at a threshold level, coloured and marked with the level's glyph.

    With `judged` False (an agent who is logged out, for thresholds that spare them) the
    figure is shown without a level.
    """
    shown = format_value(value, column.format, decimals=column.decimals)
    number = number_of(value)
    level = cell_level(value, column, judged=judged)
    text = Text(shown, no_wrap=True, end="")
    if value is None:
        text.stylize("dim")
    elif value is NOT_AVAILABLE:
        # A formula without a value reads like a refused statistic: n/a, quiet.
        text.stylize("dim italic")
    if level is not Level.OK:
        text.append(level.glyph)
        text.stylize(level_style(level, theme))
    elif column.format in NUMERIC_FORMATS:
        # Keep figures aligned with and without a level glyph.
        text.append(" ")
    sort_key: float | str | None = number
    if number is None and value is not None:
        sort_key = shown.lower()
    return Cell(text, sort_key)


# --- KPI tiles -----------------------------------------------------------------------------


class KpiPanel(Panel, KpiTile):
    """One big figure with its threshold state and an optional trend."""

    def __init__(self, view: KpiView, *, id: str | None = None) -> None:
        super().__init__(view.title or view.label, id=id)
        self.view = view
        self.stat_ids = frozenset({view.stat_id})
        self.size_hint = kpi_size_hint(view)

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        view = self.view
        if view.stat_id in context.problems and context.store.get(view.stat_id) is None:
            self.set_problem(context.problems[view.stat_id])
            return
        self.set_problem(None)
        value = context.store.get(view.stat_id)
        level = view.thresholds.level(number_of(value)) if view.thresholds else Level.OK
        history = None
        if view.trend_window is not None:
            ring = context.store.history(view.stat_id)
            history = ring.values(since=context.wall_now - view.trend_window) if ring else []
        self.update_value(format_value(value, view.format, decimals=view.decimals), level, history)

    def set_stale(self, stale: bool) -> None:
        self.stale = stale


def kpi_size_hint(view: KpiView) -> str:
    """The widest figure a tile of this format usually shows, which sizes its digits."""
    if view.format == "duration":
        return "0:00:00"
    if view.format == "percent":
        return "100" + ("." + "8" * view.decimals if view.decimals else "") + "%"
    if view.format == "decimal":
        return "88." + "8" * max(1, view.decimals)
    return "888"


# --- Leaderboards --------------------------------------------------------------------------


class TopPanel(Panel, Leaderboard):
    """The first places of a ranking of objects by one statistic or formula (`kind: top`)."""

    def __init__(self, view: TopView, *, id: str | None = None) -> None:
        first = "Top" if view.descending else "Lowest"
        super().__init__(view.title or f"{first} {view.count} by {view.label}", id=id)
        self.view = view
        self.stat_ids = frozenset(view.stat_ids)

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        if changed is not None and not (changed & self.stat_ids):
            return
        view = self.view
        ranked = ranking(view, context.store)
        shown = ranked[: view.count]
        biggest = max((abs(number) for number, _, _ in shown), default=0.0) or 1.0
        places = []
        for number, row, value in shown:
            level = view.thresholds.level(number) if view.thresholds else Level.OK
            places.append(
                Place(
                    row.label,
                    format_value(value, view.format, decimals=view.decimals),
                    abs(number) / biggest,
                    level_style(level, context.theme),
                    level.glyph if level is not Level.OK else "",
                )
            )
        missing = len(view.rows) - len(ranked)
        note = ""
        if not ranked:
            note = "waiting for values"
        elif len(shown) < view.count and missing:
            note = f"{missing:,} of {len(view.rows):,} have no figure yet"
        self.set_places(places, note)

    def set_stale(self, stale: bool) -> None:
        self.stale = stale


def ranking(view: TopView, store: Store) -> list[tuple[float, RowObject, StatValue]]:
    """(figure, object, value) of every object with a figure, best first; ties keep the
    layout's order, so places do not swap while figures are equal."""
    entries: list[tuple[float, int, RowObject, StatValue]] = []
    for index, (row, stat_id) in enumerate(zip(view.rows, view.stat_ids, strict=True)):
        value = store.get(stat_id)
        number = number_of(value)
        if value is None or number is None or not math.isfinite(number):
            continue
        entries.append((number, index, row, value))
    entries.sort(key=lambda entry: (-entry[0] if view.descending else entry[0], entry[1]))
    return [(number, row, value) for number, _, row, value in entries]


# --- Trends --------------------------------------------------------------------------------


def _window_label(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"last {int(seconds // 3600)} h"
    return f"last {round(seconds / 60)} min"


def trend_series(view: TrendView, context: DrawContext) -> list[TrendSeries]:
    """Each series of a trend: its samples within the window and its current value."""
    since = context.wall_now - view.window
    axis = _axis_format(view)
    rows = []
    for series in view.series:
        ring = context.store.history(series.stat_id)
        samples = ring.values(since=since) if ring is not None else []
        value = context.store.get(series.stat_id)
        if value is None and series.stat_id in context.problems:
            current = UNAVAILABLE
        else:
            current = format_value(value, view.format, decimals=view.decimals)
        rows.append(TrendSeries(series.label, samples, current, axis))
    return rows


def _axis_format(view: TrendView) -> Callable[[float], str] | None:
    if view.format == "duration":
        return duration
    if view.format == "percent":
        decimals = view.decimals
        return lambda number: f"{number:.{decimals}f}%"
    return None


class _TrendPanel(Panel):
    """What the sparkline and the chart panels share: their series come from `trend_series`.

    A plain mixin, not a TrendChart subclass: Textual takes CSS types and component classes
    from the first widget base only, which must stay the panel's own widget (TrendPlot).
    """

    view: TrendView
    if TYPE_CHECKING:
        # Provided by the widget each panel is (TrendChart or TrendPlot).
        stale: bool

        def set_series(self, series: Sequence[SeriesInput]) -> None: ...

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        self.set_series(trend_series(self.view, context))

    def tick(self, context: DrawContext) -> None:
        # Samples age out of the window even when no value changes.
        self.redraw(context, None)

    def set_stale(self, stale: bool) -> None:
        self.stale = stale


class TrendPanel(_TrendPanel, TrendChart):
    """Sparklines of several statistics over the layout's window (`style: sparkline`)."""

    def __init__(self, view: TrendView, *, id: str | None = None) -> None:
        super().__init__(view.title or "Trend", window_label=_window_label(view.window), id=id)
        self.view = view
        self.stat_ids = frozenset(series.stat_id for series in view.series)


class PlotPanel(_TrendPanel, TrendPlot):
    """Several statistics on shared axes over the layout's window (`style: chart`)."""

    def __init__(self, view: TrendView, *, id: str | None = None) -> None:
        super().__init__(view.title or "Trend", window_label=_window_label(view.window), id=id)
        self.view = view
        self.stat_ids = frozenset(series.stat_id for series in view.series)


# --- State summary -------------------------------------------------------------------------

_STATE_ORDER = {status: index for index, status in enumerate(STATE_STYLES)}


class StatesPanel(Panel, StateSummary):
    """How many of the widget's agents are in each state."""

    def __init__(self, view: StatesView, *, id: str | None = None) -> None:
        super().__init__(view.title or "States", id=id)
        self.view = view
        self.stat_ids = frozenset(stat_id for _, stat_id in view.agents)

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        if changed is not None and not (changed & self.stat_ids):
            return
        self.set_counts(state_counts(context, (stat_id for _, stat_id in self.view.agents)))

    def set_stale(self, stale: bool) -> None:
        self.stale = stale


def state_counts(context: DrawContext, stat_ids: Iterable[str]) -> list[tuple[StateStyle, int]]:
    """(style, count) per status among these state statistics, in the canonical state order.

    An agent listed twice is counted twice; unknown statuses come last, by name.
    """
    counts: Counter[str] = Counter()
    for stat_id in stat_ids:
        value = context.store.get(stat_id)
        if isinstance(value, AgentStateValue):
            counts[value.status] += 1
    last = len(_STATE_ORDER)
    ordered = sorted(counts, key=lambda status: (_STATE_ORDER.get(status, last), status))
    return [(context.state_style(status), counts[status]) for status in ordered]


# --- Clock and text ------------------------------------------------------------------------


def clock_texts(view: ClockView, wall_now: float) -> tuple[str, str | None]:
    """The time ("13:05" or "13:05:42") and the date ("Tue 2 Dec 2026") of `wall_now`."""
    zone = zoneinfo.ZoneInfo(view.timezone) if view.timezone else None
    moment = datetime.fromtimestamp(wall_now, tz=zone)
    time_text = f"{moment:%H:%M:%S}" if view.seconds else f"{moment:%H:%M}"
    # Spelled out rather than strftime's %-d, which Windows lacks.
    date_text = f"{moment:%a} {moment.day} {moment:%b %Y}" if view.date else None
    return time_text, date_text


class ClockPanel(Panel, ClockTile):
    """The time of day (`kind: clock`), moved on by the app's once-a-second tick."""

    def __init__(self, view: ClockView, *, id: str | None = None) -> None:
        super().__init__(view.title or "", id=id)
        self.view = view

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        if changed is None:
            self.set_time(*clock_texts(self.view, context.wall_now))

    def tick(self, context: DrawContext) -> None:
        self.set_time(*clock_texts(self.view, context.wall_now))

    def set_stale(self, stale: bool) -> None:
        # The clock does not come from the server: old data does not make it wrong.
        return


class TextPanel(Panel, TextTile):
    """A message from the layout (`kind: text`); it never changes while the layout stays."""

    def __init__(self, view: TextView, *, id: str | None = None) -> None:
        super().__init__(view.title or "", id=id)
        self.view = view
        self.set_message(view.message)

    def redraw(self, context: DrawContext, changed: frozenset[str] | None) -> None:
        return

    def set_stale(self, stale: bool) -> None:
        return


# --- Factory -------------------------------------------------------------------------------


def make_panel(view: View, *, id: str | None = None) -> Widget:
    """The panel widget for one compiled layout widget."""
    if isinstance(view, TableView):
        return TablePanel(view, id=id)
    if isinstance(view, KpiView):
        return KpiPanel(view, id=id)
    if isinstance(view, TopView):
        return TopPanel(view, id=id)
    if isinstance(view, TrendView):
        return PlotPanel(view, id=id) if view.style == "chart" else TrendPanel(view, id=id)
    if isinstance(view, ClockView):
        return ClockPanel(view, id=id)
    if isinstance(view, TextView):
        return TextPanel(view, id=id)
    return StatesPanel(view, id=id)


__all__ = [
    "MISSING",
    "ClockPanel",
    "DrawContext",
    "KpiPanel",
    "NumberValue",
    "Panel",
    "PlotPanel",
    "StatesPanel",
    "TablePanel",
    "TextPanel",
    "TopPanel",
    "TrendPanel",
    "make_panel",
]
