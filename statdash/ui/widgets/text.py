"""TextTile: a message from the layout, wrapped and centred in a titled tile."""

from __future__ import annotations

import textwrap

from rich.style import Style
from rich.text import Text

from statdash.text import clean
from statdash.ui.widgets.framed import FramedWidget

MESSAGE_MAX = 1000


class TextTile(FramedWidget):
    """A titled tile showing lines of text, bold, each wrapped to the width and centred."""

    DEFAULT_CSS = """
    TextTile {
        width: 1fr;
        height: 100%;
        min-height: 3;
        padding: 0 1;
    }
    """

    _lines: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """The message shown (cleaned), lines joined by newlines."""
        return "\n".join(self._lines)

    def set_message(self, message: str) -> None:
        """Show `message` (untrusted; line breaks kept, other control characters not)."""
        lines = tuple(clean(line) for line in message[:MESSAGE_MAX].splitlines())
        if lines != self._lines:
            self._lines = lines
            self.refresh()

    def render(self) -> Text:
        """The wrapped lines, centred across and down; what does not fit ends in an ellipsis."""
        width, height = self.size
        text = Text(no_wrap=True, end="", overflow="crop")
        if width <= 0 or height <= 0:
            return text
        wrapped = [piece for line in self._lines for piece in (textwrap.wrap(line, width) or [""])]
        if len(wrapped) > height:
            wrapped = [*wrapped[: height - 1], clean(" ".join(wrapped[height - 1 :]), width)]
        style = Style(bold=True, dim=self.stale)
        top = max(0, (height - len(wrapped)) // 2)
        for index, line in enumerate([""] * top + wrapped):
            if index:
                text.append("\n")
            piece = Text(line, style)
            piece.align("center", width)
            text.append_text(piece)
        return text
