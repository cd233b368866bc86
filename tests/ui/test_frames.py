"""A partial frame sends the changed cells themselves, not the line from the widget's edge."""

from __future__ import annotations

import re

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from statdash.ui.frames import CroppedChopsUpdate, from_cell

NAME = Style(color="red", bold=True)
CLOCK = Style(color="blue")


def sent(update: CroppedChopsUpdate) -> str:
    """What the frame writes to the terminal, its colour codes left out (text and moves)."""
    written = update.render_segments(Console(force_terminal=True))
    return re.sub(r"\x1b\[[0-9;]*m", "", written)


def one_chop(segments: list[Segment], span: tuple[int, int]) -> CroppedChopsUpdate:
    """A frame of one line, one chop (a widget from column 0 to the line's end), one span."""
    strip = Strip(segments)
    return CroppedChopsUpdate([{0: strip}], [(0, *span)], [[strip.cell_length]])


def test_a_span_inside_a_line_sends_its_cells_only() -> None:
    """A clock at columns 10-17 of a coloured row sends a move to column 10 and the clock:
    not the name before it, not the figures after it."""
    update = one_chop(
        [Segment("ana.silva ", NAME), Segment("0:00:34", CLOCK), Segment("  12  87%")], (10, 17)
    )
    assert sent(update) == "\x1b[1;11H0:00:34"


def test_a_span_that_cuts_a_segment_sends_from_the_span() -> None:
    """The span's first cell may be in the middle of a segment: the segment is cut there."""
    update = one_chop([Segment("Ready   0:00:34 ", CLOCK)], (8, 15))
    assert sent(update) == "\x1b[1;9H0:00:34"


def test_a_span_over_the_whole_line_sends_it_whole() -> None:
    """A status line repainted whole is sent whole, from its first column."""
    update = one_chop([Segment(" live", NAME), Segment(" │ updated 2s ago")], (0, 22))
    assert sent(update) == "\x1b[1;1H live │ updated 2s ago"


def test_a_span_starting_inside_a_wide_character_starts_at_that_character() -> None:
    """A wide character is never cut in half: half of one would wipe it off the terminal."""
    update = one_chop([Segment("ab漢cd")], (3, 5))
    assert sent(update) == "\x1b[1;3H漢c"


def test_from_cell_counts_cells_not_characters() -> None:
    """Cutting after the first four cells of `漢字ab` leaves `ab`, at cell 4."""
    assert from_cell([Segment("漢字"), Segment("ab")], 4) == (4, [Segment("ab")])
    assert from_cell([Segment("漢字ab")], 3) == (2, [Segment("字ab")])
    assert from_cell([Segment("ab")], 5) == (2, [])
