"""Tests for statdash.layout.formats: display strings and threshold levels."""

from __future__ import annotations

import pytest

from statdash.api.values import AgentStateValue, NumberValue, UnknownValue
from statdash.layout.formats import (
    MISSING,
    Level,
    Thresholds,
    duration,
    format_value,
    number_of,
    state_style,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0:00:00"),
        (59.9, "0:00:59"),
        (61, "0:01:01"),
        (3600, "1:00:00"),
        (36125, "10:02:05"),
        (-5, "-0:00:05"),
        (float("nan"), MISSING),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    """Durations read as h:mm:ss."""
    assert duration(seconds) == text


def test_formats_of_numbers() -> None:
    """Each numeric format renders the same figure its own way."""
    value = NumberValue(1234.56, "1234.56")
    assert format_value(value, "integer") == "1,235"
    assert format_value(value, "decimal") == "1,234.6"
    assert format_value(value, "percent") == "1234.6%"
    assert format_value(value, "duration") == "0:20:34"
    assert format_value(value, "text") == "1234.56"


def test_missing_and_unknown_values() -> None:
    """A value not yet arrived shows a dash; an unknown shape shows its raw data, cleaned."""
    assert format_value(None, "integer") == MISSING
    # JSON escapes the ESC itself, so the raw data stays inert.
    assert format_value(UnknownValue({"x": "\x1b[2J"}), "integer") == '{"x": "\\u001b[2J"}'


def test_state_words_glyphs_and_unknown_names() -> None:
    """Known states have a word and glyph; an unknown name is shown as sent, without controls."""
    assert format_value(AgentStateValue("WaitForNextCall"), "state") == "Ready"
    assert state_style("CallOnHold").glyph == "‖"
    odd = state_style("Odd\x1b]0;x\x07")
    assert odd.word == "Odd\ufffd]0;x\ufffd" and odd.glyph == "?"
    assert state_style("WaitForNextCall", {"WaitForNextCall": "blue"}).colour == "blue"


def test_glyphs_are_distinct() -> None:
    """No two states share a glyph, so states read without colour."""
    from statdash.layout.formats import STATE_STYLES

    glyphs = [style.glyph for style in STATE_STYLES.values()]
    assert len(set(glyphs)) == len(glyphs)


def test_thresholds_above_and_below() -> None:
    """Levels follow the direction: above for 'high is bad', below for 'low is bad'."""
    waiting = Thresholds(warn=5, alarm=10)
    assert [waiting.level(n) for n in (4, 5, 10, None)] == [
        Level.OK,
        Level.WARN,
        Level.ALARM,
        Level.OK,
    ]
    service = Thresholds(warn=80, alarm=70, direction="below")
    assert [service.level(n) for n in (90, 80, 69.9)] == [Level.OK, Level.WARN, Level.ALARM]
    assert Level.ALARM.word == "alarm" and Level.WARN.glyph == "!"


def test_number_of() -> None:
    """Only numbers have a numeric figure."""
    assert number_of(NumberValue(3.0, "3")) == 3.0
    assert number_of(AgentStateValue("LoggedOut")) is None
