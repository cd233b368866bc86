"""A page of the dashboard: the layout's grid of panels, reflowed to fit the terminal.

The layout says how many columns a page has and how many each widget spans; a terminal too
narrow for that gets fewer columns (widgets stack) so nothing is squeezed below a readable
width. Rows are as tall as their content: a table as tall as its rows, a tile or a sparkline
as it needs. Spare height goes to the last row with a chart (a chart draws finer with more
rows); on a page without a chart the rows of KPI tiles and clocks share it, so a wallboard's
tiles fill the screen and their digits grow; on a page with neither, the last table takes it
(the page reaches the status line, not half way); when the content is taller than the page, the
tables give up height (they scroll), sharing what is left so a short table is shown whole
beside a long one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from textual import events
from textual.containers import Grid
from textual.geometry import Size
from textual.widget import Widget

from statdash.layout.views import (
    ClockView,
    KpiView,
    PageView,
    StatesView,
    TableView,
    TextView,
    TopView,
    TrendView,
    View,
)
from statdash.ui.panels import Panel, make_panel
from statdash.ui.widgets.bigdigits import DigitRow, DigitTile
from statdash.ui.widgets.framed import LineTile
from statdash.ui.widgets.kpi import mark_big

MIN_TABLE_WIDTH = 38
MIN_CHART_WIDTH = 24
MIN_KPI_WIDTH = 20
"""Below these widths a panel stops being readable; the page drops grid columns first."""
SHARED_SHARE = 0.4
"""On a short terminal, rows that cannot scroll shrink so the tables keep this much."""
MIN_ROW_HEIGHT = 5
KPI_HEIGHT = 7
CHART_HEIGHT = 12
TABLE_CHROME = 3  # border top and bottom, header line


def natural_height(view: View) -> int:
    """Rows a panel needs to show all it has (a table: every row)."""
    if view.height is not None:
        return view.height
    if isinstance(view, TableView):
        return len(view.rows) + TABLE_CHROME
    if isinstance(view, KpiView | ClockView):
        return KPI_HEIGHT
    if isinstance(view, TextView):
        return len(view.message.splitlines()) + 2  # its lines inside the border
    if isinstance(view, TopView):
        return view.count + 2  # a line a place, inside the border
    if isinstance(view, TrendView):
        if view.style == "chart":
            return CHART_HEIGHT
        return len(view.series) + 2
    return 6  # a states bar and a legend of three lines


def scrolls(view: View) -> bool:
    """True for a panel that can be shorter than its content (a table scrolls its rows)."""
    return isinstance(view, TableView) and view.height is None


def grows(view: View) -> bool:
    """True for a panel that draws better with more height than it needs (a chart)."""
    return isinstance(view, TrendView) and view.style == "chart" and view.height is None


def fills(view: View) -> bool:
    """True for a panel that takes a share of spare height when no chart wants it (a tile)."""
    return isinstance(view, KpiView | ClockView | TopView) and view.height is None


def min_width(view: View) -> int:
    """The narrowest a panel of this kind stays readable."""
    if isinstance(view, KpiView | ClockView | TextView):
        return MIN_KPI_WIDTH
    if isinstance(view, TrendView | StatesView | TopView):
        return MIN_CHART_WIDTH
    return MIN_TABLE_WIDTH


def fitting_columns(page: PageView, width: int) -> int:
    """The most grid columns (up to the layout's) in which every panel keeps its min width."""
    for columns in range(page.columns, 0, -1):
        cell = (width - (columns - 1)) / columns  # one gutter cell between columns
        if all(min(view.span, columns) * cell >= min_width(view) for view in page.widgets):
            return columns
    return 1


@dataclass(frozen=True, slots=True)
class RowNeed:
    """What one grid row asks for: its natural height, and whether it can shrink or grow."""

    natural: int
    scrolls: bool = False
    """It holds a table: it may be shorter (down to `least`), the table then scrolls."""
    grows: bool = False
    """It holds a chart: it may take height beyond `natural`."""
    fills: bool = False
    """It holds tiles: it shares the spare height when no row grows."""
    least: int = MIN_ROW_HEIGHT


def row_need(views: tuple[View, ...], row: list[int]) -> RowNeed:
    """A grid row's need: its tallest panel; it scrolls if a table sets that height."""
    panels = [views[index] for index in row]
    natural = max(natural_height(view) for view in panels)
    fixed = [natural_height(view) for view in panels if not scrolls(view)]
    return RowNeed(
        natural=natural,
        scrolls=any(scrolls(view) for view in panels),
        grows=any(grows(view) for view in panels),
        fills=any(fills(view) for view in panels) and not any(scrolls(v) for v in panels),
        least=max([MIN_ROW_HEIGHT, *fixed]),
    )


def _shares(needs: list[int], room: int) -> list[int]:
    """`room` split so no one gets more than it needs and the rest share alike."""
    given = [0] * len(needs)
    order = sorted(range(len(needs)), key=needs.__getitem__)
    left = room
    for done, index in enumerate(order):
        given[index] = min(needs[index], left // (len(order) - done))
        left -= given[index]
    return given


def row_heights(rows: list[RowNeed], available: int) -> list[int]:
    """The height of each grid row on a page `available` rows tall.

    Rows get their natural height; spare height goes to the last row that grows, else is
    shared by the rows that fill, else goes to the last row with a table. Content
    taller than the page takes height from the rows that scroll, shared so each keeps what it
    needs if it can (a short table beside a long one stays whole); when even that is not
    enough, the other rows shrink too (not below MIN_ROW_HEIGHT, a KPI tile's compact form)
    so the tables keep `SHARED_SHARE`.
    """
    heights = [row.natural for row in rows]
    if available <= 0 or not rows:
        return heights
    spare = available - sum(heights)
    if spare >= 0:
        growing = [index for index, row in enumerate(rows) if row.grows]
        filling = [index for index, row in enumerate(rows) if row.fills]
        tables = [index for index, row in enumerate(rows) if row.scrolls]
        if growing:
            heights[growing[-1]] += spare
        elif filling:
            share, rest = divmod(spare, len(filling))
            for order, index in enumerate(filling):
                heights[index] += share + (1 if order < rest else 0)
        elif tables:
            # Nothing draws better taller: the last table takes the room, so the page reaches
            # the status line instead of ending half way down an empty screen, and agents
            # who log in later have rows to appear in.
            heights[tables[-1]] += spare
        return heights
    scrolling = [index for index, row in enumerate(rows) if row.scrolls]
    if not scrolling:
        # Tiles only (a wallboard on a small screen): the tile rows give up height, one row
        # at a time, down to a tile's compact form, so every row stays on the page.
        filling = [index for index, row in enumerate(rows) if row.fills]
        while spare < 0 and any(heights[index] > MIN_ROW_HEIGHT for index in filling):
            tallest = max(filling, key=lambda index: (heights[index], -index))
            heights[tallest] -= 1
            spare += 1
        return heights
    fixed = [index for index, row in enumerate(rows) if not row.scrolls]
    fixed_total = sum(heights[index] for index in fixed)
    budget = int(available * (1 - SHARED_SHARE))
    if fixed_total > budget:
        scale = budget / fixed_total
        for index in fixed:
            heights[index] = max(MIN_ROW_HEIGHT, int(heights[index] * scale))
    room = available - sum(heights[index] for index in fixed)
    shares = _shares([rows[index].natural for index in scrolling], room)
    for index, share in zip(scrolling, shares, strict=True):
        heights[index] = max(rows[index].least, share)
    return heights


def pack_rows(spans: list[int], columns: int) -> list[list[int]]:
    """Indexes of widgets per grid row, filling left to right like CSS grid auto-placement."""
    rows: list[list[int]] = []
    used = columns
    for index, span in enumerate(spans):
        span = min(span, columns)
        if used + span > columns:
            rows.append([])
            used = 0
        rows[-1].append(index)
        used += span
    return rows


class PageGrid(Grid):
    """The panels of one page in a grid whose column count fits the width."""

    DEFAULT_CSS = """
    PageGrid {
        grid-gutter: 0 1;
        height: 1fr;
    }
    """

    def __init__(self, page: PageView, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.page = page
        self._shape: tuple[int, int] = (-1, -1)

    def compose(self) -> Iterator[Widget]:
        for index, view in enumerate(self.page.widgets):
            yield make_panel(view, id=f"{self.id or 'page'}-w{index}")

    def panels(self) -> list[Panel]:
        """This page's panels in layout order."""
        return [child for child in self.children if isinstance(child, Panel)]

    def tiles(self) -> list[LineTile]:
        """This page's tiles that draw their own lines (KPI tiles, clocks)."""
        return [child for child in self.children if isinstance(child, LineTile)]

    def prepare(self, width: int, height: int) -> None:
        """Fit this hidden page to `width` x `height` and build the lines of every tile that
        changed while it was hidden, so the frame that shows it composes lines already built
        (drawing them in that frame cost 4-7 ms a tile)."""
        self._plan(width, height)
        for tile in self.tiles():
            tile.prepare()

    def prepare_ahead(self) -> None:
        """`prepare` for the room the page will have, a step of the loop per tile: ahead of
        a rotation's page turn, so neither the turn nor any one step draws the whole page."""
        parent = self.parent
        if not isinstance(parent, Widget):
            return
        self._plan(*parent.content_size)
        tiles = self.tiles()
        # Each tile in a step of the event loop of its own: Textual's `call_later` would
        # queue them on the grid, whose queue is emptied in one step (all tiles at once).
        loop = asyncio.get_running_loop()

        def step() -> None:
            if tiles and self.is_attached:
                tiles.pop(0).prepare()
                loop.call_soon(step)

        loop.call_soon(step)

    def _plan(self, width: int, height: int) -> None:
        """Fit the grid to `width` x `height` and tell each tile the size it will have there.

        Textual lays out only what is shown: a tile on a hidden page has no size of its own
        (none at all before its first showing), so its lines could not be built before the
        frame that shows it. The grid's arrangement is Textual's own, as the frame will make.
        """
        self.reflow(width, height)
        if width <= 0 or height <= 0:
            return
        # The rows may have just changed at the same size (reflow), which the cache of
        # arrangements, keyed by size, does not see.
        self._clear_arrangement_cache()
        for placement in self.arrange(Size(width, height)).placements:
            if isinstance(placement.widget, LineTile):
                placement.widget.plan(placement.region.size)

    def on_mount(self) -> None:
        """Lay out for the size we have."""
        self.reflow(self.size.width, self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        """Fewer columns on narrow terminals; back to the layout's on wide ones."""
        self.reflow(event.size.width, event.size.height)

    def relayout(self) -> None:
        """Set the grid again for the size it has (after a panel was maximized)."""
        self._shape = (-1, -1)
        self.reflow(self.size.width, self.size.height)

    def reflow(self, width: int, height: int) -> None:
        """Set the grid's columns, spans and row heights for a `width` x `height` page."""
        wanted = self.page.columns
        columns = fitting_columns(self.page, width) if width > 0 else wanted
        if (columns, height) == self._shape:
            return
        self._shape = (columns, height)
        views = self.page.widgets
        spans = [min(view.span, columns) for view in views]
        rows = pack_rows(spans, columns)
        for row in rows:
            # Textual's grid does not wrap a widget that overflows the row (it clips it), so
            # the last widget of a short row takes the rest of the row instead.
            spans[row[-1]] += columns - sum(spans[index] for index in row)
        needs = [row_need(views, row) for row in rows]
        heights = row_heights(needs, height)
        # The rows given more than they need: a table there takes the room too.
        stretched = {
            index
            for row, need, given in zip(rows, needs, heights, strict=True)
            if given > need.natural
            for index in row
        }
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = len(heights)
        self.set_styles(f"grid-rows: {' '.join(str(h) for h in heights)};")
        children = list(self.children)
        for row, row_height in zip(rows, heights, strict=True):
            # Tiles side by side draw their digits at one size.
            digits = DigitRow()
            for index in row:
                tile = children[index] if index < len(children) else None
                if isinstance(tile, DigitTile):
                    tile.digit_row = digits
                    digits.join(tile)
                if isinstance(tile, DigitTile) and isinstance(tile, Widget) and height > 0:
                    # As tall as its row: classed now, its first frame is drawn with its
                    # title as it will stay, not redrawn when its own resize says so.
                    mark_big(tile, row_height)
        for index, (child, span, view) in enumerate(zip(children, spans, views, strict=False)):
            child.styles.column_span = span
            if scrolls(view):
                # A table is as tall as its rows, even in a row a taller panel sets, unless
                # its row was given the page's spare height.
                child.styles.max_height = None if index in stretched else natural_height(view)
        # A child's span does not re-run the grid's placement by itself.
        self.refresh(layout=True)
