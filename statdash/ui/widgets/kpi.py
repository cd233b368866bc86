"""KpiTile: one statistic as a titled tile with big digits, its threshold state and a trend.

The big font is Textual's 3x3 digits plus the characters dashboard values need and Textual's
font lacks ('.', ',', '%', the en dash shown for a missing value); any other character (a
state word, "n/a") makes the tile fall back to one line of ordinary text rather than guess.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.renderables.digits import DIGITS, DIGITS3X3

from statdash.layout.formats import MISSING, Level
from statdash.text import clean
from statdash.ui.palette import level_style
from statdash.ui.widgets.framed import FramedWidget
from statdash.ui.widgets.trend import spark_bars

VALUE_MAX = 24
"""Longest value text kept (cells); longer server text is cut with an ellipsis."""

_EXTRA_GLYPHS: dict[str, tuple[str, str, str]] = {
    ".": (" ", " ", "•"),
    ",": (" ", " ", ","),
    ":": (" ", "•", " "),
    " ": (" ", " ", " "),
    "%": ("○ ╱", " ╱ ", "╱ ○"),  # noqa: RUF001 - box-drawing diagonals, not slashes
    MISSING: ("   ", "╶─╴", "   "),
    "-": ("   ", "╶─╴", "   "),
}
_TEXTUAL_GLYPHS = "0123456789+"


def _glyph(char: str) -> tuple[str, str, str] | None:
    if char in _EXTRA_GLYPHS:
        return _EXTRA_GLYPHS[char]
    if char in _TEXTUAL_GLYPHS:
        row = DIGITS.index(char) * 3
        return (
            DIGITS3X3[row].ljust(3),
            DIGITS3X3[row + 1].ljust(3),
            DIGITS3X3[row + 2].ljust(3),
        )
    return None


def big_digits(text: str) -> tuple[str, str, str] | None:
    """`text` as three rows of the big font, or None if a character has no big form."""
    rows: tuple[list[str], list[str], list[str]] = ([], [], [])
    for char in text:
        glyph = _glyph(char)
        if glyph is None:
            return None
        for row, piece in zip(rows, glyph, strict=True):
            row.append(piece)
    top, middle, bottom = ("".join(row) for row in rows)
    return top, middle, bottom


def level_label(level: Level) -> str:
    """The level as glyph and upper-case word ("‼ ALARM"); empty when OK."""
    return "" if level is Level.OK else f"{level.glyph} {level.word.upper()}"


class KpiTile(FramedWidget):
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
        self._text, self._history, self._level = new_text, new_history, level
        self._sync_level_classes()
        self.refresh()

    def set_problem(self, text: str | None) -> None:
        """Show `text` (e.g. "unknown statistic") instead of the value; None shows the value."""
        problem = None if text is None else clean(text, 200)
        if problem != self._problem:
            self._problem = problem
            self._sync_level_classes()
            self.refresh()

    def _sync_level_classes(self) -> None:
        # A problem hides the value, so its level must not colour the border either.
        level = None if self._problem is not None else self._level
        self.set_class(level is Level.WARN, "-warn")
        self.set_class(level is Level.ALARM, "-alarm")

    def render(self) -> Text:
        """The tile's content as plain `Text`: no markup is parsed, so data cannot style or act."""
        width, height = self.size
        if width <= 0 or height <= 0:
            return Text()
        gutter = 1 if width >= 8 else 0
        inner = width - 2 * gutter
        dim = Style(dim=True) if self.stale else Style()
        if self._problem is not None:
            lines = self._render_problem(inner, height, dim)
            return _join(lines, gutter)
        theme = self.app.current_theme
        value_style = level_style(self._level, theme) + dim
        state = Text(level_label(self._level), value_style)
        trend = self._trend(inner, dim)
        rows = big_digits(self._text)
        # Big digits need a line below them for the level, so it never appears and vanishes.
        if rows is not None and height >= 4 and len(rows[0]) <= width:
            lines = [Text(row, value_style) for row in rows]
            lines.append(state)
            for line in lines:
                line.align("center", width)
            if trend is not None and height >= 5:
                lines.append(Text(" " * gutter).append_text(trend))
            return _join(lines, 0)
        return _join(self._render_compact(inner, height, value_style, state, trend), gutter)

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


def _join(lines: list[Text], gutter: int) -> Text:
    """`lines` as one multi-line `Text`, each indented by `gutter` cells."""
    text = Text(no_wrap=True, end="", overflow="crop")
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        text.append(" " * gutter)
        text.append_text(line)
    return text
