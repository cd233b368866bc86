"""What a frame sends to the terminal: the cells that changed, not the lines up to them.

Textual 8.2.8 composes a partial frame from "chops" (a line cut at every widget's edges) and
sends, for each changed span of a line, the chops it touches: cropped on the right at the
span's end, but not on the left (`ChopsUpdate.render_segments`; upstream's `__rich_console__`
still says "TODO: crop to x extents"). A table's clock at column 40 that moved one second
therefore sent its whole row from the table's left edge, every cell with its colours (a
paused floor.yaml sent 11 KB/s for 44 clocks and the status line). `CroppingCompositor`
renders the same chops and sends each from the span's first cell (or the start of the
character that covers it: a wide character is never cut in half).
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from textual._compositor import ChopsUpdate, Compositor
from textual.strip import Strip


def from_cell(segments: list[Segment], start: int) -> tuple[int, list[Segment]]:
    """`segments` less their first `start` cells: (the cell they now begin at, the rest).

    The cut never splits a character: when `start` falls inside a wide one, the rest begins
    at that character (the cell returned is then `start - 1`).
    """
    x = 0
    for index, segment in enumerate(segments):
        text = segment.text
        length = cell_len(text)
        if x + length <= start:
            x += length
            continue
        if x >= start:
            return x, segments[index:]
        cut = 0
        for character in text:
            width = get_character_cell_size(character)
            if x + width > start:
                break
            x += width
            cut += 1
        first = Segment(text[cut:], segment.style, segment.control)
        return x, [first, *segments[index + 1 :]]
    return x, []


class CroppedChopsUpdate(ChopsUpdate):
    """A partial frame that sends each changed span from its first cell to its last."""

    def render_segments(self, console: Console) -> str:
        """The frame as terminal output: per span, a cursor move and the span's cells."""
        sequences: list[str] = []
        append = sequences.append
        move_to = Control.move_to
        chops = self.chops
        chop_ends = self.chop_ends
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            line = chops[y]
            ends = chop_ends[y]
            for end, (x, strip) in zip(ends, line.items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                if x2 > x >= x1 and end <= x2:
                    # The chop lies inside the span: sent whole, as Textual sends it.
                    append(move_to(x, y).segment.text)
                    append(strip.render(console))
                    continue
                strip = strip.crop(0, min(end, x2) - x)
                if x < x1:
                    skipped, segments = from_cell(list(strip), x1 - x)
                    x += skipped
                    strip = Strip(segments)
                append(move_to(x, y).segment.text)
                append(strip.render(console))
            if y != last_y:
                append("\n")
        return "".join(sequences)


class CroppingCompositor(Compositor):
    """Textual's compositor, whose partial frames are `CroppedChopsUpdate`s."""

    def render_partial_update(self) -> ChopsUpdate | None:
        """The changed spans, rendered as Textual renders them, sent cropped to the spans."""
        update = super().render_partial_update()
        if update is None:
            return None
        return CroppedChopsUpdate(update.chops, update.spans, update.chop_ends)
