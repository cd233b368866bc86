"""PageRotation: which page a rotating wallboard shows, and until when (plain logic, no Textual).

Each page stays for its own time (`show_for:`, else the layout's `rotate:`); any key stops the
rotation, `R` resumes it from the page on screen with that page's full time. Time is a
monotonic clock the caller passes in, so tests move it by hand.
"""

from __future__ import annotations

from collections.abc import Sequence


class PageRotation:
    """The rotation state over pages shown for `times[i]` seconds each."""

    def __init__(self, times: Sequence[float], now: float, page: int = 0) -> None:
        if len(times) < 2 or any(seconds <= 0 for seconds in times):
            raise ValueError("a rotation needs two or more pages, each with a positive time")
        self.times = tuple(times)
        self.page = page
        self.running = True
        self._until = now + self.times[page]

    def remaining(self, now: float) -> float:
        """Seconds until the next page comes (0 when it is due)."""
        return max(0.0, self._until - now)

    @property
    def next_page(self) -> int:
        """The page that comes after the one on screen."""
        return (self.page + 1) % len(self.times)

    def due(self, now: float) -> int | None:
        """The page to show now, when the rotation has moved on; None to stay.

        After a long stall (a suspended laptop) it moves one page, not every page it missed.
        """
        if not self.running or now < self._until:
            return None
        self.page = self.next_page
        self._until = now + self.times[self.page]
        return self.page

    def stop(self) -> None:
        """Stop on the page on screen (a key was pressed)."""
        self.running = False

    def resume(self, now: float, page: int) -> None:
        """Rotate again from `page` (the one on screen), which gets its full time."""
        self.page = page
        self.running = True
        self._until = now + self.times[page]
