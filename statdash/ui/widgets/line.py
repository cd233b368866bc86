"""TextLine and `changed_cells`: a one-line widget that sends the terminal only what changed.

A wallboard's title line moves its countdown ("next: 2 Queues in 17s") and the status line its
data age ("updated 7s ago") every second; repainted whole, each sent its 200 styled columns
(~0.6 KB) for two changed cells. `changed_cells` tells which cells of a left-aligned line
differ (character or style), so the widget repaints only those: Textual then renders the line
but writes just that region.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

Cell = tuple[str, tuple[object, ...]]
_BLANK: Cell = (" ", ())


def _cells(text: Text) -> list[Cell]:
    """Each cell of a one-line text: its character (empty for the second cell of a wide
    one) and the styles over it, in order."""
    plain = text.plain
    styles: list[list[object]] = [[text.style] for _ in plain]
    for span in text.spans:
        for index in range(span.start, min(span.end, len(plain))):
            styles[index].append(span.style)
    cells: list[Cell] = []
    for char, over in zip(plain, styles, strict=True):
        cell = (char, tuple(over))
        cells.append(cell)
        cells.extend([("", cell[1])] * (cell_len(char) - 1))
    return cells


def changed_cells(before: Text, after: Text) -> tuple[int, int] | None:
    """The cells `[start, end)` where two left-aligned lines read or look different, None
    where they are the same; the shorter is taken as padded with blanks."""
    if before.plain == after.plain and before.spans == after.spans and before.style == after.style:
        # The same words in the same styles (most calls: the age moved within its second).
        return None
    old, new = _cells(before), _cells(after)
    if old == new:
        return None
    length = max(len(old), len(new))
    old += [_BLANK] * (length - len(old))
    new += [_BLANK] * (length - len(new))
    start = next(index for index in range(length) if old[index] != new[index])
    end = next(index for index in range(length, start, -1) if old[index - 1] != new[index - 1])
    return start, end


def line_region(before: Text, after: Text, width: int) -> Region | None:
    """The region of a one-line widget `width` cells wide to repaint when its text goes from
    `before` to `after` (its whole line when either is wider: the ellipsis moves); None when
    nothing visible changed."""
    if before.cell_len > width or after.cell_len > width:
        return Region(0, 0, width, 1)
    span = changed_cells(before, after)
    if span is None:
        return None
    start, end = span
    return Region(start, 0, end - start, 1)


class TextLine(Widget):
    """One line of text (plain `Text`: no markup is parsed); a new text repaints only the
    cells that changed."""

    DEFAULT_CSS = """
    TextLine {
        height: 1;
    }
    """

    def __init__(
        self, text: Text | None = None, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text if text is not None else Text()

    @property
    def text(self) -> Text:
        """The line shown."""
        return self._text

    def show(self, text: Text) -> None:
        """Show `text`; only its cells that differ from the line shown are repainted."""
        before, self._text = self._text, text
        if not self.is_mounted:
            self.refresh()
            return
        region = line_region(before, text, self.content_region.width)
        if region is not None:
            self.refresh(region)

    def render(self) -> Text:
        """The line."""
        return self._text
