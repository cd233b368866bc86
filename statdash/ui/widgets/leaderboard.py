"""Leaderboard: ranked places, each `rank  name  bar  figure`, the bars to one scale.

The widget draws what it is given and knows nothing of layouts: the panel ranks the objects
and formats their figures. Names and figures are untrusted text, shown through `clean`. On a
tall tile (a wallboard's) the places spread over the height with blank lines between them,
so a board of five reads from across the room like a KPI tile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text

from statdash.text import clean
from statdash.ui.widgets.framed import LineTile

NAME_MAX = 30
FIGURE_MAX = 16
MAX_GAP = 2
"""Blank lines at most between two places on a tall tile."""
MIN_BAR = 4
"""Narrower than this the bar is left out: name and figure matter more."""


@dataclass(frozen=True, slots=True)
class Place:
    """One place on the board: who, the figure as shown, and its bar as a share (0 to 1) of
    the longest the board draws."""

    name: str
    figure: str
    share: float
    style: Style = field(default_factory=Style)
    """The figure's style (its threshold level), or none."""
    mark: str = ""
    """The level's glyph after the figure, so a level reads without colour."""


class Leaderboard(LineTile):
    """The first places of a ranking; `waiting` text while no object has a figure."""

    DEFAULT_CSS = """
    Leaderboard {
        height: 1fr;
        padding: 0 1;
    }
    Leaderboard > .leaderboard--bar {
        color: $primary;
    }
    Leaderboard > .leaderboard--rank {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"leaderboard--bar", "leaderboard--rank"}  # noqa: RUF012 - Textual's pattern

    _places: tuple[Place, ...] = ()
    _note = "waiting for values"

    @property
    def places(self) -> tuple[Place, ...]:
        """The places shown, first to last."""
        return self._places

    def set_places(self, places: Sequence[Place], note: str = "") -> None:
        """Show `places` (cleaned here), and `note` under them (e.g. how many have no figure)."""
        cleaned = tuple(
            Place(
                clean(place.name, NAME_MAX),
                clean(place.figure, FIGURE_MAX),
                min(1.0, max(0.0, place.share)),
                place.style,
                place.mark,
            )
            for place in places
        )
        note = clean(note, 80)
        if (cleaned, note) != (self._places, self._note):
            self._places, self._note = cleaned, note
            self.content_changed()

    def content_lines(self, width: int, height: int) -> list[Text]:
        """One line per place, spread over a tall tile; plain `Text`, no markup parsed."""
        if width <= 0 or height <= 0:
            return []
        dim = Style(dim=True) if self.stale else Style()
        lines = [self._line(place, rank, width, dim) for rank, place in enumerate(self._places, 1)]
        if self._note and len(lines) < height:
            lines.append(Text(self._note, Style(dim=True, italic=True)))
        spare = height - len(lines)
        gap = min(MAX_GAP, spare // max(1, len(lines) - 1)) if len(lines) > 1 and spare > 0 else 0
        top = max(0, (height - len(lines) - gap * (len(lines) - 1)) // 2)
        shown: list[Text] = [Text() for _ in range(top)]
        for index, line in enumerate(lines):
            if index:
                shown.extend(Text() for _ in range(gap))
            shown.append(line)
        for line in shown[:height]:
            line.truncate(width, overflow="ellipsis")
        return shown[:height]

    def _line(self, place: Place, rank: int, width: int, dim: Style) -> Text:
        """`1  Ana Silva  ██████      42`: rank, name, a bar to scale, the figure at the right."""
        rank_text = f"{rank:>2} "
        names = max((len(p.name) for p in self._places), default=0)
        figures = max((len(p.figure) + len(p.mark) for p in self._places), default=0)
        name_width = min(names, max(6, width - len(rank_text) - figures - 2))
        bar_width = width - len(rank_text) - name_width - figures - 2
        line = Text(no_wrap=True, end="")
        line.append(rank_text, self.get_component_rich_style("leaderboard--rank") + dim)
        name = place.name if len(place.name) <= name_width else place.name[: name_width - 1] + "…"
        line.append(name.ljust(name_width), Style(bold=rank == 1) + dim)
        line.append(" ")
        if bar_width >= MIN_BAR:
            cells = round(place.share * bar_width)
            bar_style = self.get_component_rich_style("leaderboard--bar") + dim
            line.append("█" * cells, bar_style)
            line.append(" " * (bar_width - cells))
        else:
            line.append(" " * max(0, bar_width))
        line.append(" ")
        figure = Text(place.figure, place.style + dim)
        figure.append(place.mark, place.style + dim)
        line.append_text(Text(" " * (figures - figure.cell_len)))
        line.append_text(figure)
        return line
