"""StateSummary: agents per state as one stacked bar across the width plus a wrapping legend.

The legend (`glyph word count`) carries the meaning; the bar gives the proportions at a
glance. Segments start with the state glyph, and with NO_COLOR (where backgrounds vanish)
they are filled with it, so the bar still reads as proportions without any colour. A segment
too narrow for its count leaves the count to the legend, so when the widget is shorter than
its legend (a fixed row of the page) the legend drops the words first (`● 12  ■ 3`), then the
entries whose count the bar shows, and never the count of a narrow segment.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.geometry import Size

from statdash.layout.formats import StateStyle
from statdash.text import clean
from statdash.ui.palette import colour_style, fill_style
from statdash.ui.widgets.framed import LineTile

WORD_MAX = 24
_ENTRY_GAP = "  "


def allocate(counts: Sequence[int], width: int) -> list[int]:
    """Split `width` cells in proportion to `counts` (largest remainder), summing to `width`.

    Every non-zero count gets at least one cell while there are cells to give, taken from
    the widest segment, so a single agent in a rare state is still visible in the bar.
    """
    total = sum(count for count in counts if count > 0)
    if width <= 0 or total <= 0:
        return [0] * len(counts)
    exact = [max(count, 0) * width / total for count in counts]
    cells = [int(share) for share in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - cells[i], reverse=True)
    for index in by_remainder[: width - sum(cells)]:
        cells[index] += 1
    for index, count in enumerate(counts):
        if count > 0 and cells[index] == 0:
            widest = max(range(len(cells)), key=lambda i: cells[i])
            if cells[widest] <= 1:
                break
            cells[widest] -= 1
            cells[index] = 1
    return cells


class StateSummary(LineTile):
    """How many agents are in each state: a stacked bar and a `● Ready 12` legend."""

    DEFAULT_CSS = """
    StateSummary {
        height: auto;
        /* Never taller than the cell it is in: its lines then make the legend fit. */
        max-height: 100%;
        padding: 0 1;
    }
    StateSummary > .state-summary--empty {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"state-summary--empty"}  # noqa: RUF012 - Textual's own pattern

    # Replaced by each update (immutable, so class-level defaults are safe and the constructor
    # is FramedWidget's). The entries hold the cleaned words, computed once per update rather
    # than on every paint.
    _counts: tuple[tuple[StateStyle, int], ...] = ()
    _entries: tuple[tuple[StateStyle, str, int], ...] = ()

    @property
    def counts(self) -> tuple[tuple[StateStyle, int], ...]:
        """The counts shown, in legend order."""
        return self._counts

    def set_counts(self, counts: Sequence[tuple[StateStyle, int]]) -> None:
        """Show these states in this order; negative counts are treated as zero."""
        new = tuple((style, max(0, int(count))) for style, count in counts)
        if new == self._counts:
            return
        width = self.lines_size.width
        lines_before = len(self._legend_lines(width))
        self._counts = new
        self._entries = tuple((style, clean(style.word, WORD_MAX), count) for style, count in new)
        # A new layout costs a pass over the whole screen; only a legend that gained or lost
        # a line needs one (counts change every poll, their digits rarely rewrap the legend).
        if len(self._legend_lines(width)) != lines_before:
            self.refresh(layout=True)
        # Drawn as lines (LineTile): only the lines whose text moved are repainted; through
        # `render()` Textual converted the whole summary again, ~3.6 ms a second under push
        # on floor.yaml (docs/performance.md).
        self.content_changed()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The bar plus as many legend lines as the entries need at this width."""
        return 1 + len(self._legend_lines(width))

    def _legend_entries(self, *, words: bool = True) -> list[str]:
        entries = [
            f"{style.glyph} {word} {count}" if words else f"{style.glyph} {count}"
            for style, word, count in self._entries
        ]
        entries.append(f"total {sum(count for _style, _word, count in self._entries)}")
        return entries

    def _legend_lines(
        self, width: int, *, words: bool = True, skip: frozenset[int] = frozenset()
    ) -> list[list[int]]:
        """Indexes of the legend entries on each line; an entry never splits across lines.

        Entries in `skip` are left out (their count is in the bar already).
        """
        if not self._entries:
            return []
        lines: list[list[int]] = [[]]
        used = 0
        for index, entry in enumerate(self._legend_entries(words=words)):
            if index in skip:
                continue
            needed = len(entry) + (len(_ENTRY_GAP) if lines[-1] else 0)
            if lines[-1] and used + needed > width:
                lines.append([])
                used, needed = 0, len(entry)
            lines[-1].append(index)
            used += needed
        return lines

    def content_lines(self, width: int, height: int) -> list[Text]:
        """Bar and legend as lines of plain `Text` for a content area `width` x `height`:
        no markup is parsed, so data cannot style or act."""
        return list(self._summary(width, height).split("\n", allow_blank=True))

    def _summary(self, width: int, height: int) -> Text:
        dim = Style(dim=True) if self.stale else Style()
        if not self._entries:
            return Text("no agents", self.get_component_rich_style("state-summary--empty"))
        text = Text(no_wrap=True, end="", overflow="crop")
        counted = self._render_bar(text, width, dim)
        theme = self.app.current_theme
        room = height - 1
        words = True
        lines = self._legend_lines(width)
        if len(lines) > room:
            words = False
            lines = self._legend_lines(width, words=False)
        if len(lines) > room:
            lines = self._legend_lines(width, words=False, skip=counted)
        entries = self._legend_entries(words=words)
        for line in lines:
            text.append("\n")
            for position, index in enumerate(line):
                if position:
                    text.append(_ENTRY_GAP)
                if index == len(self._entries):
                    text.append(entries[index], Style(dim=True) + dim)
                    continue
                style, word, count = self._entries[index]
                zero = Style(dim=True) if count == 0 else Style()
                text.append(style.glyph, colour_style(style.colour, theme) + zero + dim)
                text.append(f" {word} " if words else " ", zero + dim)
                text.append(str(count), Style(bold=True) + zero + dim)
        return text

    def _render_bar(self, text: Text, width: int, dim: Style) -> frozenset[int]:
        """Append the bar; returns the indexes of the entries whose count it shows."""
        counts = [count for _style, _word, count in self._entries]
        cells = allocate(counts, width)
        if not any(cells):
            text.append("─" * width, self.get_component_rich_style("state-summary--empty"))
            return frozenset()
        theme = self.app.current_theme
        no_colour = self.app.no_color
        counted: set[int] = set()
        for index, ((style, _word, count), size) in enumerate(
            zip(self._entries, cells, strict=True)
        ):
            if not size:
                continue
            if no_colour:
                text.append(style.glyph * size, dim)
                continue
            label = f"{style.glyph} {count}"
            if len(label) < size:
                counted.add(index)
                body = label.ljust(size)
            else:
                body = style.glyph.ljust(size)[:size]
            text.append(body, fill_style(style.colour, theme) + dim)
        return frozenset(counted)
