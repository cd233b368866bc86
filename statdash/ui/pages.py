"""A page of the dashboard: the layout's grid of panels, reflowed to fit the terminal.

The layout says how many columns a page has and how many each widget spans; a terminal too
narrow for that gets fewer columns (widgets stack) so nothing is squeezed below a readable
width. Row heights follow the content: a row holding an agents table takes the spare height,
other rows are as tall as their panels need.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual import events
from textual.containers import Grid
from textual.widget import Widget

from statdash.layout.compile import KpiView, PageView, StatesView, TableView, TrendView, View
from statdash.ui.panels import Panel, make_panel

MIN_TABLE_WIDTH = 38
MIN_CHART_WIDTH = 24
MIN_KPI_WIDTH = 20
"""Below these widths a panel stops being readable; the page drops grid columns first."""
SHARED_SHARE = 0.4
"""On a short terminal, rows of fixed height shrink so the shared (1fr) row keeps this much."""
MIN_ROW_HEIGHT = 5
KPI_HEIGHT = 7
CHART_HEIGHT = 12
TABLE_CHROME = 3  # border top and bottom, header line
MAX_AUTO_TABLE_ROWS = 12


def natural_height(view: View) -> int | None:
    """Rows a panel needs when it does not share spare height (None: take a share, 1fr)."""
    if view.height is not None:
        return view.height
    if isinstance(view, TableView):
        if view.kind == "agents":
            return None
        return min(len(view.rows), MAX_AUTO_TABLE_ROWS) + TABLE_CHROME
    if isinstance(view, KpiView):
        return KPI_HEIGHT
    if isinstance(view, TrendView):
        if view.style == "chart":
            return CHART_HEIGHT
        return len(view.series) + 2
    if isinstance(view, StatesView):
        return 6
    return None


def min_width(view: View) -> int:
    """The narrowest a panel of this kind stays readable."""
    if isinstance(view, KpiView):
        return MIN_KPI_WIDTH
    if isinstance(view, TrendView | StatesView):
        return MIN_CHART_WIDTH
    return MIN_TABLE_WIDTH


def fitting_columns(page: PageView, width: int) -> int:
    """The most grid columns (up to the layout's) in which every panel keeps its min width."""
    for columns in range(page.columns, 0, -1):
        cell = (width - (columns - 1)) / columns  # one gutter cell between columns
        if all(min(view.span, columns) * cell >= min_width(view) for view in page.widgets):
            return columns
    return 1


def row_height(views: tuple[View, ...], row: list[int]) -> int | None:
    """A grid row's height: its tallest panel, or None (a 1fr share) if one takes a share."""
    needs = [natural_height(views[index]) for index in row]
    if any(need is None for need in needs):
        return None
    return max(need for need in needs if need is not None)


def fit_heights(heights: list[int | None], available: int) -> list[int | None]:
    """Shrink fixed rows on a short page so shared rows keep `SHARED_SHARE` of the height."""
    if None not in heights or available <= 0:
        return heights
    fixed = sum(h for h in heights if h is not None)
    budget = int(available * (1 - SHARED_SHARE))
    if fixed <= budget:
        return heights
    scale = budget / fixed
    # Shrunk tables scroll; nothing below MIN_ROW_HEIGHT (a border, a header and two lines,
    # or a KPI tile in its compact form).
    return [None if h is None else max(MIN_ROW_HEIGHT, int(h * scale)) for h in heights]


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

    def on_mount(self) -> None:
        """Lay out for the size we have."""
        self.reflow(self.size.width, self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        """Fewer columns on narrow terminals; back to the layout's on wide ones."""
        self.reflow(event.size.width, event.size.height)

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
        heights = fit_heights([row_height(views, row) for row in rows], height)
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = len(heights)
        self.set_styles(f"grid-rows: {' '.join('1fr' if h is None else str(h) for h in heights)};")
        for child, span in zip(self.children, spans, strict=False):
            child.styles.column_span = span
        # A child's span does not re-run the grid's placement by itself.
        self.refresh(layout=True)
