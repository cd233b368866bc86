"""StatusBar: one line of connection health (server, phase, data age, poll time, errors, page).

It never wraps: when the line is too narrow, a long message is first cut to MESSAGE_MIN cells,
then the least important parts go (a zero error count, poll time, server, page, error count,
data age), then the message is cut further; the phase, the DEMO mark and the layout notice
(a broken layout file: what to press to read why) always stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.theme import Theme
from textual.widget import Widget

from statdash.layout.formats import Level
from statdash.text import clean, safe
from statdash.ui.palette import colour_style, level_style
from statdash.ui.widgets.line import line_region

SEPARATOR = " │ "
MESSAGE_MIN = 32
MESSAGE_SEPARATOR = ": "
HOST_MAX = 40

_PHASES: dict[str, tuple[str, str]] = {
    "connecting": ("◌", "cyan"),
    "live": ("●", "green"),
    "retrying": ("↻", "yellow"),
    "paused": ("‖", "grey"),
    "failed": ("✗", "red"),
    "replaying": ("▶", "cyan"),
}


# How values arrive when all is well: anything else is news (push that is not working costs
# the server more; a hub lost, or a hub whose upstream is lost, leaves the screen stale).
_CALM = frozenset(
    {
        "push",
        "poll",
        "push connecting",
        "hub: push",
        "hub: poll",
        "hub connecting",
        "hub: connecting",
    }
)


def is_news(updates: str) -> bool:
    """True when how values arrive is worth a warning colour on the status line."""
    return updates not in _CALM


def arrives_by_push(updates: str) -> bool:
    """True while values are pushed to this dashboard (by the server, or by a hub whatever
    its own upstream does): then there is no poll time to show, only the last check."""
    if updates.startswith("hub: "):
        return True
    return updates.startswith("push") and "polling" not in updates


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """What the status bar shows; the app builds a new one whenever something changes.

    `phase` is one of connecting, live, retrying, paused, failed (others are shown as given);
    `retry_in`, `age` and `poll_ms` are seconds, seconds and milliseconds, None when unknown.
    """

    server: str
    phase: str
    retry_in: float | None = None
    age: float | None = None
    poll_ms: float | None = None
    errors: int = 0
    message: str | None = None
    demo: bool = False
    page: str | None = None
    layout: str | None = None
    """A notice about the layout file (e.g. an edit that could not be applied), kept whole."""
    updates: str | None = None
    """How values arrive: push, poll, push lost: polling, ... (None: not shown)."""
    corrected: int = 0
    """Values that reconciliation peeks under push corrected."""
    checked: str | None = None
    """Under push: when the last reconciliation ran and what it found (`checked_text`)."""
    replay: str | None = None
    """In a replay, the recorded moment shown (and the speed): shown instead of the age."""
    stopped: str | None = None
    """A feature that stopped on its own and why (recording on a full disk)."""


def host_of(server: str) -> str:
    """The host (and port) of a server address: never user, password, path or query."""
    raw = clean(server).strip()
    # Without a scheme, urlsplit would read the host as a path.
    url = raw if "://" in raw else f"//{raw}"
    netloc = url.partition("://")[2] if "://" in url else url[2:]
    netloc = netloc.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    try:
        split = urlsplit(url)
        host = split.hostname or ""
        port = split.port
    except ValueError:
        # A malformed port or bracketed host: keep what precedes the port rather than crash.
        return clean(netloc.rpartition(":")[0] or netloc, HOST_MAX)
    if port is not None:
        host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return clean(host, HOST_MAX)


def ago(seconds: float) -> str:
    """A short age: 2s, 4m, 1h 5m."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    return f"{whole // 3600}h {whole % 3600 // 60}m"


_MESSAGE_ORDER = 2


def checked_text(seconds_ago: float, newer: int, corrected: int) -> str:
    """`checked 2m ago: 3 newer`: the last reconciliation under push and what it found."""
    if corrected:
        found = f"{corrected} corrected"
    elif newer:
        found = f"{newer} newer"
    else:
        found = "all current"
    return f"checked {ago(seconds_ago)} ago: {found}"


class _Part(NamedTuple):
    order: int
    priority: int
    """Parts with the lowest priority are dropped first."""
    text: Text


class StatusBar(Widget):
    """One line at the bottom: server, connection phase, data age, poll time, errors, page."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    StatusBar > .status-bar--demo {
        background: $warning;
        color: $background;
        text-style: bold;
    }
    StatusBar:ansi > .status-bar--demo {
        /* The ANSI default foreground is light on dark terminals: unreadable on yellow. */
        color: ansi_black;
    }
    """

    COMPONENT_CLASSES = {"status-bar--demo"}  # noqa: RUF012 - Textual's own pattern

    def __init__(
        self,
        info: StatusInfo | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A status bar showing `info` (connecting to nowhere until the app says otherwise)."""
        super().__init__(name=name, id=id, classes=classes)
        self._info = info or StatusInfo(server="", phase="connecting")
        # The line as last rendered: a new status whose line reads the same (the data age
        # moved from 1.2 s to 2.1 s, shown as 2s both times) repaints nothing, and one that
        # reads differently repaints the cells that differ ("2s" -> "3s": one cell).
        self._shown: Text | None = None
        # The line `update_status` built to compare, kept for the paint it asked for, with
        # what it was built for (width, status, theme): anything else and it is built again.
        self._next: tuple[int, StatusInfo, Theme, Text] | None = None

    @property
    def info(self) -> StatusInfo:
        """The status shown."""
        return self._info

    def update_status(self, info: StatusInfo) -> None:
        """Show `info`, repainting only the cells whose character or style changed (none
        when the line reads the same)."""
        if info == self._info:
            return
        self._info = info
        # Before the first render (or off screen) there is nothing to compare with.
        if self._shown is None or not self.is_mounted:
            self.refresh()
            return
        # Only the cells that read differently are sent ("updated 7s ago": one cell).
        line = self._line()
        region = line_region(self._shown, line, self.content_region.width)
        if region is not None:
            # The paint that follows draws this line (unless width, status or theme move first).
            self._next = (self.size.width, info, self.app.current_theme, line)
            self.refresh(region)

    def render(self) -> Text:
        """The line as plain `Text` (what `render_line` draws): no markup is parsed, so data
        cannot style or act."""
        return self._line()

    def render_line(self, y: int) -> Strip:
        """The line's segments over the bar's own style, drawn directly: Textual's path for
        `render()` rebuilt its content model of the whole line each time a cell moved (about
        a millisecond a second on a 200-column paused dashboard, more than the cell)."""
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        ready, self._next = self._next, None
        if ready is not None and ready[:3] == (width, self._info, self.app.current_theme):
            line = ready[3]
        else:
            line = self._line()
        self._shown = line
        segments = Segment.apply_style(line.render(self.app.console), base)
        return Strip(segments).adjust_cell_length(width, base)

    def _line(self) -> Text:
        width = self.size.width
        parts, message_part = self._parts()
        if message_part is not None and _width(parts) > width:
            message_part.text.truncate(MESSAGE_MIN, overflow="ellipsis")
        # Drop the least important parts until the line fits.
        while parts and _width(parts) > width:
            droppable = [part for part in parts if part.priority < 90]
            if not droppable:
                break
            parts.remove(min(droppable, key=lambda part: part.priority))
        overflow = _width(parts) - width
        if overflow > 0 and message_part is not None and message_part in parts:
            message = message_part.text
            message.truncate(max(1, message.cell_len - overflow), overflow="ellipsis")
        line = Text(no_wrap=True, end="", overflow="ellipsis")
        line.append(" ")
        for index, part in enumerate(sorted(parts, key=lambda part: part.order)):
            if part is message_part:
                line.append(MESSAGE_SEPARATOR)
            elif index:
                line.append(SEPARATOR, Style(dim=True))
            line.append_text(part.text)
        line.truncate(width, overflow="ellipsis")
        return line

    def _parts(self) -> tuple[list[_Part], _Part | None]:
        info = self._info
        theme = self.app.current_theme
        parts: list[_Part] = []
        if info.demo:
            parts.append(
                _Part(0, 100, Text(" DEMO ", self.get_component_rich_style("status-bar--demo")))
            )
        if info.replay is not None:
            parts.append(
                _Part(0, 100, Text(" REPLAY ", self.get_component_rich_style("status-bar--demo")))
            )
        glyph, colour = _PHASES.get(info.phase, ("?", "white"))
        phase = Text(f"{glyph} ", colour_style(colour, theme))
        phase.append_text(safe(info.phase, Style(bold=True), max_length=16))
        retry_in = info.retry_in
        if info.phase == "retrying" and retry_in is not None and 0 <= retry_in < math.inf:
            phase.append(f" in {math.ceil(retry_in)}s")
        if info.updates and info.phase != "failed":
            # (Failed: the message says why, and how values would arrive does not matter.)
            style = level_style(Level.WARN, theme) if is_news(info.updates) else Style()
            phase.append(" · ", Style(dim=True))
            phase.append_text(safe(info.updates, style, max_length=28))
        parts.append(_Part(1, 99, phase))
        message_part = None
        if info.message:
            message = safe(info.message, max_length=200)
            if info.phase == "failed":
                message.stylize(colour_style("red", theme))
            message_part = _Part(_MESSAGE_ORDER, 90, message)
            parts.append(message_part)
        if info.layout:
            notice = safe(info.layout, level_style(Level.ALARM, theme), max_length=60)
            parts.append(_Part(3, 95, notice))
        if info.stopped:
            notice = safe(info.stopped, level_style(Level.ALARM, theme), max_length=60)
            parts.append(_Part(3, 94, notice))
        if info.server:
            parts.append(_Part(3, 30, safe(host_of(info.server))))
        if info.replay is not None:
            parts.append(_Part(4, 85, safe(info.replay, Style(bold=True), max_length=40)))
        elif info.age is not None and math.isfinite(info.age):
            parts.append(_Part(4, 80, Text(f"updated {ago(info.age)} ago")))
        elif info.phase != "failed":
            parts.append(_Part(4, 80, Text("no data yet")))
        if info.poll_ms is not None and math.isfinite(info.poll_ms):
            parts.append(_Part(5, 10, Text(f"poll {round(info.poll_ms)} ms")))
        if info.checked:
            parts.append(_Part(5, 15, safe(info.checked, max_length=40)))
        if info.corrected:
            parts.append(_Part(5, 20, Text(f"{info.corrected} corrected")))
        if info.errors:
            noun = "error" if info.errors == 1 else "errors"
            errors = Text(f"{info.errors} {noun}", level_style(Level.WARN, theme))
            parts.append(_Part(6, 50, errors))
        else:
            parts.append(_Part(6, 5, Text("0 errors")))
        if info.page:
            parts.append(_Part(7, 40, safe(info.page, Style(bold=True), max_length=20)))
        return parts, message_part


def _width(parts: list[_Part]) -> int:
    """Cells the parts take on the line, with the leading space and separators."""
    # Every part but the first is preceded by a separator; the message's is shorter.
    separators = len(SEPARATOR) * max(0, len(parts) - 1)
    if any(part.order == _MESSAGE_ORDER for part in parts):
        separators -= len(SEPARATOR) - len(MESSAGE_SEPARATOR)
    return 1 + sum(part.text.cell_len for part in parts) + separators
