"""FramedWidget: the base of the bordered, titled widgets, which dim and say "stale" when old;
LineTile: one that draws its lines itself and prepares them before its page is shown.

Their look (border, title colours, the dashed border of stale data) is in `statdash.tcss`,
once for all of them, beside the table panel's.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from statdash.text import safe

TITLE_MAX = 40


class FramedWidget(Widget):
    """A widget in a border titled with an untrusted label, marked when its data is stale."""

    stale: reactive[bool] = reactive(False)
    """True when the data shown is old: the widget dims and says "stale", keeping the data."""

    def __init__(
        self,
        label: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A widget titled `label` (untrusted text is fine: it is shown through `safe`)."""
        super().__init__(name=name, id=id, classes=classes)
        if label:
            self.border_title = safe(label, max_length=TITLE_MAX)

    def watch_stale(self, stale: bool) -> None:
        """Mark the border and subtitle so staleness is visible without colour."""
        self.set_class(stale, "-stale")
        self.border_subtitle = Text("stale", Style(bold=True)) if stale else None


class LineTile(FramedWidget):
    """A framed tile that draws its lines itself (Textual's Line API) and prepares them ahead.

    Through `render()`, every change of a tile made Textual convert its whole text into
    strips again and, the tile refreshed whole, do its border and style work on every line:
    4-7 ms a tile, and a wallboard's page turn drew 8-9 tiles that changed while hidden in
    one frame. Here the tile builds its lines as strips (`prepare`), compares them with the
    lines on screen and repaints only those that differ (a trend that moved: its trend rows).
    On screen that happens when what it shows changes; on a hidden page, when the page is
    about to be shown (`PageGrid.prepare`, ahead of a rotation's turn a step per tile), so
    the turn itself composes lines already built.
    """

    _strips: list[Strip] | None = None
    """The content lines drawn, one Strip per row of the content area."""
    _strips_for: tuple[object, ...] | None = None
    """What `_strips` were built for (the content size and the theme's name)."""
    _changed: bool = True
    """What the tile shows changed since `_strips` were built."""
    _planned: Size | None = None
    """The outer size it will have when its hidden page is shown (`plan`)."""

    def content_lines(self, width: int, height: int) -> list[Text]:
        """The content as lines of plain `Text` (no markup is parsed), at most `height`,
        for a content area `width` x `height`."""
        raise NotImplementedError

    @property
    def lines_size(self) -> Size:
        """The content size the lines are drawn for: the tile's own on screen; on a hidden
        page (Textual gives a hidden widget no region) the size planned for its showing
        (`plan`), else the size it had when last laid out."""
        size = self.size
        if size.width and size.height:
            return size
        width, height = self._planned or self.outer_size
        if not width or not height:
            return Size(0, 0)
        return Region(0, 0, width, height).shrink(self.styles.gutter).size

    def plan(self, outer: Size) -> None:
        """The tile will be `outer` cells (border included) when its hidden page is shown:
        `prepare` builds its lines for that size."""
        self._planned = outer

    def _lines_key(self) -> tuple[object, ...]:
        # Asked on every line Textual draws: the theme's name, not `current_theme`, which
        # copies the registry of themes on each call (~10 ms a turn's frame, profiled).
        return (self.lines_size, self.app.theme)

    def content_changed(self) -> None:
        """What the tile shows changed: drawn now when on screen (only the lines that
        differ), else when `prepare` is called before its page is shown."""
        self._changed = True
        if self.is_mounted and all(node.display for node in self.ancestors_with_self):
            self.prepare()

    def prepare(self) -> bool:
        """Build the lines if what the tile shows (or its size) changed since they were
        built, and repaint those that differ from the lines drawn; True if it built."""
        key = self._lines_key()
        if not self._changed and key == self._strips_for:
            return False
        before, before_for = self._strips, self._strips_for
        after = self._build(key)
        if before is None or before_for != key:
            self.refresh()
            return True
        width = self.lines_size.width
        for start, end in _differing_runs(before, after):
            self.refresh(Region(0, start, width, end - start))
        return True

    def _build(self, key: tuple[object, ...]) -> list[Strip]:
        width, height = self.lines_size
        base = self.rich_style
        console = self.app.console
        blank = Strip.blank(width, base)
        strips = [
            Strip(Segment.apply_style(_segments(line, console), base)).adjust_cell_length(
                width, base
            )
            for line in self.content_lines(width, height)[:height]
        ]
        strips.extend([blank] * (height - len(strips)))
        self._strips, self._strips_for, self._changed = strips, key, False
        return strips

    def render_line(self, y: int) -> Strip:
        """Line `y` of the content, built ahead (`prepare`) or now for a new size or theme."""
        key = self._lines_key()
        strips = self._strips
        if strips is None or key != self._strips_for:
            # Textual redraws a widget whole when its size or the theme changes: every line
            # comes here, so building now shows no line of an older build.
            strips = self._build(key)
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected part of the lines shown: Textual's own reads `render()`, which a
        tile drawing its lines does not use (it would copy the widget's CSS name)."""
        text = "\n".join(strip.text for strip in self._strips or ())
        return selection.extract(text), "\n"

    def watch_stale(self, stale: bool) -> None:
        """Mark the border and subtitle; the lines are drawn again, dimmed or not."""
        super().watch_stale(stale)
        self.content_changed()

    def on_show(self) -> None:
        """On screen: its own size counts from now on; changes not yet prepared (a page
        shown by a path that did not prepare it) are drawn now, a frame late, not never."""
        self._planned = None
        if self._changed:
            self.prepare()


def _segments(line: Text, console: Console) -> Iterable[Segment]:
    """The segments of one line of `Text` in its styles (`Text.render` leaves out the text's
    own style when it has no spans: `Console.render` would add it, with wrapping work a line
    of known width does not need)."""
    if line.spans:
        return line.render(console)
    return [Segment(line.plain, console.get_style(line.style, default=Style.null()))]


def _differing_runs(before: list[Strip], after: list[Strip]) -> list[tuple[int, int]]:
    """The runs `[start, end)` of rows where two builds of the same size differ."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for row, (old, new) in enumerate(zip(before, after, strict=True)):
        if old != new:
            if start is None:
                start = row
        elif start is not None:
            runs.append((start, row))
            start = None
    if start is not None:
        runs.append((start, len(after)))
    return runs
