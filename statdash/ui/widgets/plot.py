"""TrendPlot: several series over one time window on shared axes (a trend's `style: chart`).

Each series is drawn with its own marker and palette colour on a grid of cells, newest at
the right; the left axis shows the range, the bottom line is a legend of marker, label and
current value. Markers differ in shape, so the chart reads without colour too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.theme import Theme

from statdash.text import clean
from statdash.ui.palette import colour_style
from statdash.ui.widgets.trend import TrendChart, compact_number

MARKERS = ("●", "◆", "▲", "■", "✚", "○", "◇", "△")
COLOURS = ("blue", "yellow", "magenta", "green", "cyan", "orange", "red", "white")
LABEL_MAX = 16


def buckets(values: Sequence[float], width: int) -> list[float]:
    """`values` fitted to `width` columns (max per bucket), right-aligned; NaN where empty."""
    count = len(values)
    if width <= 0:
        return []
    if count <= width:
        return [math.nan] * (width - count) + list(values)
    fitted = []
    for index in range(width):
        chunk = [
            v
            for v in values[index * count // width : (index + 1) * count // width]
            if math.isfinite(v)
        ]
        fitted.append(max(chunk) if chunk else math.nan)
    return fitted


def _mark(index: int, theme: Theme, dim: Style) -> tuple[str, Style]:
    """The marker and colour of series number `index`."""
    return MARKERS[index % len(MARKERS)], colour_style(COLOURS[index % len(COLOURS)], theme) + dim


class TrendPlot(TrendChart):
    """A small multi-series chart with a value axis and a legend.

    Title, window label, staleness and `set_series` are the sparkline chart's; only the
    drawing differs.
    """

    DEFAULT_CSS = """
    TrendPlot {
        height: 100%;
        min-height: 6;
    }
    TrendPlot > .trend-plot--axis {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *TrendChart.COMPONENT_CLASSES,
        "trend-plot--axis",
    }

    def render(self) -> Text:
        """Axis labels, plotted markers and the legend, as plain `Text` (no markup parsed)."""
        width, height = self.size
        text = Text(no_wrap=True, end="", overflow="crop")
        dim = Style(dim=True) if self.stale else Style()
        finite = [v for s in self._series for v in s.values if math.isfinite(v)]
        if not finite or height < 2:
            text.append("no data yet", Style(dim=True, italic=True))
            return text
        low, high = min(0.0, min(finite)), max(finite)
        if high == low:
            high = low + 1
        fmt = self._series[0].fmt or compact_number
        axis = max(len(fmt(high)), len(fmt(low)))
        legend = self._legend_lines(width, dim)
        plot_rows = max(1, height - len(legend))
        plot_width = max(1, width - axis - 2)
        grid: list[list[tuple[str, Style] | None]] = [[None] * plot_width for _ in range(plot_rows)]
        theme = self.app.current_theme
        for index, series in enumerate(self._series):
            mark = _mark(index, theme, dim)
            for column, value in enumerate(buckets(series.values, plot_width)):
                if math.isfinite(value):
                    level = round((high - value) / (high - low) * (plot_rows - 1))
                    grid[level][column] = mark
        axis_style = self.get_component_rich_style("trend-plot--axis") + dim
        for row_index, row in enumerate(grid):
            if row_index:
                text.append("\n")
            label = fmt(high) if row_index == 0 else fmt(low) if row_index == plot_rows - 1 else ""
            text.append(label.rjust(axis) + " ┤", axis_style)
            for cell in row:
                if cell is None:
                    text.append(" ")
                else:
                    text.append(cell[0], cell[1])
        for line in legend:
            text.append("\n")
            text.append_text(line)
        return text

    def _legend_lines(self, width: int, dim: Style) -> list[Text]:
        """`● Sales 3  ◆ Service 0 ...`, wrapped between entries to fit `width`."""
        theme = self.app.current_theme
        lines: list[Text] = [Text(no_wrap=True, end="")]
        for index, series in enumerate(self._series):
            entry = Text(no_wrap=True, end="")
            entry.append(*_mark(index, theme, dim))
            entry.append(f" {clean(series.label, LABEL_MAX)} ", dim)
            entry.append(clean(series.current_text, 12), Style(bold=True) + dim)
            if lines[-1].cell_len and lines[-1].cell_len + 2 + entry.cell_len > width:
                lines.append(Text(no_wrap=True, end=""))
            if lines[-1].cell_len:
                lines[-1].append("  ")
            lines[-1].append_text(entry)
        return lines
