"""Tests for statdash.live.server_clock: the server's clock from the timestamps it sends."""

from __future__ import annotations

from statdash.live.server_clock import ServerClock


class Wall:
    """A settable local clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_before_any_timestamp_the_local_clock_stands_in() -> None:
    """With nothing from the server yet, the estimate is the PC's clock."""
    wall = Wall(1_000.0)
    clock = ServerClock(wall=wall)
    assert not clock.known and clock.now() == 1_000.0


def test_a_server_ahead_or_behind_is_followed() -> None:
    """A timestamp 300 s ahead (milliseconds) moves the estimate there, and on with time."""
    wall = Wall(1_700_000_000.0)
    clock = ServerClock(wall=wall)
    clock.observe([1_700_000_300_000, None, "x", True])
    assert clock.now() == 1_700_000_300.0
    wall.now += 2
    assert clock.now() == 1_700_000_302.0
    behind = ServerClock(wall=wall)
    behind.observe([1_699_999_702.0])
    assert behind.now() == 1_699_999_702.0


def test_older_timestamps_say_nothing_and_a_fast_clock_is_measured() -> None:
    """A value produced earlier does not pull the estimate back; a server clock running 5x
    (a time-scaled simulator) is followed at that rate once seen over a few seconds."""
    wall = Wall(0.0)
    clock = ServerClock(wall=wall)
    clock.observe_time(10_000.0)
    clock.observe_time(9_000.0)
    assert clock.now() == 10_000.0
    for step in range(1, 11):
        wall.now = float(step)
        clock.observe_time(10_000.0 + 5 * step)
    wall.now = 12.0
    assert abs(clock.now() - 10_060.0) < 1e-6
