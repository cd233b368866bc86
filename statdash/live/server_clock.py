"""The server's clock as the client can estimate it: from the newest timestamps it sends.

Agent state times ("in state since") are the server's; counting them against the PC's clock
shows nonsense when the two differ (a server 5 minutes ahead reads `0:00:00` for everyone, one
behind adds 5 minutes to every figure) or run at different rates (a time-scaled simulator).
Every "for"/"since"/age figure is therefore counted to `ServerClock.now()`: the newest server
timestamp seen, moved on by the local time since it was seen, at the rate the server's clock
was seen to run (1 unless it clearly runs otherwise).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from statdash.api.values import newest_timestamp

# The rate is measured over at least this much local time, and at most over the last minute.
RATE_BASELINE = 5.0
RATE_WINDOW = 60.0
# A measured rate this close to 1 is 1 (timestamps are not ticks of a clock: jitter).
RATE_TOLERANCE = 0.05
RATE_LIMITS = (0.01, 1000.0)


class ServerClock:
    """Estimated server epoch time; the local clock until the server has said anything."""

    def __init__(self, *, wall: Callable[[], float] = time.time) -> None:
        # Local time passing is read on the PC's wall clock (the one the screen ticks on):
        # only its differences count, so its offset from the server's does not matter.
        self._wall = wall
        # (local time seen, newest server time then), oldest first, within RATE_WINDOW.
        self._seen: deque[tuple[float, float]] = deque()
        self._rate = 1.0

    @property
    def known(self) -> bool:
        """True once the server sent a timestamp."""
        return bool(self._seen)

    def observe(self, raw_timestamps: Sequence[object]) -> None:
        """Take the timestamps of one answer or push (raw: seconds or milliseconds)."""
        newest = newest_timestamp(raw_timestamps)
        if newest is not None:
            self.observe_time(newest)

    def observe_time(self, server_time: float) -> None:
        """The server's clock read `server_time` (epoch seconds) just now."""
        mono = self._wall()
        if self._seen and server_time <= self._estimate(mono):
            # An older timestamp (a value produced earlier) says nothing about now.
            return
        seen = self._seen
        seen.append((mono, server_time))
        while len(seen) > 2 and mono - seen[1][0] >= RATE_WINDOW:
            seen.popleft()
        first_mono, first_time = seen[0]
        if mono - first_mono >= RATE_BASELINE:
            rate = (server_time - first_time) / (mono - first_mono)
            low, high = RATE_LIMITS
            rate = min(max(rate, low), high)
            self._rate = 1.0 if abs(rate - 1.0) <= RATE_TOLERANCE else rate

    def now(self) -> float:
        """The server's clock now, as estimated."""
        return self._estimate(self._wall())

    def _estimate(self, mono: float) -> float:
        if not self._seen:
            return self._wall()
        last_mono, last_time = self._seen[-1]
        return last_time + (mono - last_mono) * self._rate
