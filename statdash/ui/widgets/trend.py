"""Trends: `spark_bars()` (bar glyphs, one row or stacked) and `TrendChart`, labelled sparklines.

Bars are drawn here rather than with Textual's `Sparkline`: that one blends colours in
truecolor (wrong under an ANSI theme), has no notion of a missing sample, and stretches a
short history over the whole width, which makes five samples look like a 30-minute window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive

from statdash.text import clean, safe
from statdash.ui.widgets.framed import FramedWidget

BARS = "▁▂▃▄▅▆▇█"
LABEL_MAX = 16
VALUE_MAX = 12
_GAP = "  "


def spark_bars(values: Sequence[float], width: int) -> str:
    """`width` cells of bars for `values`, newest at the right; gaps for missing samples.

    More samples than cells are bucketed by their maximum (a peak in waiting calls matters
    more than an average); fewer leave the left blank, since that time has no data yet.
    Heights span the series' own min..max; a flat series sits low (zero) or mid-height.
    """
    return tall_spark_bars(values, width, 1)[0]


def tall_spark_bars(values: Sequence[float], width: int, rows: int) -> list[str]:
    """`spark_bars` stacked `rows` high (top row first): eight steps per row, for big tiles."""
    rows = max(1, rows)
    if width <= 0:
        return [""] * rows
    count = len(values)
    if count > width:
        samples = []
        for index in range(width):
            bucket = [
                value
                for value in values[index * count // width : (index + 1) * count // width]
                if math.isfinite(value)
            ]
            samples.append(max(bucket) if bucket else math.nan)
    else:
        samples = list(values)
    finite = [value for value in samples if math.isfinite(value)]
    if not finite:
        return [" " * width] * rows
    low, high = min(finite), max(finite)
    span = high - low
    steps = len(BARS) * rows
    # Each sample's height in eighths of a row, 0 for a missing sample.
    heights = []
    for value in samples:
        if not math.isfinite(value):
            heights.append(0)
        elif span == 0:
            heights.append(1 if high <= 0 else steps // 2)
        else:
            heights.append(round((value - low) / span * (steps - 1)) + 1)
    lines = []
    for row in range(rows):
        floor = (rows - 1 - row) * len(BARS)
        cells = []
        for height in heights:
            filled = min(len(BARS), max(0, height - floor))
            cells.append(BARS[filled - 1] if filled else " ")
        lines.append(" " * (width - len(cells)) + "".join(cells))
    return lines


def compact_number(value: float) -> str:
    """A short figure for min/max labels: whole numbers as integers, others to one decimal."""
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


class TrendSeries(NamedTuple):
    """One row of a `TrendChart`: a label, its samples, and its current value already formatted.

    `fmt` formats min/max like the current value (e.g. durations); plain numbers by default.
    """

    label: str
    values: Sequence[float]
    current_text: str
    fmt: Callable[[float], str] | None = None


SeriesInput = TrendSeries | tuple[str, Sequence[float], str]
"""A series as `set_series` takes it: a TrendSeries or a `(label, values, current_text)`."""


def as_series(series: Sequence[SeriesInput]) -> tuple[TrendSeries, ...]:
    """Every input as a TrendSeries holding a snapshot of its values (they may be a live ring)."""
    return tuple(
        (item if isinstance(item, TrendSeries) else TrendSeries(*item))._replace(
            values=tuple(item[1])
        )
        for item in series
    )


class _Row(NamedTuple):
    label: str
    values: tuple[float, ...]
    current: str
    full_range: str
    max_only: str


def _row(series: TrendSeries) -> _Row:
    values = tuple(float(value) for value in series.values)
    finite = [value for value in values if math.isfinite(value)]
    fmt = series.fmt or compact_number
    if finite:
        low, high = fmt(min(finite)), fmt(max(finite))
        full_range, max_only = f"(min {clean(low)}, max {clean(high)})", f"(max {clean(high)})"
    else:
        full_range = max_only = ""
    current = clean(series.current_text, VALUE_MAX) or "\u2013"
    return _Row(clean(series.label, LABEL_MAX), values, current, full_range, max_only)


class TrendChart(FramedWidget):
    """Labelled sparkline rows over one time window: `Waiting  ▁▂▃▅▇█▅▃  12 (max 19)`."""

    DEFAULT_CSS = """
    TrendChart {
        height: auto;
        min-height: 3;
        padding: 0 1;
    }
    TrendChart > .trend-chart--bars {
        color: $primary;
    }
    TrendChart > .trend-chart--range {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"trend-chart--bars", "trend-chart--range"}

    window_label: reactive[str] = reactive("")
    """What the x axis spans, e.g. "last 30 min" (shown in the bottom border)."""

    def __init__(
        self,
        label: str = "",
        *,
        window_label: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A chart titled `label` (untrusted text is fine) over `window_label`."""
        super().__init__(label, name=name, id=id, classes=classes)
        self._rows: tuple[_Row, ...] = ()
        self._series: tuple[TrendSeries, ...] = ()
        self.set_reactive(TrendChart.window_label, window_label)

    def on_mount(self) -> None:
        """Show the window label given to the constructor (set without its watcher)."""
        self._update_subtitle()

    def set_series(self, series: Sequence[SeriesInput]) -> None:
        """Replace all rows; a `(label, values, current_text)` tuple is a `TrendSeries`."""
        new = as_series(series)
        if new == self._series:
            return
        resized = len(new) != len(self._series)
        self._series = new
        self._rows = tuple(_row(item) for item in new)
        self.refresh(layout=resized)

    @property
    def series(self) -> tuple[TrendSeries, ...]:
        """The rows currently shown (values as tuples)."""
        return self._series

    def watch_stale(self, stale: bool) -> None:
        """Mark the border, and say "stale" beside the window label in the subtitle."""
        self.set_class(stale, "-stale")
        self._update_subtitle()

    def watch_window_label(self, _label: str) -> None:
        """Show the new window in the bottom border."""
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        subtitle = Text(no_wrap=True, end="")
        if self.stale:
            subtitle.append("stale", Style(bold=True))
        if self.window_label:
            if subtitle:
                subtitle.append(" · ")
            subtitle.append_text(safe(self.window_label, max_length=30))
        self.border_subtitle = subtitle if subtitle else None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One line per series (one line saying there is no data when empty)."""
        return max(1, len(self._rows))

    def render(self) -> Text:
        """The rows as plain `Text`: no markup is parsed, so data cannot style or act."""
        width, height = self.size
        text = Text(no_wrap=True, end="", overflow="crop")
        dim = Style(dim=True) if self.stale else Style()
        if not self._rows:
            text.append("no data", Style(dim=True, italic=True))
            return text
        rows = self._rows
        more = 0
        if height and len(rows) > height:
            more = len(rows) - (height - 1)
            rows = rows[: height - 1]
        bars_style = self.get_component_rich_style("trend-chart--bars") + dim
        range_style = self.get_component_rich_style("trend-chart--range") + dim
        value_width = max(len(row.current) for row in self._rows)
        label_width, range_kind, bars_width = self._fit(width, value_width)
        for index, row in enumerate(rows):
            if index:
                text.append("\n")
            text.append(clean(row.label, label_width).ljust(label_width), dim)
            if bars_width:
                text.append(_GAP)
                text.append(spark_bars(row.values, bars_width), bars_style)
            text.append(_GAP)
            text.append(row.current.rjust(value_width), Style(bold=True) + dim)
            extra = getattr(row, range_kind) if range_kind else ""
            if extra:
                text.append(" ")
                text.append(extra, range_style)
        if more:
            text.append(f"\n… {more} more", Style(dim=True, italic=True))
        return text

    def _fit(self, width: int, value_width: int) -> tuple[int, str, int]:
        """Label width, the min/max form that fits beside bars >= 8 cells, and the bars' width.

        Labels get at most a third of the line while there are bars; without bars they may
        take all the room the value leaves.
        """
        longest = max(len(row.label) for row in self._rows)
        label_width = min(longest, max(4, width // 3))
        fixed = label_width + len(_GAP) * 2 + value_width
        for kind in ("full_range", "max_only"):
            extra = max(len(getattr(row, kind)) for row in self._rows)
            bars = width - fixed - (extra + 1 if extra else 0)
            if bars >= 8:
                return label_width, kind, bars
        bars = width - fixed
        if bars >= 3:
            return label_width, "", bars
        return min(longest, max(1, width - len(_GAP) - value_width)), "", 0
