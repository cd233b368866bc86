"""Tests for statdash.layout.hours: alert rules' active windows, read and judged at plain times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from statdash.layout.hours import ActiveHours, WindowError, parse_window

# Monday 7 December 2026, 00:00 UTC.
MONDAY = datetime(2026, 12, 7, tzinfo=UTC).timestamp()
HOUR = 3600.0


def at(day: int, clock: str) -> float:
    """Epoch seconds of `clock` (HH:MM, UTC) on day `day` of that week (0 = Monday)."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return MONDAY + day * 24 * HOUR + hours * HOUR + minutes * 60


def is_open(text: str | list[str], day: int, clock: str, zone: str = "UTC") -> bool:
    windows = [text] if isinstance(text, str) else text
    return ActiveHours(tuple(parse_window(w) for w in windows), zone).is_open(at(day, clock))


def test_business_hours_hold_on_weekdays_between_the_times() -> None:
    """`Mon-Fri 08:00-20:00` is open from 08:00 up to, not at, 20:00 on weekdays only."""
    window = "Mon-Fri 08:00-20:00"
    assert is_open(window, 0, "08:00")
    assert is_open(window, 4, "19:59")
    assert not is_open(window, 4, "20:00")
    assert not is_open(window, 0, "07:59")
    assert not is_open(window, 5, "12:00")


def test_a_window_across_midnight_belongs_to_the_day_it_opens() -> None:
    """`Fri 22:00-06:00` holds Friday night into Saturday morning, not Thursday night."""
    window = "Fri 22:00-06:00"
    assert is_open(window, 4, "23:30")
    assert is_open(window, 5, "05:59")
    assert not is_open(window, 5, "06:00")
    assert not is_open(window, 4, "05:00")
    assert is_open("22:00-06:00", 0, "03:00")


def test_a_list_of_windows_is_open_in_any_of_them() -> None:
    """A single day and a range in one list: Saturday morning counts, Saturday evening not."""
    windows = ["Mon-Fri 08:00-20:00", "Sat 09:00-13:00"]
    assert is_open(windows, 5, "10:00")
    assert not is_open(windows, 5, "14:00")
    assert not is_open(windows, 6, "10:00")


def test_day_ranges_wrap_and_lists_and_full_names_are_read() -> None:
    """`Fri-Mon` wraps round the week; `mon,Wednesday` lists days; 24:00 ends at midnight."""
    assert sorted(parse_window("Fri-Mon 00:00-24:00").days) == [0, 4, 5, 6]
    assert sorted(parse_window("mon,Wednesday 08:00-12:00").days) == [0, 2]
    assert is_open("Sun 00:00-24:00", 6, "23:59")


def test_the_windows_are_read_in_the_layouts_time_zone() -> None:
    """08:00-20:00 in New York (UTC-5 in December) is open at 14:00 UTC, shut at 02:00 UTC."""
    assert is_open("08:00-20:00", 0, "14:00", "America/New_York")
    assert not is_open("08:00-20:00", 1, "02:00", "America/New_York")
    assert is_open("08:00-20:00", 1, "00:30", "America/New_York")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weekdays", 'expected a time window such as "Mon-Fri 08:00-20:00"'),
        ("Mon-Fri 8-20", 'expected a time window such as "Mon-Fri 08:00-20:00"'),
        ("Mon-Fro 08:00-20:00", "'Fro' is not a day; use Mon, Tue"),
        ("Mon 25:00-26:00", "25:00 is not a time of day"),
        ("08:00-08:00", "starts and ends at the same time; for the whole day write 00:00-24:00"),
    ],
)
def test_bad_windows_say_what_is_wrong(text: str, message: str) -> None:
    """Each kind of bad window gets its own sentence, with the right form shown."""
    with pytest.raises(WindowError) as caught:
        parse_window(text)
    assert message in str(caught.value)
