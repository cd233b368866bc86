"""The one place that reads a statistic's `value` object; it never raises.

The API documents `value` only as "reflecting the Stat Server message". Known shapes:
numbers as `{"intValue", "stringValue", ...}` (the exact figure, e.g. a decimal, in
`stringValue`), and agent state as `{"stateValue": {"status", "time", "reason", ...}}`.
Anything else becomes an `UnknownValue` that keeps the raw data for display, so a server
that speaks a dialect we have not seen degrades to "shown as is", never to a crash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

# Epoch timestamps below this are seconds, above are milliseconds (10^11 s is the year 5138,
# 10^11 ms is 1973), so the magnitude tells the unit apart.
_SECONDS_MS_BOUNDARY = 1e11
_MAX_RAW_DESCRIPTION = 120
# Longer strings are not read as numbers (float() on a huge string is slow, and no real
# figure needs more digits).
_MAX_NUMBER_TEXT = 64
# Stat Server's status numbers (PSDK DN/agent status), which real servers send instead of
# names; codebases written independently of each other agree on them. 0-3 follow Genesys's
# status priority order (very probably right). A number read here becomes its name (the
# number is kept as `status_code`); an unknown number stays as its digits, shown `? N`.
STATUS_NUMBERS: dict[int, str] = {
    0: "NotMonitored",
    1: "Monitored",
    2: "LoggedIn",
    3: "OnHook",
    4: "WaitForNextCall",
    5: "OffHook",
    6: "CallDialing",
    7: "CallRinging",
    8: "NotReadyForNextCall",
    9: "AfterCallWork",
    13: "CallOnHold",
    16: "ASM_Engaged",
    17: "ASM_Outbound",
    18: "CallUnknown",
    19: "CallConsult",
    20: "CallInternal",
    21: "CallOutbound",
    22: "CallInbound",
    23: "LoggedOut",
}


@dataclass(frozen=True, slots=True)
class NumberValue:
    """A count, a duration in seconds, a percentage or an average.

    `number` is what thresholds and sorting use; `text` is the exact figure the server sent.
    """

    number: float
    text: str
    # When the server produced the value; not part of equality, so a re-sent unchanged
    # figure compares equal and costs nothing downstream.
    timestamp: float | None = field(default=None, compare=False)

    @property
    def is_integral(self) -> bool:
        """True when the figure has no fractional part (a count, whole seconds)."""
        return self.number.is_integer()


@dataclass(frozen=True, slots=True)
class AgentStateValue:
    """An agent's current state: status word, optional reason and when the state began."""

    status: str
    status_code: int | None = None
    reason: str | None = None
    since: float | None = None
    media: str | None = None
    place_id: str | None = None
    timestamp: float | None = field(default=None, compare=False)

    def seconds_in_state(self, now: float) -> float | None:
        """How long the agent has been in this state at epoch time `now` (never negative)."""
        if self.since is None:
            return None
        return max(0.0, now - self.since)


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """A value of a shape we do not know; `raw` is kept so it can be shown as it came."""

    raw: Any
    timestamp: float | None = field(default=None, compare=False)

    def describe(self) -> str:
        """A short one-line rendering of the raw data (still untrusted text)."""
        try:
            text = json.dumps(self.raw, ensure_ascii=False, sort_keys=True, default=str)
        except (TypeError, ValueError, RecursionError):
            # Mixed-type keys defeat sort_keys and absurd nesting defeats both dumps and repr;
            # a description must still come out.
            try:
                text = repr(self.raw)
            except (RecursionError, ValueError):
                text = f"<{type(self.raw).__name__}>"
        if len(text) > _MAX_RAW_DESCRIPTION:
            text = text[: _MAX_RAW_DESCRIPTION - 1] + "…"
        return text


StatValue = NumberValue | AgentStateValue | UnknownValue


def parse_timestamp(raw: object) -> float | None:
    """Epoch seconds from a timestamp in seconds or milliseconds (told apart by magnitude)."""
    number = _as_finite_number(raw)
    if number is None or number <= 0:
        return None
    return number / 1000.0 if number >= _SECONDS_MS_BOUNDARY else number


def newest_timestamp(raw_timestamps: Sequence[object]) -> float | None:
    """The newest of raw timestamps (JSON numbers only: no text, no booleans), in epoch
    seconds as `parse_timestamp` reads each; None when none is a timestamp.

    A poll brings 10,000 of them, every second: when all are integers in one unit (as
    servers send them), the newest is the largest, found in C, and only it is read.
    """
    if raw_timestamps and set(map(type, raw_timestamps)) == {int}:
        integers = cast("Sequence[int]", raw_timestamps)
        top, bottom = max(integers), min(integers)
        if bottom >= _SECONDS_MS_BOUNDARY or top < _SECONDS_MS_BOUNDARY:
            newest = parse_timestamp(top)
            if newest is not None or top <= 0:
                return newest
    # Mixed units or types, or a largest number that is no timestamp: read each.
    found: float | None = None
    for raw in raw_timestamps:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            stamp = parse_timestamp(raw)
            if stamp is not None and (found is None or stamp > found):
                found = stamp
    return found


def parse_value(raw: object, timestamp: object = None) -> StatValue:
    """Read one `value` object. `timestamp` is the statistic's own, used when the value has none."""
    if not isinstance(raw, dict):
        # Not the documented object; a bare number is still plainly a number.
        stamp = parse_timestamp(timestamp)
        number = _as_finite_number(raw)
        if number is not None and not isinstance(raw, str):
            return NumberValue(number=number, text=_number_text(number), timestamp=stamp)
        return UnknownValue(raw=raw, timestamp=stamp)
    stamp = parse_timestamp(raw.get("timestamp"))
    if stamp is None:
        stamp = parse_timestamp(timestamp)
    state = raw.get("stateValue")
    if isinstance(state, dict):
        parsed_state = _parse_agent_state(state, stamp)
        if parsed_state is not None:
            return parsed_state
        return UnknownValue(raw=raw, timestamp=stamp)
    parsed_number = _parse_number(raw, stamp)
    if parsed_number is not None:
        return parsed_number
    return UnknownValue(raw=raw, timestamp=stamp)


def same_value(raw: object, previous: StatValue) -> bool:
    """True only when `parse_value(raw, any timestamp)` would equal `previous`; never raises.

    Most statistics do not change between two polls, and this answers for them without
    building a value: a number whose `stringValue` is exactly the text `previous` kept, an
    agent state whose status, reason, start, media and place are the same. Types are checked
    exactly (JSON `true` is not `1` here, though Python's `==` says it is). False means
    "parse it to know": the value may still turn out equal.
    """
    if type(raw) is not dict:
        return False
    if type(previous) is NumberValue:
        text = raw.get("stringValue")
        # `previous.text` is a stripped figure that parsed as finite (or the text made from
        # one), so the same string parses to the same number; a `stateValue` object would
        # make it an agent state instead.
        return (
            type(text) is str
            and text == previous.text
            and len(text) <= _MAX_NUMBER_TEXT
            and not isinstance(raw.get("stateValue"), dict)
        )
    if type(previous) is AgentStateValue:
        state = raw.get("stateValue")
        if type(state) is not dict:
            return False
        status = state.get("status")
        if type(status) is str:
            if previous.status_code is not None or status != previous.status:
                return False
        elif type(status) is int:
            if status != previous.status_code:
                return False
        else:
            return False
        place = state.get("place")
        place_id = place.get("placeId") if isinstance(place, dict) else None
        return (
            _reason(state.get("reason")) == previous.reason
            and _optional_text(state.get("media")) == previous.media
            and (place_id if isinstance(place_id, str) else None) == previous.place_id
            and parse_timestamp(state.get("time")) == previous.since
        )
    return False


def _parse_number(raw: dict[str, Any], stamp: float | None) -> NumberValue | None:
    # stringValue carries the exact figure (e.g. "41.37" where intValue is 41), so it wins
    # when it is a number; intValue alone is the fallback.
    text = raw.get("stringValue")
    if isinstance(text, str):
        number = _as_finite_number(text)
        if number is not None:
            return NumberValue(number=number, text=text.strip(), timestamp=stamp)
    int_value = raw.get("intValue")
    if "intValue" in raw:
        number = _as_finite_number(int_value)
        if number is not None and not isinstance(int_value, str):
            return NumberValue(number=number, text=_number_text(number), timestamp=stamp)
    return None


def _parse_agent_state(state: dict[str, Any], stamp: float | None) -> AgentStateValue | None:
    status_raw = state.get("status")
    status_code: int | None = None
    if isinstance(status_raw, str) and status_raw.strip():
        status = status_raw
    elif isinstance(status_raw, int) and not isinstance(status_raw, bool):
        # Real Stat Servers send numbers: a known one becomes its name, others stay digits.
        # A code too long to print (int->str is capped at 4300 digits) is not a status.
        if abs(status_raw) >= 10**18:
            return None
        status_code = status_raw
        status = STATUS_NUMBERS.get(status_raw) or str(status_raw)
    else:
        return None
    place = state.get("place")
    place_id = place.get("placeId") if isinstance(place, dict) else None
    return AgentStateValue(
        status=status,
        status_code=status_code,
        reason=_reason(state.get("reason")),
        since=parse_timestamp(state.get("time")),
        media=_optional_text(state.get("media")),
        place_id=place_id if isinstance(place_id, str) else None,
        timestamp=stamp,
    )


def _reason(raw: object) -> str | None:
    """A reason as text; a reason code (Stat Server sends numbers too) as its digits."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**18:
        return str(raw)
    return _optional_text(raw)


def _optional_text(raw: object) -> str | None:
    if isinstance(raw, str) and raw:
        return raw
    return None


def _as_finite_number(raw: object) -> float | None:
    """A finite float from an int, float or numeric string; None for anything else (incl. bool)."""
    # Text first: most calls read a `stringValue` (and a str is never a bool).
    if isinstance(raw, str):
        if len(raw) > _MAX_NUMBER_TEXT:
            return None
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    elif isinstance(raw, bool):
        return None
    elif isinstance(raw, int):
        # Huge integers would overflow to inf; treat them as not-a-number rather than raise.
        try:
            number = float(raw)
        except OverflowError:
            return None
    elif isinstance(raw, float):
        number = raw
    else:
        return None
    return number if math.isfinite(number) else None


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)
