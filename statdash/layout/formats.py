"""The layout's formats, threshold levels and state styles, and the display strings they make.

The vocabulary a layout file uses (`format: duration`, warn/alarm thresholds, state words and
glyphs) and the pure functions over `statdash.api.values` that apply it, shared by the
layout compiler, the screen and `statdash snapshot`.
Everything returned is plain text; callers pass server-supplied parts through `text.clean`
(state names and reasons here are cleaned on the way out already).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from statdash.api.values import AgentStateValue, NumberValue, StatValue, UnknownValue
from statdash.text import clean

FormatName = Literal["integer", "decimal", "percent", "duration", "state", "text"]
Direction = Literal["above", "below"]

MISSING = "\u2013"  # an en dash, quieter than a hyphen
"""Shown where a value has not arrived (yet)."""
NOT_AVAILABLE_TEXT = "n/a"
NOT_AVAILABLE = NumberValue(math.nan, NOT_AVAILABLE_TEXT)
"""The value of a formula that has none (a division by zero, a missing input): a number
that is not one, so every reader of numbers passes it by (`number_of` gives None)."""

MAX_TEXT = 60
LOGGED_OUT = "LoggedOut"
"""The status of an agent who is not logged in (thresholds leave their figures alone)."""


class Level(Enum):
    """Threshold level of a value: each has a word and a glyph so colour is never alone."""

    OK = ("ok", "")
    WARN = ("warning", "!")
    ALARM = ("alarm", "‼")

    @property
    def word(self) -> str:
        """The level as a word ('warning', 'alarm')."""
        return self.value[0]

    @property
    def glyph(self) -> str:
        """A one-cell mark put beside a value at this level ('' when ok)."""
        return self.value[1]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Warning and alarm levels; `direction` says whether high or low values are bad."""

    warn: float | None = None
    alarm: float | None = None
    direction: Direction = "above"
    when_logged_out: bool = False
    """Whether the figures of an agent who is logged out are judged too (an agents table)."""
    format: FormatName | None = None
    """The format the figure is shown in: it is judged as shown (84.96 shown `85%` is 85)."""
    decimals: int = 0
    """The decimals it is shown with (decimal and percent formats)."""

    def level(self, number: float | None) -> Level:
        """The level of `number` as shown (OK when there is no number or no threshold)."""
        if number is None or math.isnan(number):
            return Level.OK
        if self.format is not None:
            number = shown_figure(number, self.format, self.decimals)
        if self.alarm is not None and self._crosses(number, self.alarm):
            return Level.ALARM
        if self.warn is not None and self._crosses(number, self.warn):
            return Level.WARN
        return Level.OK

    def _crosses(self, number: float, limit: float) -> bool:
        return number >= limit if self.direction == "above" else number <= limit


@dataclass(frozen=True, slots=True)
class StateStyle:
    """How an agent state is shown: a word, a one-cell glyph, and a palette colour name."""

    word: str
    glyph: str
    colour: str


# Stat Server status names -> display. Glyphs are distinct shapes, one cell wide in common
# terminal fonts, so states read without colour (NO_COLOR, colour-blind users).
STATE_STYLES: dict[str, StateStyle] = {
    "WaitForNextCall": StateStyle("Ready", "●", "green"),
    "NotReadyForNextCall": StateStyle("Not ready", "■", "red"),
    "AfterCallWork": StateStyle("After call", "✎", "yellow"),
    "CallInbound": StateStyle("Inbound", "◀", "blue"),
    "CallOutbound": StateStyle("Outbound", "▶", "cyan"),
    "CallInternal": StateStyle("Internal", "◆", "blue"),
    "CallConsult": StateStyle("Consult", "◇", "blue"),
    "CallOnHold": StateStyle("On hold", "‖", "magenta"),
    "CallRinging": StateStyle("Ringing", "♪", "cyan"),
    "CallDialing": StateStyle("Dialing", "↗", "cyan"),
    LOGGED_OUT: StateStyle("Logged out", "○", "grey"),
    "NotMonitored": StateStyle("Not monitored", "-", "grey"),
    "Monitored": StateStyle("Monitored", "~", "grey"),
    "LoggedIn": StateStyle("Logged in", "+", "white"),
    "OnHook": StateStyle("On hook", "_", "white"),
    "OffHook": StateStyle("Off hook", "↑", "cyan"),
    "ASM_Engaged": StateStyle("ASM engaged", "»", "cyan"),
    "ASM_Outbound": StateStyle("ASM outbound", "&", "cyan"),
    "CallUnknown": StateStyle("On a call", "*", "blue"),
}
UNKNOWN_STATE = StateStyle("Unknown", "?", "grey")


def state_style(status: str, overrides: dict[str, str] | None = None) -> StateStyle:
    """Display of a status name; unknown ones (an unknown number too) are shown as they came
    (cleaned)."""
    style = STATE_STYLES.get(status)
    if style is None:
        style = StateStyle(clean(status, 24), UNKNOWN_STATE.glyph, UNKNOWN_STATE.colour)
    if overrides and status in overrides:
        style = StateStyle(style.word, style.glyph, overrides[status])
    return style


def state_key(text: str) -> str:
    """A state name or word as compared when a layout names a state: `LoggedOut`, `Logged out`
    and `logged_out` are one key."""
    return "".join(char for char in text.casefold() if char.isalnum())


def matching_states(name: str, styles: Mapping[str, StateStyle]) -> frozenset[str]:
    """The keys of `styles` (status names, or numbers as text) that `name` means: the status
    name itself, or its word; a number also means the status Stat Server numbers so."""
    wanted = state_key(name)
    found = {
        status
        for status, style in styles.items()
        if wanted in (state_key(status), state_key(style.word))
    }
    if name.isdigit():
        found.add(name)
    return frozenset(found)


def shown_figure(number: float, fmt: FormatName, decimals: int = 0) -> float:
    """The figure `format_value` shows for `number`: what a reader compares with a threshold,
    so two cells that read the same carry the same level."""
    if not math.isfinite(number):
        return number
    if fmt == "integer":
        return float(round(number))
    if fmt in ("decimal", "percent"):
        return float(f"{number:.{decimals}f}")
    if fmt == "duration":
        return float(math.trunc(number))
    return number


def figure_text(figure: float | str | None, fmt: FormatName | None, decimals: int = 0) -> str:
    """An alert's figure as its statistic shows it (`88%`, `0:04:10`); without a format, a
    whole number plainly and a fraction to two decimals. None reads `no value`."""
    if figure is None:
        return "no value"
    if isinstance(figure, str):
        return clean(figure, 60)
    figure = float(figure)
    if fmt is not None and fmt not in ("state", "text"):
        return format_value(NumberValue(figure, repr(figure)), fmt, decimals=decimals)
    return f"{figure:,.0f}" if figure.is_integer() else f"{figure:,.2f}"


def duration(seconds: float) -> str:
    """h:mm:ss (no leading zero hours beyond one digit); '-' sign for negative input."""
    if not math.isfinite(seconds):
        return MISSING
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def number_of(value: StatValue | None) -> float | None:
    """The numeric figure of a value, for thresholds and sorting (None when not a number)."""
    if isinstance(value, NumberValue) and not math.isnan(value.number):
        return value.number
    return None


def format_value(value: StatValue | None, fmt: FormatName, *, decimals: int = 1) -> str:
    """The display text of `value` in format `fmt`."""
    if value is None:
        return MISSING
    if isinstance(value, AgentStateValue):
        return state_style(value.status).word if fmt == "state" else clean(value.status, MAX_TEXT)
    if isinstance(value, UnknownValue):
        return clean(value.describe(), MAX_TEXT)
    number = value.number
    if math.isnan(number):
        return NOT_AVAILABLE_TEXT
    if fmt == "integer":
        return f"{round(number):,}"
    if fmt == "decimal":
        return f"{number:,.{decimals}f}"
    if fmt == "percent":
        return f"{number:.{decimals}f}%"
    if fmt == "duration":
        return duration(number)
    return clean(value.text, MAX_TEXT)
