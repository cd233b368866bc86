"""PageRotation: each page for its time, one page on after a stall, stop and resume."""

from __future__ import annotations

import pytest

from statdash.ui.rotation import PageRotation


def test_each_page_stays_for_its_own_time_and_the_last_wraps_to_the_first() -> None:
    """Pages of 10 s and 30 s come in turn, the countdown counting down to each."""
    rotation = PageRotation([10.0, 30.0], now=0.0)
    assert rotation.due(9.9) is None
    assert rotation.remaining(4.0) == 6.0
    assert rotation.due(10.0) == 1
    assert rotation.remaining(10.0) == 30.0
    assert rotation.due(39.0) is None
    assert rotation.due(40.0) == 0


def test_a_long_stall_moves_one_page_not_every_page_missed() -> None:
    """After an hour without a check the next page comes, with its full time."""
    rotation = PageRotation([10.0, 10.0, 10.0], now=0.0)
    assert rotation.due(3600.0) == 1
    assert rotation.due(3600.0) is None


def test_a_stopped_rotation_stays_and_resumes_from_the_page_shown() -> None:
    """Stopped, no page is due; resumed on page 2, page 2 gets its full time first."""
    rotation = PageRotation([10.0, 20.0, 5.0], now=0.0)
    rotation.stop()
    assert rotation.due(100.0) is None
    rotation.resume(100.0, page=1)
    assert rotation.due(119.0) is None
    assert rotation.due(120.0) == 2


def test_a_rotation_needs_two_pages_with_times() -> None:
    """One page, or a page without a positive time, is refused."""
    with pytest.raises(ValueError):
        PageRotation([10.0], now=0.0)
    with pytest.raises(ValueError):
        PageRotation([10.0, 0.0], now=0.0)
