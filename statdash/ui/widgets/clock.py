"""ClockTile: the time of day in big digits with the date under it, as wallboards have."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events

from statdash.text import clean
from statdash.ui.widgets.bigdigits import DigitSize, DigitTile, as_text, fit, render, text_width
from statdash.ui.widgets.framed import LineTile
from statdash.ui.widgets.kpi import mark_big


class ClockTile(LineTile, DigitTile):
    """A titled tile showing a time (digits and ':') as big as it fits, and a date line."""

    DEFAULT_CSS = """
    ClockTile {
        width: 1fr;
        height: 7;
        min-height: 3;
        padding: 0;
    }
    """

    _time = "--:--"
    _date: str | None = None

    @property
    def time_text(self) -> str:
        """The time shown, e.g. "13:05"."""
        return self._time

    @property
    def date_text(self) -> str | None:
        """The date shown under the time, if any."""
        return self._date

    def set_time(self, time_text: str, date_text: str | None = None) -> None:
        """Show `time_text` (digits and ':') and an optional `date_text` under it."""
        new = (clean(time_text, 12), None if date_text is None else clean(date_text, 40))
        if new != (self._time, self._date):
            self._time, self._date = new
            self.digit_room_changed()
            self.content_changed()

    def on_resize(self, event: events.Resize) -> None:
        """Mark a big tile (its title goes bold, see statdash.tcss)."""
        mark_big(self, event.size.height)
        self.digit_room_changed()

    def _digit_room(self) -> tuple[int, int]:
        """(cells across, rows down) the digits may take, the date line and a gap left out."""
        width, height = self.lines_size
        date_rows = 1 if self._date and height >= 2 else 0
        return max(1, width - 2), height - date_rows - (1 if height > 4 else 0)

    def own_digit_size(self) -> DigitSize | None:
        """The size of big digits this tile would draw alone (None: a line of text)."""
        width, height = self.lines_size
        if width <= 0 or height <= 0:
            return None
        # The widest time of this shape, so 11:11 and 20:08 are drawn at one size.
        hint = "".join("8" if char.isdigit() else char for char in self._time)
        return fit(self._time, *self._digit_room(), hint=hint)

    def digit_fits(self, size: DigitSize) -> bool:
        """True if the time fits this tile at `size`."""
        width, rows = self._digit_room()
        needed = text_width(self._time, size)
        return needed is not None and needed <= width and size.rows <= rows

    def content_lines(self, width: int, height: int) -> list[Text]:
        """Big digits when they fit, else the time as a line of text; the date below."""
        if width <= 0 or height <= 0:
            return []
        dim = Style(dim=True) if self.stale else Style()
        date_rows = 1 if self._date and height >= 2 else 0
        size = self.drawing_size()
        rows = render(self._time, size) if size is not None else None
        lines = [as_text(row, Style(bold=True) + dim) for row in rows or []]
        if not lines:
            lines = [Text(self._time, Style(bold=True) + dim)]
        if date_rows:
            if len(lines) > 1 and height - len(lines) - date_rows >= 1:
                lines.append(Text())
            lines.append(Text(self._date or "", Style(bold=True) + dim))
        top = max(0, (height - len(lines)) // 2)
        lines = [Text() for _ in range(top)] + lines
        for line in lines:
            line.truncate(width, overflow="ellipsis")
            line.align("center", width)
        return lines
