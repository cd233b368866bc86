"""KpiTile: one statistic as a titled tile with big digits, its threshold state and a trend.

The digits are as big as the tile allows (`statdash.ui.widgets.bigdigits`: the 3x3 font in
a small tile, block pixels from 4 rows up); a big tile also shows its level as a coloured
band and a trend several rows tall, so a wallboard reads across a room. A value with a
character the big fonts lack (a state word, "n/a") falls back to one line of ordinary text
rather than guess.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from statdash.layout.formats import MISSING, Level
from statdash.text import clean
from statdash.ui.palette import level_style
from statdash.ui.widgets.bigdigits import (
    SMALL,
    DigitSize,
    DigitTile,
    as_text,
    big_digits,
    fit,
    render,
    text_width,
)
from statdash.ui.widgets.framed import LineTile
from statdash.ui.widgets.trend import spark_bars, tall_spark_bars

VALUE_MAX = 24
"""Longest value text kept (cells); longer server text is cut with an ellipsis."""
MAX_TREND_ROWS = 6
"""A big tile's trend grows to this many rows (a third of the room under the figure)."""
BIG_TILE_ROWS = 12
"""From this height (border included) a tile is "big" (class `-big`): its title is bold."""

__all__ = ["VALUE_MAX", "KpiTile", "big_digits", "level_label", "mark_big"]


def mark_big(tile: Widget, height: int) -> None:
    """Class a tile `height` rows tall (border included) big or not (`-big`: a bold title)."""
    tile.set_class(height >= BIG_TILE_ROWS, "-big")


def level_label(level: Level) -> str:
    """The level as glyph and upper-case word ("‼ ALARM"); empty when OK."""
    return "" if level is Level.OK else f"{level.glyph} {level.word.upper()}"


class KpiTile(LineTile, DigitTile):
    """A titled tile showing one value big, its level as colour and word, and a trend."""

    DEFAULT_CSS = """
    KpiTile {
        width: 1fr;
        height: 7;
        min-height: 3;
        /* No padding: render() keeps a one-cell gutter, which big digits may use (a duration
           is 17 cells wide, a quarter of an 80-column screen leaves 18). */
        padding: 0;
    }
    KpiTile > .kpi-tile--trend {
        color: $primary;
    }
    KpiTile > .kpi-tile--problem {
        color: $text-warning;
        text-style: italic;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"kpi-tile--trend", "kpi-tile--problem"}

    # What the tile shows, a dash until a value comes; each update replaces these (immutable
    # values, so class-level defaults are safe and the constructor is FramedWidget's).
    _text: str = MISSING
    _level: Level = Level.OK
    _history: tuple[float, ...] | None = None
    _problem: str | None = None
    size_hint: str = ""
    """The widest value this tile usually shows (e.g. "100%"), so its digits keep one size."""

    @property
    def text(self) -> str:
        """The value text shown (cleaned)."""
        return self._text

    @property
    def level(self) -> Level:
        """The threshold level shown."""
        return self._level

    @property
    def problem(self) -> str | None:
        """The problem shown instead of the value, if any (cleaned)."""
        return self._problem

    def update_value(self, text: str, level: Level, history: Sequence[float] | None = None) -> None:
        """Show `text` (untrusted, already formatted) at `level`, with an optional trend."""
        new_text = clean(text, VALUE_MAX) or MISSING
        new_history = None if history is None else tuple(history)
        if (new_text, level, new_history) == (self._text, self._level, self._history):
            return
        text_changed = new_text != self._text
        self._text, self._history, self._level = new_text, new_history, level
        self._sync_level_classes()
        if text_changed:
            self.digit_room_changed()
        self.content_changed()

    def set_problem(self, text: str | None) -> None:
        """Show `text` (e.g. "unknown statistic") instead of the value; None shows the value."""
        problem = None if text is None else clean(text, 200)
        if problem != self._problem:
            self._problem = problem
            self._sync_level_classes()
            self.digit_room_changed()
            self.content_changed()

    def _sync_level_classes(self) -> None:
        # A problem hides the value, so its level must not colour the border either.
        level = None if self._problem is not None else self._level
        self.set_class(level is Level.WARN, "-warn")
        self.set_class(level is Level.ALARM, "-alarm")

    def on_resize(self, event: events.Resize) -> None:
        """Mark a big tile (its title goes bold, see statdash.tcss)."""
        mark_big(self, event.size.height)
        self.digit_room_changed()

    def own_digit_size(self) -> DigitSize | None:
        """The size of big digits this tile would draw alone (None: ordinary text)."""
        width, height = self.lines_size
        if width <= 0 or height <= 0 or self._problem is not None:
            return None
        # Block pixels keep a row for the level and one for the trend, with or without a
        # trend, so tiles side by side pick the same size; the 3x3 font needs only the level.
        size = fit(self._text, _inner(width), height - 2, hint=self.size_hint)
        if (size is None or not size.pixels) and height >= 4:
            small = text_width(self._text, SMALL)
            size = SMALL if small is not None and small <= width else None
        return size

    def digit_fits(self, size: DigitSize) -> bool:
        """True if the figure fits this tile at `size` (see `own_digit_size`)."""
        width, height = self.lines_size
        needed = text_width(self._text, size)
        if needed is None:
            return False
        if size.pixels:
            return needed <= _inner(width) and size.rows <= height - 2
        return needed <= width and height >= 4

    def content_lines(self, width: int, height: int) -> list[Text]:
        """The tile's lines as plain `Text`: no markup is parsed, so data cannot style or act."""
        if width <= 0 or height <= 0:
            return []
        gutter = 1 if width >= 8 else 0
        inner = width - 2 * gutter
        dim = Style(dim=True) if self.stale else Style()
        if self._problem is not None:
            lines = self._render_problem(inner, height, dim)
            return _indent(lines, gutter)
        theme = self.app.current_theme
        value_style = level_style(self._level, theme) + dim
        state = Text(level_label(self._level), value_style)
        size = self.drawing_size()
        if size is not None and size.pixels:
            return _indent(self._render_big(size, inner, height, value_style, dim), gutter)
        rows = None if size is None else render(self._text, size)
        if rows is not None:
            lines = [Text(row, value_style) for row in rows]
            lines.append(state)
            for line in lines:
                line.align("center", width)
            trend = self._trend(inner, dim)
            if trend is not None and height >= 5:
                lines.append(Text(" " * gutter).append_text(trend))
            return lines
        trend = self._trend(inner, dim)
        return _indent(self._render_compact(inner, height, value_style, state, trend), gutter)

    def _render_big(
        self, size: DigitSize, width: int, height: int, value_style: Style, dim: Style
    ) -> list[Text]:
        """Pixel digits, the level as a coloured band, and a trend as tall as room allows."""
        digits = render(self._text, size) or []
        spare = height - len(digits) - 2
        trend_rows = 0
        if self._history:
            trend_rows = 1 + min(spare // 3, MAX_TREND_ROWS - 1)
            spare -= trend_rows - 1
        gap = 1 if spare >= 2 else 0
        spare -= gap
        top = spare // 2
        lines = [Text() for _ in range(top)]
        lines.extend(as_text(row, value_style) for row in digits)
        lines.extend(Text() for _ in range(gap))
        if self._level is Level.OK:
            lines.append(Text())
        else:
            # A band of colour reads from further away than a coloured word.
            band = Text(f"  {level_label(self._level)}  ", value_style + Style(reverse=True))
            band.stylize(Style(bold=True))
            lines.append(band)
        lines.extend(Text() for _ in range(height - len(lines) - trend_rows))
        if trend_rows and self._history:
            style = self.get_component_rich_style("kpi-tile--trend") + dim
            lines.extend(
                Text(row, style) for row in tall_spark_bars(self._history, width, trend_rows)
            )
        for line in lines:
            line.align("center", width)
        return lines[:height]

    def _render_compact(
        self, width: int, height: int, value_style: Style, state: Text, trend: Text | None
    ) -> list[Text]:
        """Ordinary text for tiles too small for big digits: value, level, trend as room allows."""
        value = Text(self._text, value_style + Style(bold=True), no_wrap=True, end="")
        lines = [value]
        if state and height >= 2:
            lines.append(state)
        elif state:
            # One line: the glyph is the least that must stay beside the value.
            word = f" {state.plain}" if len(self._text) + 1 + len(state) <= width else ""
            value.append(word or f" {self._level.glyph}", value_style)
        if trend is not None and len(lines) < height:
            lines.append(trend)
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return lines

    def _render_problem(self, width: int, height: int, dim: Style) -> list[Text]:
        style = self.get_component_rich_style("kpi-tile--problem") + dim
        wrapped = textwrap.wrap(f"✗ {self._problem}", max(1, width)) or ["✗"]
        if len(wrapped) > height:
            wrapped = [*wrapped[: height - 1], clean(" ".join(wrapped[height - 1 :]), width)]
        return [Text(line, style) for line in wrapped]

    def _trend(self, width: int, dim: Style) -> Text | None:
        if not self._history:
            return None
        style = self.get_component_rich_style("kpi-tile--trend") + dim
        return Text(spark_bars(self._history, width), style)


def _inner(width: int) -> int:
    """The width inside the tile's one-cell gutter (none on a tile under 8 cells)."""
    return width - 2 * (1 if width >= 8 else 0)


def _indent(lines: list[Text], gutter: int) -> list[Text]:
    """`lines`, each indented by `gutter` cells."""
    if not gutter:
        return lines
    return [Text(" " * gutter, end="").append_text(line) for line in lines]
