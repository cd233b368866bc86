"""LiveTable: a keyed, sortable, filterable Line-API table that redraws only what changed.

DataTable spends ~0.4 s of event-loop time updating every cell of 2,000 rows and keeps the
cursor's index (not its row) when sorting. This widget renders only the lines on screen through
`render_line`, caches each row's Strip per row key, and on `update_cells` invalidates and
repaints just the changed rows, so an update costs in proportion to the change.

Cells can also be lazy: with a cell factory set, `invalidate_cells` only notes which cells
changed, and the factory builds each one when it is needed (its row is drawn, it is in the
sort column, the filter reads it, or `get_cell` asks), so a change to a row far off screen
costs nothing until the row comes into view. A repainted row re-renders only its changed
cells: each column's piece of the line (its gap and cell, styled, cursor and dimming laid
on) is kept per row, and the line is joined from the pieces, so a row whose clock moved
costs that one cell, not a restyle of every cell of the line.

It knows nothing about statistics: callers hand it `Cell`s whose `Text` they built with
`statdash.text.safe`. Strings are never parsed as markup here, and a `Text` that still holds
control characters is cleaned again before it can reach the terminal. A `Cell` is a value:
to change a cell, pass a new one (the table may keep what it rendered for the old one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from statdash.text import safe

Align = Literal["left", "right"]
SortKey = tuple[Any, ...] | float | str | None
CellFactory = Callable[[str, str], "Cell"]
"""(row key, column key) -> the cell as it should be shown now."""

_EMPTY = Text("", end="")
_NULL_STYLE = Style.null()
_BLANK = Segment(" ")
# Caps memory after a scroll through 50k rows; a miss only costs one row render. Least
# recently used goes first (Textual's LRUCache): the rows on screen are used at every paint
# and stay, those scrolled away go. (FIFOCache would evict rows still on screen, and has no
# way to drop one entry, which a changed row needs.)
_STRIP_CACHE_SIZE = 4096


_Value = TypeVar("_Value")


def _replace(cache: LRUCache[str, _Value], key: str, value: _Value) -> None:
    """Put `value` in `cache` under `key`, over any value already there: Textual's
    `LRUCache.set` keeps the old value of a key it holds, so a row redrawn for a new reason
    (the cursor, dimming) would be rendered again at every paint, never cached."""
    cache.discard(key)
    cache.set(key, value)


# A word of a cell, for `label:words` filters: letters and digits, so a glyph never counts.
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column: `width` cells of content; higher `priority` numbers are dropped first.

    A `fit` column is drawn only as wide as its label and the widest cell it has held, up to
    `width`, so no cells stand empty that another column could use. It never narrows again
    while the table lives: a column that jumped with every value would be hard to read.
    """

    key: str
    label: str
    width: int
    priority: int = 0
    align: Align = "left"
    min_width: int | None = None
    fit: bool = False

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"column {self.key!r}: width must be at least 1")
        if self.min_width is not None and not 1 <= self.min_width <= self.width:
            raise ValueError(f"column {self.key!r}: min_width must be between 1 and width")


@dataclass(frozen=True, slots=True)
class Cell:
    """What a table cell shows (`text`) and how it sorts (`sort_key`; None sorts last)."""

    text: Text
    sort_key: SortKey = None

    def __post_init__(self) -> None:
        # A str here would be a caller skipping safe(); fail where the cell is built.
        if not isinstance(self.text, Text):
            raise TypeError(f"Cell.text must be rich.text.Text, not {type(self.text).__name__}")


@dataclass(frozen=True, slots=True)
class PlacedColumn:
    """A visible column at its position on the line (after the one-cell gap before it)."""

    column: TableColumn
    x: int
    width: int


def fit_columns(
    columns: Sequence[TableColumn], available: int, widths: Mapping[str, int] | None = None
) -> tuple[PlacedColumn, ...]:
    """Which columns fit in `available` cells, and how wide each is drawn.

    Each column takes a one-cell gap plus its width (`widths[key]` when given, else its
    `width`). While they do not fit, columns with a `min_width` give up cells (least
    important first); when that is not enough the least important column (highest
    `priority`, rightmost on ties) is dropped. A dropped column that fits in the room left
    once the others are placed comes back (most important first): a column is hidden only
    when it really does not fit. The first column never drops; it is cropped as a last resort.
    """
    if not columns or available <= 0:
        return ()
    wanted = {column.key: column.width for column in columns}
    if widths is not None:
        wanted.update((key, width) for key, width in widths.items() if key in wanted)

    def least(column: TableColumn) -> int:
        if column.min_width is None:
            return wanted[column.key]
        return min(column.min_width, wanted[column.key])

    kept = list(columns)
    # Least important first: highest priority number, then rightmost.
    drop_order = sorted(
        range(1, len(columns)), key=lambda index: (-columns[index].priority, -index)
    )
    dropped: list[int] = []
    for candidate in [*drop_order, None]:
        needed = sum(wanted[column.key] + 1 for column in kept)
        slack = sum(wanted[column.key] - least(column) for column in kept)
        if needed - slack <= available:
            break
        if candidate is not None:
            kept.remove(columns[candidate])
            dropped.append(candidate)
    room = available - sum(wanted[column.key] + 1 for column in kept)
    for index in reversed(dropped):
        if wanted[columns[index].key] + 1 <= room:
            room -= wanted[columns[index].key] + 1
            kept.append(columns[index])
    kept.sort(key=columns.index)
    drawn = dict(wanted)
    excess = -room
    for index in [*drop_order, 0]:
        column = columns[index]
        if excess <= 0:
            break
        if column in kept:
            give = min(excess, wanted[column.key] - least(column))
            drawn[column.key] -= give
            excess -= give
    widths = drawn
    placed: list[PlacedColumn] = []
    x = 0
    for column in kept:
        width = min(widths[column.key], max(1, available - x - 1))
        placed.append(PlacedColumn(column, x + 1, width))
        x += width + 1
    return tuple(placed)


def _normalise_sort_key(value: SortKey) -> tuple[int, Any] | None:
    """A key that orders numbers, strings and tuples among themselves and NaN like None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, value)


def _cell_segments(
    console: Console, text: Text, width: int, align: Align, style: Style
) -> list[Segment]:
    """`text` as segments exactly `width` cells wide, ellipsised or padded, over `style`."""
    if not text.plain.isprintable():
        # A caller skipped safe(): re-clean so escapes and newlines never reach the terminal.
        # Spans are dropped because cleaning can change the string's length.
        text = safe(text.plain, style=text.style)
    length = text.cell_len
    if length > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
        length = text.cell_len
    if text.spans:
        rendered = [segment for segment in text.render(console) if segment.text]
    elif text.plain:
        # Text.render drops the base style when there are no spans.
        rendered = [Segment(text.plain, console.get_style(text.style, default=_NULL_STYLE))]
    else:
        rendered = []
    segments = list(Segment.apply_style(rendered, style))
    if any(segment.style is not None and segment.style.meta for segment in segments):
        # Meta could carry an `@click` action from a caller's Text; a table cell never acts.
        segments = [_without_meta(segment) for segment in segments]
    pad = width - length
    if pad > 0:
        padding = Segment(" " * pad, style)
        if align == "right":
            segments.insert(0, padding)
        else:
            segments.append(padding)
    return segments


def _without_meta(segment: Segment) -> Segment:
    text, style, control = segment
    if style is None or not style.meta:
        return segment
    return Segment(text, style.clear_meta_and_links(), control)


def _piece(
    console: Console,
    text: Text,
    width: int,
    align: Align,
    style: Style,
    post_style: Style | None,
) -> list[Segment]:
    """One column of a line as it is drawn: the one-cell gap before it, then `text` exactly
    `width` cells wide, over `style` with `post_style` (cursor, dim) laid on top, simplified.

    A line is its pieces joined (`_join_pieces`), so a piece rendered once is reused as long
    as its cell and the row's styles stay the same.
    """
    plain = text.plain
    if not text.spans and len(plain) <= width and plain.isprintable() and plain.isascii():
        # A cell of one style that fits (a clock, a figure): the segments the general path
        # below makes of it, without rendering a Text (each second's clocks take this path).
        own = console.get_style(text.style, default=_NULL_STYLE) if text.style else None
        piece = _plain_piece(plain, width, align, style, own, post_style)
        if not any(segment.style is not None and segment.style.meta for segment in piece):
            return piece
    return _rendered_piece(console, text, width, align, style, post_style)


def _rendered_piece(
    console: Console,
    text: Text,
    width: int,
    align: Align,
    style: Style,
    post_style: Style | None,
) -> list[Segment]:
    """`_piece` of any cell: its Text rendered, styled, padded and simplified."""
    segments = [Segment(" ", style), *_cell_segments(console, text, width, align, style)]
    if post_style is not None:
        segments = list(Segment.apply_style(segments, post_style=post_style))
    return list(Segment.simplify(segments))


def _plain_piece(
    plain: str,
    width: int,
    align: Align,
    style: Style,
    own: Style | None,
    post_style: Style | None,
) -> list[Segment]:
    """`_piece` of an ASCII text of one style (`own`, None for none) that fits `width`: the
    gap and padding over `style`, the text over `style + own`, `post_style` on all, simplified."""
    outer = style if post_style is None else style + post_style
    inner = outer if own is None else style + own
    if own is not None and post_style is not None:
        inner = inner + post_style
    pad = " " * (width - len(plain))
    if inner == outer or not plain:
        return [Segment(f" {pad}{plain}" if align == "right" else f" {plain}{pad}", outer)]
    if align == "right":
        lead, tail = " " + pad, ""
    else:
        lead, tail = " ", pad
    pieces = [Segment(lead, outer), Segment(plain, inner)]
    if tail:
        pieces.append(Segment(tail, outer))
    return pieces


def _join_pieces(pieces: Iterable[list[Segment]]) -> list[Segment]:
    """The pieces one after the other, a piece's first segment merged into the last one
    before it when they share a style: the line comes out as `Segment.simplify` of the
    whole would make it, at the cost of one comparison per piece, not one per segment."""
    line: list[Segment] = []
    for piece in pieces:
        if not piece:
            continue
        if line:
            last, first = line[-1], piece[0]
            if last.style == first.style and not last.control and not first.control:
                line[-1] = Segment(last.text + first.text, last.style)
                line.extend(piece[1:])
                continue
        line.extend(piece)
    return line


# A row's rendered pieces: the context they were rendered in (layout generation, width,
# row style, post style) and, per column key, the cell each piece shows (None for an empty
# cell) and the piece. A change of context drops them all; a cell is re-rendered when the
# row holds a different `Cell` object for it (cells are values, replaced to change).
_RowPieces = tuple[tuple[object, ...], dict[str, tuple[Cell | None, list[Segment]]]]


class LiveTable(ScrollView, can_focus=True):
    """A keyed table for live data: fixed header, row cursor, sort, filter, precise redraws."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "cursor_home", "First row", show=False),
        Binding("end,ctrl+end", "cursor_end", "Last row", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "live-table--header",
        "live-table--cursor",
        "live-table--stale",
    }
    """
    | Class | Description |
    | :- | :- |
    | `live-table--header` | The fixed header line. |
    | `live-table--cursor` | The cursor row. |
    | `live-table--stale` | Laid over every line while `stale`, and over stale rows. |
    """

    DEFAULT_CSS = """
    LiveTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;

        & > .live-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        &:ansi > .live-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .live-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .live-table--stale {
            text-style: dim;
        }
    }
    """

    stale: reactive[bool] = reactive(False)
    """Every line is drawn dimmed (values kept) while True, e.g. when the data stopped arriving."""

    class CursorMoved(Message):
        """The cursor is on a different row (`row_key` None when the table is empty)."""

        def __init__(self, row_key: str | None, table: LiveTable) -> None:
            self.row_key = row_key
            self.table = table
            super().__init__()

        @property
        def control(self) -> LiveTable:
            """The table the cursor moved in."""
            return self.table

    class ColumnsFitted(Message):
        """The columns were fitted to the width again; `hidden` are the keys left out."""

        def __init__(self, hidden: tuple[str, ...], table: LiveTable) -> None:
            self.hidden = hidden
            self.table = table
            super().__init__()

        @property
        def control(self) -> LiveTable:
            """The table whose columns were fitted."""
            return self.table

    class SortChanged(Message):
        """The table is now sorted by `column_key` (descending when `reverse`)."""

        def __init__(self, column_key: str, reverse: bool, table: LiveTable) -> None:
            self.column_key = column_key
            self.reverse = reverse
            self.table = table
            super().__init__()

        @property
        def control(self) -> LiveTable:
            """The table that was sorted."""
            return self.table

    def __init__(
        self,
        columns: Iterable[TableColumn] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns: tuple[TableColumn, ...] = ()
        self._layout: tuple[PlacedColumn, ...] = ()
        self._layout_width = -1
        self._layout_generation = 0
        # Widest cell held so far per `fit` column (see TableColumn), and whether that grew
        # past what the current layout was fitted with.
        self._measured: dict[str, int] = {}
        self._fit_keys: frozenset[str] = frozenset()
        self._widths_grew = False
        self._rows: dict[str, dict[str, Cell]] = {}
        self._versions: dict[str, int] = {}
        # Row order: `_sorted` holds every row key, `_order` the ones passing the filter.
        self._sorted: list[str] = []
        self._order: list[str] = []
        self._position: dict[str, int] = {}
        self._by_key: list[str] | None = None
        self._sort_column: str | None = None
        self._sort_reverse = False
        self._sort_values: dict[str, tuple[int, Any] | None] = {}
        self._sort_dirty = False
        self._order_dirty = False
        self._order_scheduled = False
        self._filter = ""
        self._column_query: tuple[str, tuple[str, ...]] | None = None
        self._haystacks: dict[str, str] = {}
        self._stale_rows: frozenset[str] = frozenset()
        # Rows left out whatever the filter (e.g. agents logged out), and each row's rank:
        # lower ranks come first, before the sort (0 when not given).
        self._hidden: frozenset[str] = frozenset()
        self._ranks: dict[str, int] = {}
        self._cursor_key: str | None = None
        self._cursor_index = 0
        self._strips: LRUCache[str, tuple[tuple[object, ...], Strip]] = LRUCache(_STRIP_CACHE_SIZE)
        # The pieces each row's line was last joined from (see `_RowPieces`), so a row whose
        # one cell changed (a clock each second) renders that cell only and joins the line
        # from the others as they were (bounded like `_strips`).
        self._cell_renders: LRUCache[str, _RowPieces] = LRUCache(_STRIP_CACHE_SIZE)
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._cell_factory: CellFactory | None = None
        # Lazy cells not built yet: row key -> column keys (see `invalidate_cells`).
        self._pending: dict[str, set[str]] = {}
        self._styles_now: tuple[Style, Style, Style, Style] | None = None
        self.set_columns(columns)

    # ------------------------------------------------------------------ public API

    @property
    def columns(self) -> tuple[TableColumn, ...]:
        """All columns, in the order given to `set_columns`."""
        return self._columns

    @property
    def visible_columns(self) -> tuple[TableColumn, ...]:
        """The columns that fit at the current width, left to right."""
        return tuple(placed.column for placed in self._layout)

    @property
    def hidden_column_keys(self) -> tuple[str, ...]:
        """Keys of the columns dropped because the table is too narrow."""
        shown = {placed.column.key for placed in self._layout}
        return tuple(column.key for column in self._columns if column.key not in shown)

    @property
    def row_count(self) -> int:
        """Number of rows held, filtered or not."""
        return len(self._rows)

    @property
    def filtered_count(self) -> int:
        """Number of rows passing the filter (all rows when there is none)."""
        self._ensure_order()
        return len(self._order)

    @property
    def hidden_count(self) -> int:
        """Number of rows left out by `set_hidden_rows`."""
        return len(self._hidden)

    @property
    def filter_text(self) -> str:
        """The current filter ('' when none)."""
        return self._filter

    @property
    def sort_column(self) -> str | None:
        """The key of the column rows are sorted by (None: in the order they were given)."""
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        """True when sorted descending."""
        return self._sort_reverse

    @property
    def cursor_row_key(self) -> str | None:
        """The key of the row under the cursor (None when no row is shown)."""
        self._ensure_order()
        return self._cursor_key

    @property
    def stale_rows(self) -> frozenset[str]:
        """Rows drawn dimmed on their own (see `set_stale_rows`)."""
        return self._stale_rows

    def visible_row_keys(self) -> list[str]:
        """Keys of the rows passing the filter, in display (sorted) order."""
        self._ensure_order()
        return list(self._order)

    def screen_row_keys(self) -> list[str]:
        """Keys of the rows currently on screen, top to bottom."""
        self._ensure_order()
        top = self._top_index
        return self._order[top : top + self._body_height]

    def get_cell(self, row_key: str, column_key: str) -> Cell | None:
        """The cell at (`row_key`, `column_key`), or None when there is none."""
        if row_key not in self._rows:
            return None
        return self._row_cells(row_key).get(column_key)

    def move_cursor(self, row_key: str) -> bool:
        """Put the cursor on `row_key` and scroll it into view; False if the row is not shown."""
        self._ensure_order()
        index = self._position.get(row_key)
        if index is None:
            return False
        self._move_cursor_to(index)
        return True

    def set_columns(self, columns: Iterable[TableColumn]) -> None:
        """Replace the column definitions (row data is kept)."""
        new_columns = tuple(columns)
        keys = [column.key for column in new_columns]
        if len(set(keys)) != len(keys):
            raise ValueError("column keys must be unique")
        self._columns = new_columns
        self._fit_keys = frozenset(column.key for column in new_columns if column.fit)
        self._measured = {
            column.key: safe(column.label).cell_len for column in new_columns if column.fit
        }
        if self._sort_column is not None and self._sort_column not in keys:
            self._sort_column = None
        # `label:words` names a column by its label: look it up among the new columns.
        self._column_query = self._parse_column_query(self._filter)
        self._order_dirty = self._order_dirty or bool(self._filter)
        self._layout_width = -1
        self._relayout()
        self.refresh()

    def set_rows(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """Replace every row; the cursor stays on its row key when that row survives."""
        self._rows = {key: dict(cells) for key, cells in rows.items()}
        if self._fit_keys:
            for cells in self._rows.values():
                self._measure(cells)
        generation = max(self._versions.values(), default=0) + 1
        self._versions = dict.fromkeys(self._rows, generation)
        self._pending.clear()
        self._strips.clear()
        self._cell_renders.clear()
        self._haystacks.clear()
        self._by_key = None
        self._stale_rows = self._stale_rows & self._rows.keys()
        self._sorted = list(self._rows)
        self._recompute_sort_values()
        self._hidden &= self._rows.keys()
        self._ranks = {key: rank for key, rank in self._ranks.items() if key in self._rows}
        self._sort_dirty = self._sort_column is not None or bool(self._ranks)
        self._order_dirty = True
        self._ensure_order()
        self.refresh()

    def update_cells(self, changes: Mapping[str, Mapping[str, Cell]]) -> None:
        """Change only these cells; unknown row keys are added as new rows.

        Costs in proportion to the changes: the changed rows' cached lines are dropped and
        only those on screen are repainted. Re-sorting (when a sort-column value moved) and
        re-filtering are deferred so several updates before a refresh share one pass.
        """
        rows = self._rows
        versions = self._versions
        strips = self._strips
        sort_column = self._sort_column
        filtering = bool(self._filter)
        visible_keys = self._searched_keys()
        position = self._position
        pending = self._pending
        repaint: dict[int, set[str]] = {}
        for row_key, cells in changes.items():
            if not cells:
                continue
            waiting = pending.get(row_key)
            if waiting is not None:
                # These cells are given now: the factory must not overwrite them later.
                waiting.difference_update(cells)
                if not waiting:
                    del pending[row_key]
            row = rows.get(row_key)
            if row is None:
                row = rows[row_key] = {}
                self._sorted.append(row_key)
                self._by_key = None
                self._order_dirty = True
                if sort_column is not None:
                    self._sort_dirty = True
            row.update(cells)
            if self._fit_keys:
                self._measure(cells)
            versions[row_key] = versions.get(row_key, 0) + 1
            strips.discard(row_key)
            if sort_column is not None and sort_column in cells:
                value = _normalise_sort_key(cells[sort_column].sort_key)
                if self._sort_values.get(row_key) != value or row_key not in self._sort_values:
                    self._sort_values[row_key] = value
                    self._sort_dirty = True
            self._haystacks.pop(row_key, None)
            if (
                filtering
                and not visible_keys.isdisjoint(cells)
                and self._matches(row_key) != (row_key in position)
            ):
                self._order_dirty = True
            index = position.get(row_key)
            if index is not None:
                repaint.setdefault(index, set()).update(cells)
        if self._sort_dirty or self._order_dirty or self._widths_grew:
            # Rows may move anywhere (or columns widen): repaint the screen (cached strips
            # make that cheap).
            self._schedule_order()
            self.refresh()
        else:
            self._refresh_cells(repaint)

    def set_cell_factory(self, factory: CellFactory | None) -> None:
        """Where `invalidate_cells` gets cells from; None builds the pending ones now."""
        if factory is None:
            for row_key in list(self._pending):
                self._row_cells(row_key)
        self._cell_factory = factory

    def invalidate_cells(self, changes: Mapping[str, Iterable[str]]) -> None:
        """These cells changed; the cell factory builds each one only when it is needed.

        Needed means: its row is drawn, it is in the sort column, the filter reads it, or
        `get_cell` asks for it. Those in the sort column (and, while a filter is set, those
        the filter reads) are built at once, since they decide where rows go. Unknown row
        keys are ignored: add rows with `set_rows` or `update_cells`.
        """
        if self._cell_factory is None:
            raise RuntimeError("invalidate_cells needs a cell factory (set_cell_factory)")
        rows = self._rows
        pending = self._pending
        versions = self._versions
        strips = self._strips
        haystacks = self._haystacks
        position = self._position
        sort_column = self._sort_column
        searched = self._searched_keys()
        now: dict[str, dict[str, Cell]] = {}
        repaint: dict[int, set[str]] = {}
        for row_key, column_keys in changes.items():
            if row_key not in rows:
                continue
            keys = set(column_keys)
            if not keys:
                continue
            urgent = keys & searched
            if sort_column in keys:
                urgent.add(sort_column)
            if urgent:
                now[row_key] = {key: self._cell_factory(row_key, key) for key in urgent}
                keys -= urgent
                if not keys:
                    continue
            waiting = pending.get(row_key)
            if waiting is None:
                pending[row_key] = keys
            else:
                waiting |= keys
            versions[row_key] = versions.get(row_key, 0) + 1
            strips.discard(row_key)
            haystacks.pop(row_key, None)
            index = position.get(row_key)
            if index is not None:
                repaint.setdefault(index, set()).update(keys)
        if now:
            self.update_cells(now)
        self._refresh_cells(repaint)

    @property
    def pending_cell_count(self) -> int:
        """How many invalidated cells have not been built yet."""
        return sum(len(keys) for keys in self._pending.values())

    def _row_cells(self, row_key: str) -> dict[str, Cell]:
        """The row's cells, after building any that are pending."""
        row = self._rows.get(row_key)
        if row is None:
            return {}
        waiting = self._pending.pop(row_key, None)
        if waiting:
            factory = self._cell_factory
            assert factory is not None  # cells only wait while there is a factory
            for column_key in waiting:
                row[column_key] = factory(row_key, column_key)
            if self._fit_keys:
                self._measure(row)
        return row

    def _measure(self, cells: Mapping[str, Cell]) -> None:
        """Note the widths of these cells in `fit` columns (see TableColumn)."""
        measured = self._measured
        grew = False
        for key in self._fit_keys.intersection(cells):
            width = cells[key].text.cell_len
            if width > measured[key]:
                measured[key] = width
                grew = True
        if grew and not self._widths_grew:
            self._widths_grew = True
            if self.is_attached:
                # Cells are often built while a pass paints (lazily): fit, then paint again.
                self.call_later(self.refresh)

    def _drawn_widths(self) -> dict[str, int]:
        """How wide each `fit` column wants to be: its label and widest cell, up to `width`."""
        return {
            column.key: min(column.width, self._measured[column.key])
            for column in self._columns
            if column.fit
        }

    def remove_rows(self, keys: Iterable[str]) -> None:
        """Remove these rows (unknown keys are ignored)."""
        removed = {key for key in keys if key in self._rows}
        if not removed:
            return
        for key in removed:
            del self._rows[key]
            self._versions.pop(key, None)
            self._pending.pop(key, None)
            self._strips.discard(key)
            self._cell_renders.discard(key)
            self._haystacks.pop(key, None)
            self._sort_values.pop(key, None)
        self._sorted = [key for key in self._sorted if key not in removed]
        self._by_key = None
        self._stale_rows = self._stale_rows - removed
        self._hidden = self._hidden - removed
        for key in removed:
            self._ranks.pop(key, None)
        self._order_dirty = True
        self._ensure_order()
        self.refresh()

    def sort_by(self, column_key: str, reverse: bool = False) -> None:
        """Sort rows by the column's `Cell.sort_key` (None last, ties by row key).

        The cursor stays on the same row key, scrolled into view.
        """
        if column_key not in {column.key for column in self._columns}:
            raise KeyError(column_key)
        self._sort_column = column_key
        self._sort_reverse = reverse
        # The sort column may widen for its arrow.
        self._layout_width = -1
        self._relayout()
        self._recompute_sort_values()
        self._sort_dirty = True
        self._order_dirty = True
        self._ensure_order()
        self._scroll_to_index(self._cursor_index)
        self.refresh()
        self.post_message(self.SortChanged(column_key, reverse, self))

    def toggle_sort(self, column_key: str) -> None:
        """Sort by this column ascending, or flip the direction if it is already the sort."""
        reverse = not self._sort_reverse if self._sort_column == column_key else False
        self.sort_by(column_key, reverse)

    def set_filter(self, text: str) -> None:
        """Show only rows whose visible cells contain `text` (case-insensitive); '' shows all.

        `label:words` (e.g. `state:ready`), where `label` is a column's label, shows only
        rows whose cell in that column begins with those whole words: `state:ready` keeps
        Ready agents and drops Not ready ones, `state:not ready` the reverse.
        """
        needle = text.casefold()
        if needle == self._filter:
            return
        self._filter = needle
        self._column_query = self._parse_column_query(needle)
        self._haystacks.clear()
        self._order_dirty = True
        self._ensure_order()
        self._scroll_to_index(self._cursor_index)
        self.refresh()

    def set_hidden_rows(self, keys: Iterable[str]) -> None:
        """Leave exactly these rows out (before any filter); unknown keys are ignored."""
        hidden = frozenset(keys) & self._rows.keys()
        if hidden == self._hidden:
            return
        self._hidden = hidden
        self._order_dirty = True
        self._schedule_order()
        self.refresh()

    def set_row_ranks(self, ranks: Mapping[str, int]) -> None:
        """Set these rows' ranks (others keep theirs): rows of a lower rank come first, each
        rank in the sort's order (or the rows' own order when unsorted)."""
        moved = False
        for key, rank in ranks.items():
            if key not in self._rows or self._ranks.get(key, 0) == rank:
                continue
            moved = True
            if rank:
                self._ranks[key] = rank
            else:
                del self._ranks[key]
        if moved:
            self._sort_dirty = True
            self._schedule_order()
            self.refresh()

    def set_stale_rows(self, keys: Iterable[str]) -> None:
        """Draw exactly these rows dimmed (on top of the whole-table `stale`)."""
        new = frozenset(keys) & self._rows.keys()
        changed = new ^ self._stale_rows
        self._stale_rows = new
        self._refresh_indices(
            [index for key in changed if (index := self._position.get(key)) is not None]
        )

    # ------------------------------------------------------------------ ordering

    def _recompute_sort_values(self) -> None:
        column = self._sort_column
        if column is None:
            self._sort_values = {}
            return
        for row_key, waiting in list(self._pending.items()):
            if column in waiting:
                self._row_cells(row_key)
        values: dict[str, tuple[int, Any] | None] = {}
        for key, row in self._rows.items():
            cell = row.get(column)
            values[key] = None if cell is None else _normalise_sort_key(cell.sort_key)
        self._sort_values = values

    def _schedule_order(self) -> None:
        """Re-sort/re-filter once, soon, however many updates arrive before then."""
        if self._order_scheduled:
            return
        self._order_scheduled = True
        if self.is_attached:
            self.call_later(self._apply_scheduled_order)
        else:
            self._apply_scheduled_order()

    def _apply_scheduled_order(self) -> None:
        # Usually runs before the next paint, so the virtual size is not changed mid-render.
        self._order_scheduled = False
        self._ensure_order()

    def _ensure_order(self) -> None:
        """Bring `_order`, `_position`, the cursor and the virtual size up to date."""
        if self._sort_dirty:
            self._sort_dirty = False
            self._order_dirty = True
            self._sort_rows()
        if not self._order_dirty:
            return
        self._order_dirty = False
        hidden = self._hidden
        if self._filter:
            self._order = [k for k in self._sorted if k not in hidden and self._matches(k)]
        elif hidden:
            self._order = [key for key in self._sorted if key not in hidden]
        else:
            self._order = list(self._sorted)
        self._position = {key: index for index, key in enumerate(self._order)}
        self._restore_cursor()
        self._update_virtual_size()

    def _sort_rows(self) -> None:
        ordered = list(self._rows) if self._sort_column is None else self._sorted_by_column()
        if self._ranks:
            ranks = self._ranks
            # Stable: within a rank, rows keep the sort's order.
            ordered.sort(key=lambda key: ranks.get(key, 0))
        self._sorted = ordered

    def _sorted_by_column(self) -> list[str]:
        """Every row by the sort column's values (rows without one last)."""
        if self._by_key is None:
            self._by_key = sorted(self._rows)
        values = self._sort_values
        present_values: dict[str, tuple[int, Any]] = {}
        missing: list[str] = []
        for key in self._by_key:
            value = values.get(key)
            if value is None:
                missing.append(key)
            else:
                present_values[key] = value
        present = list(present_values)
        # Pre-ordered by row key, and Python's sort is stable even with reverse=True, so ties
        # stay in row-key order in both directions.
        try:
            present.sort(key=present_values.__getitem__, reverse=self._sort_reverse)
        except TypeError:
            # Incomparable keys inside tuples: order by their text rather than fail the redraw.
            present.sort(key=lambda key: repr(present_values[key]), reverse=self._sort_reverse)
        return present + missing

    def _parse_column_query(self, needle: str) -> tuple[str, tuple[str, ...]] | None:
        """(column key, words) for `label:words` naming a column; None for plain text."""
        label, colon, value = needle.partition(":")
        if not colon:
            return None
        label = label.strip()
        for column in self._columns:
            if column.label.casefold() == label:
                return column.key, tuple(_WORD.findall(value))
        return None

    def _searched_keys(self) -> set[str]:
        """The columns whose cells decide whether a row passes the filter."""
        if not self._filter:
            return set()
        if self._column_query is not None:
            return {self._column_query[0]}
        return {placed.column.key for placed in self._layout}

    def _matches(self, row_key: str) -> bool:
        query = self._column_query
        if query is not None:
            column_key, words = query
            cell = self._row_cells(row_key).get(column_key)
            found = _WORD.findall(cell.text.plain.casefold()) if cell is not None else []
            return tuple(found[: len(words)]) == words
        haystack = self._haystacks.get(row_key)
        if haystack is None:
            row = self._row_cells(row_key)
            # A separator that cannot be typed keeps a match from spanning two cells.
            haystack = "\x00".join(
                cell.text.plain.casefold()
                for placed in self._layout
                if (cell := row.get(placed.column.key)) is not None
            )
            self._haystacks[row_key] = haystack
        return self._filter in haystack

    def _restore_cursor(self) -> None:
        old_key = self._cursor_key
        index = self._position.get(old_key) if old_key is not None else None
        if index is None:
            # The cursor row left (removed or filtered out): stay at the same height.
            index = min(self._cursor_index, len(self._order) - 1)
        self._cursor_index = max(0, index)
        new_key = self._order[self._cursor_index] if self._order else None
        self._cursor_key = new_key
        if new_key != old_key:
            self.post_message(self.CursorMoved(new_key, self))

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(max(self._layout_width, 0), len(self._order) + 1)

    # ------------------------------------------------------------------ geometry

    @property
    def _body_height(self) -> int:
        """Lines available for rows (the header takes one)."""
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def _top_index(self) -> int:
        """Index (in display order) of the first row on screen."""
        return int(self.scroll_offset.y)

    def _relayout(self) -> bool:
        """Fit the columns to the content width; True if the width (or a column's) changed."""
        width = self.scrollable_content_region.width if self.is_attached else 0
        if width == self._layout_width and not self._widths_grew:
            return False
        self._layout_width = width
        self._widths_grew = False
        layout = self._fit_with_arrow(width, self._drawn_widths())
        if layout != self._layout:
            hidden_before = self.hidden_column_keys
            self._layout = layout
            self._layout_generation += 1
            # The filter searches what is shown, and that just changed.
            self._haystacks.clear()
            if self._filter:
                self._order_dirty = True
            if self.hidden_column_keys != hidden_before or self._layout_generation == 1:
                self._announce_fit()
        self.clear_render_cache()
        if self._order_dirty:
            self._ensure_order()
        else:
            self._update_virtual_size()
        return True

    def _fit_with_arrow(self, width: int, widths: dict[str, int]) -> tuple[PlacedColumn, ...]:
        """The columns fitted to `width`, the sort column two cells wider for its arrow when
        that costs no other column a cell (else its label is cut for the arrow)."""
        layout = fit_columns(self._columns, width, widths)
        placed = next((p for p in layout if p.column.key == self._sort_column), None)
        if placed is None:
            return layout
        arrowed = safe(placed.column.label).cell_len + 2
        if arrowed <= placed.width:
            return layout
        wider = fit_columns(self._columns, width, {**widths, placed.column.key: arrowed})
        others = [(p.column.key, p.width) for p in layout if p is not placed]
        if [(p.column.key, p.width) for p in wider if p.column.key != placed.column.key] != others:
            return layout
        return wider

    def _announce_fit(self) -> None:
        if not self.is_attached:
            return
        # Posted from the table's own turn: a message made while the screen paints has the
        # screen as its sender and would not bubble past it.
        self.call_later(
            lambda: self.post_message(self.ColumnsFitted(self.hidden_column_keys, self))
        )

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width."""
        self._relayout()
        self._scroll_to_index(self._cursor_index)
        self.refresh()

    def on_mount(self) -> None:
        """Lay out columns once the widget has a size."""
        self._relayout()

    def _refresh_cells(self, cells: Mapping[int, Collection[str]]) -> None:
        """Repaint these cells (column keys by row index) that are on screen, and nothing
        else: the compositor then renders and sends those cells, not their whole lines (a
        time in state moving each second costs its own few cells, not 200 columns)."""
        top = self._top_index
        height = self._body_height
        regions = [
            Region(placed.x, 1 + index - top, placed.width, 1)
            for index, keys in cells.items()
            if top <= index < top + height
            for placed in self._layout
            if placed.column.key in keys
        ]
        if regions:
            self.refresh(*regions)

    def _refresh_indices(self, indices: Iterable[int]) -> None:
        """Repaint the lines of these rows that are on screen, and nothing else."""
        top = self._top_index
        height = self._body_height
        width = max(self.size.width, 1)
        regions = [
            Region(0, 1 + index - top, width, 1)
            for index in sorted(set(indices))
            if top <= index < top + height
        ]
        if regions:
            self.refresh(*regions)

    # ------------------------------------------------------------------ cursor

    def _move_cursor_to(self, index: int) -> None:
        self._ensure_order()
        if not self._order:
            return
        index = max(0, min(index, len(self._order) - 1))
        old_index = self._cursor_index
        old_key = self._cursor_key
        self._cursor_index = index
        self._cursor_key = self._order[index]
        self._refresh_indices((old_index, index))
        self._scroll_to_index(index)
        if self._cursor_key != old_key:
            self.post_message(self.CursorMoved(self._cursor_key, self))

    def _scroll_to_index(self, index: int) -> None:
        """Scroll the least needed to show row `index` below the header."""
        if not self._order:
            return
        top = self._top_index
        height = self._body_height
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, force=True)

    def action_cursor_up(self) -> None:
        """Move the cursor one row up."""
        self._move_cursor_to(self._cursor_index - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor one row down."""
        self._move_cursor_to(self._cursor_index + 1)

    def action_page_up(self) -> None:
        """Move the cursor and the view one screen up."""
        page = self._body_height
        self.scroll_to(y=max(0, self._top_index - page), animate=False, force=True)
        self._move_cursor_to(self._cursor_index - page)

    def action_page_down(self) -> None:
        """Move the cursor and the view one screen down."""
        page = self._body_height
        self.scroll_to(y=self._top_index + page, animate=False, force=True)
        self._move_cursor_to(self._cursor_index + page)

    def show_next_page(self) -> None:
        """Scroll to the next screenful of rows, after the last back to the first, with the
        cursor on its first row (a wallboard's table that pages itself)."""
        self._ensure_order()
        page, total = self._body_height, len(self._order)
        if total <= page:
            return
        top = self._top_index + page
        if top >= total:
            top = 0
        self.scroll_to(y=top, animate=False, force=True, immediate=True)
        self._move_cursor_to(top)

    @property
    def shown_rows(self) -> tuple[int, int, int]:
        """(first, last, of): the rows on screen, 1-based, and how many pass the filter."""
        self._ensure_order()
        total = len(self._order)
        if not total:
            return (0, 0, 0)
        top = min(self._top_index, total - 1)
        return (top + 1, min(top + self._body_height, total), total)

    def action_cursor_home(self) -> None:
        """Move the cursor to the first row."""
        self._move_cursor_to(0)

    def action_cursor_end(self) -> None:
        """Move the cursor to the last row."""
        self._move_cursor_to(len(self._order) - 1)

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column; a click on a row moves the cursor."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            for placed in self._layout:
                if placed.x - 1 <= offset.x < placed.x + placed.width:
                    self.toggle_sort(placed.column.key)
                    break
            return
        index = self._top_index + offset.y - 1
        self._ensure_order()
        if index < len(self._order):
            self._move_cursor_to(index)

    # ------------------------------------------------------------------ rendering

    def clear_render_cache(self) -> None:
        """Forget every rendered row, cell and the header: the next paint renders from cells.

        The table does this itself when its width or styles change; benchmarks call it to
        time a paint with a cold cache.
        """
        self._strips.clear()
        self._cell_renders.clear()
        self._header = None

    def notify_style_update(self) -> None:
        """Theme or pseudo-class changed: rendered strips carry old colours."""
        super().notify_style_update()
        self._styles_now = None
        self.clear_render_cache()

    def watch_stale(self) -> None:
        """Redraw everything dimmed (or not)."""
        self.refresh()

    def _styles(self) -> tuple[Style, Style, Style, Style]:
        """(base, header, cursor, stale) rich styles, computed once per render pass."""
        if self._styles_now is None:
            self._styles_now = (
                self.rich_style,
                self.get_component_rich_style("live-table--header"),
                self.get_component_rich_style("live-table--cursor"),
                self.get_component_rich_style("live-table--stale", partial=True),
            )
        return self._styles_now

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the dirty part of the widget (styles are looked up once per pass)."""
        self._styles_now = None
        # A scrollbar appearing narrows the content without a Resize event; this pass may
        # already be part-way painted at the old width, so paint once more.
        if self._relayout():
            self.call_later(self.refresh)
        self._ensure_order()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line `y` of the widget: 0 is the fixed header, the rest follow the scroll offset."""
        self._ensure_order()
        if self._layout_width < 0:
            self._relayout()
        if y == 0:
            return self._render_header()
        index = self._top_index + y - 1
        if 0 <= index < len(self._order):
            key = self._order[index]
            return self._row_strip(key, index == self._cursor_index)
        base = self._styles()[0]
        return Strip.blank(max(self._layout_width, 0), base)

    def _row_strip(self, row_key: str, is_cursor: bool) -> Strip:
        base, _header, cursor, stale_style = self._styles()
        stale = self.stale or row_key in self._stale_rows
        cache_key: tuple[object, ...] = (
            self._layout_generation,
            self._layout_width,
            is_cursor,
            stale,
            self._versions.get(row_key, 0),
            base,
            cursor,
            stale_style,
        )
        cached = self._strips.get(row_key)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        post_style: Style | None = None
        if is_cursor:
            # The cursor's colour wins over cell colours (as DataTable's default does): red on
            # the cursor's blue is unreadable, and levels still show as glyphs and words.
            post_style = Style.from_color(cursor.color, cursor.bgcolor)
        if stale:
            post_style = stale_style if post_style is None else post_style + stale_style
        strip = self._render_row(row_key, cursor if is_cursor else base, post_style)
        _replace(self._strips, row_key, (cache_key, strip))
        return strip

    def _render_row(self, row_key: str, style: Style, post_style: Style | None) -> Strip:
        row = self._row_cells(row_key)
        console = self.app.console
        context = (self._layout_generation, self._layout_width, style, post_style)
        known = self._cell_renders.get(row_key)
        if known is None or known[0] != context:
            known = (context, {})
            _replace(self._cell_renders, row_key, known)
        pieces = known[1]
        line: list[list[Segment]] = []
        for placed in self._layout:
            key = placed.column.key
            cell = row.get(key)
            kept = pieces.get(key)
            if kept is not None and kept[0] is cell:
                line.append(kept[1])
                continue
            text = _EMPTY if cell is None else cell.text
            piece = _piece(console, text, placed.width, placed.column.align, style, post_style)
            pieces[key] = (cell, piece)
            line.append(piece)
        return self._finish_line(line, style, post_style)

    def _render_header(self) -> Strip:
        _base, header, _cursor, stale_style = self._styles()
        cache_key = (
            self._layout_generation,
            self._layout_width,
            self._sort_column,
            self._sort_reverse,
            self.stale,
            header,
            stale_style,
        )
        if self._header is not None and self._header[0] == cache_key:
            return self._header[1]
        console = self.app.console
        post_style = stale_style if self.stale else None
        line: list[list[Segment]] = []
        for placed in self._layout:
            column = placed.column
            label = safe(column.label)
            if column.key == self._sort_column and placed.width >= 3:
                arrow = "▼" if self._sort_reverse else "▲"
                if label.cell_len > placed.width - 2:
                    label.truncate(placed.width - 2, overflow="ellipsis")
                label.append(" " + arrow)
            line.append(_piece(console, label, placed.width, column.align, header, post_style))
        strip = self._finish_line(line, header, post_style)
        self._header = (cache_key, strip)
        return strip

    def _finish_line(
        self, pieces: list[list[Segment]], style: Style, post_style: Style | None
    ) -> Strip:
        """One Strip of exactly the table's width from a line's pieces, one per placed column.

        Pieces carry no meta (`_cell_segments` drops it), so a line is one Strip built once;
        a line wider than the table (columns cropped as a last resort) is cut to it.
        """
        width = max(self._layout_width, 0)
        last = self._layout[-1] if self._layout else None
        used = 0 if last is None else last.x + last.width
        fill = style if post_style is None else style + post_style
        if used <= width:
            if used < width:
                pieces = [*pieces, [Segment(" " * (width - used), fill)]]
            return Strip(_join_pieces(pieces), width)
        return Strip(_join_pieces(pieces)).crop_extend(0, width, fill).simplify()
