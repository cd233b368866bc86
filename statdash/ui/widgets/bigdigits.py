"""Big digits for figures read across a room: glyph sizes from 3 rows up, picked by the space.

Two fonts. The smallest size is Textual's 3x3 box-drawing digits plus the characters
dashboard values need and Textual's font lacks ('.', ',', ':', '%', the en dash shown for a
missing value). Every larger size draws a 5x7 pixel font with block characters, each
pixel `pw` cells wide and `ph` half-rows tall (two half-rows share a cell through '▀'/'▄'),
so a pixel stays about square (a cell is about twice as tall as it is wide) or, at most,
half again as tall as wide: 4 rows at the smallest, 7, 11, 14, 18 ... as the tile allows.
`as_text` paints full pixels as reverse-video spaces: a terminal fills those cells edge to
edge, where a '█' glyph leaves hairlines in some fonts (and in SVG screenshots).
A text holding any other character (a state word, "n/a") has no big form: None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

from rich.style import Style
from rich.text import Text
from textual.renderables.digits import DIGITS, DIGITS3X3

from statdash.layout.formats import MISSING

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

_DASH = ("....", "....", "....", "####", "....", "....", "....")
# Seven rows each; '#' is a lit pixel. Digits are 5 wide, punctuation narrower.
_PIXELS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "%": ("##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "-": _DASH,
    MISSING: _DASH,
    ":": (".", ".", "#", ".", "#", ".", "."),
    ".": (".", ".", ".", ".", ".", ".", "#"),
    ",": (".", ".", ".", ".", ".", "#", "#"),
    " ": ("..", "..", "..", "..", "..", "..", ".."),
}
PIXEL_ROWS = 7
MAX_PIXEL_HEIGHT = 16
"""Half-rows per pixel at the largest size (56 terminal rows of digits)."""
_HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


@dataclass(frozen=True, slots=True, order=True)
class DigitSize:
    """One size of big digits: how many rows it takes, and its pixel (None: the 3x3 font)."""

    rows: int
    pixel_width: int = 0
    """Cells per pixel across (0 for the 3x3 font)."""
    pixel_height: int = 0
    """Half-rows per pixel down (0 for the 3x3 font)."""

    @property
    def pixels(self) -> bool:
        """True for the block-pixel font, False for the 3x3 box-drawing one."""
        return self.pixel_width > 0


SMALL = DigitSize(3)


@cache
def sizes() -> tuple[DigitSize, ...]:
    """Every size, smallest first (the 3x3 font, then the pixel font ever larger)."""
    found = [SMALL]
    for height in range(1, MAX_PIXEL_HEIGHT + 1):
        for width in range(math.ceil(height / 1.5), height + 1):
            found.append(DigitSize(math.ceil(PIXEL_ROWS * height / 2), width, height))
    return tuple(sorted(found))


def _glyph3(char: str) -> tuple[str, str, str] | None:
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
    """`text` as three rows of the 3x3 font, or None if a character has no big form."""
    rows: tuple[list[str], list[str], list[str]] = ([], [], [])
    for char in text:
        glyph = _glyph3(char)
        if glyph is None:
            return None
        for row, piece in zip(rows, glyph, strict=True):
            row.append(piece)
    top, middle, bottom = ("".join(row) for row in rows)
    return top, middle, bottom


@lru_cache(maxsize=4096)
def text_width(text: str, size: DigitSize) -> int | None:
    """Cells `text` takes at `size`, or None if a character has no big form."""
    if not size.pixels:
        rows = big_digits(text)
        return None if rows is None else len(rows[0])
    if not text or any(char not in _PIXELS for char in text):
        return None
    pixels = sum(len(_PIXELS[char][0]) for char in text) + len(text) - 1  # one between glyphs
    return pixels * size.pixel_width


def render(text: str, size: DigitSize) -> list[str] | None:
    """`text` drawn at `size`, `size.rows` strings of equal width; None without a big form."""
    if not size.pixels:
        rows = big_digits(text)
        return None if rows is None else list(rows)
    if not text or any(char not in _PIXELS for char in text):
        return None
    bitmap: list[list[bool]] = [[] for _ in range(PIXEL_ROWS)]
    for index, char in enumerate(text):
        glyph = _PIXELS[char]
        for row in range(PIXEL_ROWS):
            if index:
                bitmap[row].append(False)  # the gap before this glyph
            bitmap[row].extend(pixel == "#" for pixel in glyph[row])
    # Scale: each pixel becomes pixel_width cells and pixel_height half-rows.
    half_rows = [
        [lit for lit in row for _ in range(size.pixel_width)]
        for row in bitmap
        for _ in range(size.pixel_height)
    ]
    if len(half_rows) % 2:
        half_rows.append([False] * len(half_rows[0]))
    return [
        "".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True))
        for top, bottom in zip(half_rows[::2], half_rows[1::2], strict=True)
    ]


FULL = "█"


def as_text(row: str, style: Style) -> Text:
    """One row of `render` as `Text` in `style`, full pixels painted as reverse spaces."""
    text = Text(no_wrap=True, end="")
    fill = style + Style(reverse=True)
    start = 0
    for index in range(1, len(row) + 1):
        # One span per run of full or of other cells.
        if index == len(row) or (row[index] == FULL) != (row[start] == FULL):
            run = row[start:index]
            if run[0] == FULL:
                text.append(" " * len(run), fill)
            else:
                text.append(run, style)
            start = index
    return text


@lru_cache(maxsize=1024)
def fit(text: str, width: int, rows: int, *, hint: str = "") -> DigitSize | None:
    """The largest size at which `text` fits `width` x `rows`, or None (no size fits).

    `hint` is the widest text the place usually shows (e.g. "100%"): the size that fits it
    too is preferred, so a value that grows by a digit does not change the size of the
    glyphs. When nothing fits the hint, the size is the text's own.

    Cached (as `text_width`): each tile of a row asks on every draw, and each ask tries up
    to a hundred sizes; a page turn spent ~8 ms of its frame here.
    """
    both: DigitSize | None = None
    alone: DigitSize | None = None
    for size in sizes():
        if size.rows > rows:
            break
        needed = text_width(text, size)
        if needed is None or needed > width:
            continue
        alone = size
        hinted = text_width(hint, size) if hint else needed
        if hinted is None or hinted <= width:
            both = size
    return both or alone


class DigitMember(Protocol):
    """A tile drawing big digits that shares their size with its neighbours (`DigitRow`)."""

    def own_digit_size(self) -> DigitSize | None:
        """The size this tile would draw at alone (None: no big digits now)."""
        ...

    def digit_fits(self, size: DigitSize) -> bool:
        """True if this tile's figure fits at `size`."""
        ...

    def drawn_otherwise(self) -> bool:
        """True if this tile was drawn with digits of another size than it would draw now."""
        ...

    def content_changed(self) -> None:
        """Draw again (its digits' size moved)."""
        ...


class DigitRow:
    """Tiles on one row of a page: their big digits are drawn at one size.

    Side by side, a `0` that could be 20 rows tall beside a duration that fits 7 reads as
    two kinds of figure; the row takes the largest size at which every tile's figure fits,
    no larger than any tile would draw alone. A tile that draws no big digits (its figure
    has no big form, or it is too small) takes no part.
    """

    def __init__(self) -> None:
        self._members: list[DigitMember] = []
        self._size: DigitSize | None = None

    def join(self, member: DigitMember) -> None:
        """Add a tile to the row."""
        self._members.append(member)

    def size(self) -> DigitSize | None:
        """The row's size now (None: no tile draws big digits)."""
        owns = {id(m): own for m in self._members if (own := m.own_digit_size()) is not None}
        if not owns:
            return None
        smallest = min(owns.values())
        taking_part = [member for member in self._members if id(member) in owns]
        for size in reversed(sizes()):
            if size <= smallest and all(member.digit_fits(size) for member in taking_part):
                return size
        return None

    def changed(self) -> None:
        """A tile's figure or room changed: when the row's size moves, every tile drawn at
        another size redraws.

        Only those: when a page is first shown its tiles are sized one after the other, and
        each one's resize moves the row's size, but the frame that showed them already drew
        every tile at the size of the whole row (redrawing them all again was a second full
        frame of the page).
        """
        size = self.size()
        if size != self._size:
            self._size = size
            for member in self._members:
                if member.drawn_otherwise():
                    member.content_changed()


_NOT_DRAWN = object()


class DigitTile:
    """What a tile drawing big digits shares with its neighbours (a mixin, after the widget):
    the row it belongs to, the size it draws at, and telling the row when its room moved.
    The tile gives `own_digit_size` and `digit_fits` (see `DigitMember`)."""

    digit_row: DigitRow | None = None
    """The tiles beside it on its page row, whose digits are drawn at one size with its."""
    _drawn: object = _NOT_DRAWN
    """The size its digits were last drawn at (`drawing_size`); _NOT_DRAWN before a render."""

    def own_digit_size(self) -> DigitSize | None:
        """The size this tile would draw at alone (None: no big digits now)."""
        raise NotImplementedError

    def digit_size(self) -> DigitSize | None:
        """The size its digits are drawn at: the row's (`DigitRow`), else its own."""
        size = self.own_digit_size()
        if size is not None and self.digit_row is not None:
            size = self.digit_row.size() or size
        return size

    def drawing_size(self) -> DigitSize | None:
        """`digit_size` for a render, which remembers it as the size drawn."""
        size = self.digit_size()
        self._drawn = size
        return size

    def drawn_otherwise(self) -> bool:
        """True if it was drawn with digits of another size than it would draw now (never
        drawn: False, its first render draws it as it is)."""
        return self._drawn is not _NOT_DRAWN and self._drawn != self.digit_size()

    def digit_room_changed(self) -> None:
        """Its figure or its size changed: the row settles its one size again."""
        if self.digit_row is not None:
            self.digit_row.changed()
