"""When an alert rule is on: time windows such as `Mon-Fri 08:00-20:00`, judged at a wall time.

A window is optional days (`Mon`, `Mon-Fri`, `Fri-Mon`, `Mon,Wed,Fri`; none: every day) and
a time range. A range whose end is not after its start runs past midnight (`22:00-06:00`):
it belongs to the day it opens on, so `Fri 22:00-06:00` holds until Saturday 06:00. `24:00`
ends a window at midnight. Windows are read in the layout's time zone (`timezone:`, default
the computer's own), and judged at an epoch time handed in: nothing here reads a clock.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EXAMPLES = ("Mon-Fri 08:00-20:00", "Sat 09:00-13:00", "22:00-06:00")
EXAMPLE_TEXT = '"Mon-Fri 08:00-20:00", "Sat 09:00-13:00" or "22:00-06:00"'
MINUTES_PER_DAY = 24 * 60

_WINDOW = re.compile(
    r"^(?:(?P<days>[A-Za-z][A-Za-z ,\-]*?)\s+)?"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WindowError(ValueError):
    """A window's text cannot be read; the message says what is wrong and shows the form."""


@dataclass(frozen=True, slots=True)
class Window:
    """Days (0 = Monday) a window opens on, and its minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int
    """Minutes after midnight; not after `start`: the window runs past midnight."""
    text: str

    def contains(self, weekday: int, minute: int) -> bool:
        """True when `minute` of day `weekday` (0 = Monday) is inside the window."""
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        # Across midnight: opened today, or opened yesterday and still running.
        yesterday = (weekday - 1) % 7
        return (weekday in self.days and minute >= self.start) or (
            yesterday in self.days and minute < self.end
        )


@dataclass(frozen=True, slots=True)
class ActiveHours:
    """A rule's windows in a time zone (None: the computer's own)."""

    windows: tuple[Window, ...]
    timezone: str | None = None

    def is_open(self, wall: float) -> bool:
        """True when epoch time `wall` falls inside one of the windows."""
        if self.timezone is None:
            moment = datetime.fromtimestamp(wall).astimezone()
        else:
            moment = datetime.fromtimestamp(wall, zoneinfo.ZoneInfo(self.timezone))
        weekday, minute = moment.weekday(), moment.hour * 60 + moment.minute
        return any(window.contains(weekday, minute) for window in self.windows)

    @property
    def text(self) -> str:
        """The windows as the layout wrote them: `Mon-Fri 08:00-20:00, Sat 09:00-13:00`."""
        return ", ".join(window.text for window in self.windows)


def parse_window(text: str) -> Window:
    """`Mon-Fri 08:00-20:00` -> a Window; WindowError saying what is wrong otherwise."""
    match = _WINDOW.match(text.strip())
    if match is None:
        raise WindowError(f"expected a time window such as {EXAMPLE_TEXT}")
    start = _minute(match["start"], end=False)
    end = _minute(match["end"], end=True)
    if start == end:
        raise WindowError(
            f"{match['start']}-{match['end']} starts and ends at the same time; for the whole"
            " day write 00:00-24:00"
        )
    days = _days(match["days"]) if match["days"] else frozenset(range(7))
    return Window(days, start, end, " ".join(text.split()))


def _minute(clock: str, *, end: bool) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if end and (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise WindowError(f"{clock} is not a time of day (00:00 to 23:59, or 24:00 to end)")
    return hours * 60 + minutes


def _day(word: str) -> int:
    name = word.strip().lower()
    for number, full in enumerate(_FULL_NAMES):
        if len(name) >= 3 and full.startswith(name):
            return number
    raise WindowError(
        f"{word.strip()!r} is not a day; use {', '.join(DAY_NAMES)}"
        f" (e.g. {EXAMPLES[0]!r} or {EXAMPLES[1]!r})"
    )


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if not dash:
            days.add(_day(first))
            continue
        # A range may wrap round the week: Fri-Mon is Fri, Sat, Sun, Mon.
        low, high = _day(first), _day(last)
        days.update((low + step) % 7 for step in range((high - low) % 7 + 1))
    return frozenset(days)
