"""Durations as people write them in a layout: `500ms`, `2s`, `1m`, `8h`, `1h30m`."""

from __future__ import annotations

import re

from statdash.text import clean

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h))+")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

# For the JSON Schema, so an editor flags `2 sec` before statdash does.
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h))+$"
# A hostile value must not turn into a screenful of message.
_SHOWN = 40
# Ten years: far past any refresh, window, delay or threshold, and finite (digits by the
# hundred read as infinity).
MAX_SECONDS = 10 * 365 * 24 * 3600.0


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError with a message a user can act on when it is not a duration."""
    compact = text.strip().replace(" ", "")
    if not compact:
        raise ValueError("expected a duration such as 2s, 500ms, 1m or 8h, got an empty value")
    if re.fullmatch(r"\d+(\.\d+)?", compact):
        # A bare number is ambiguous (seconds? minutes?), so the unit is required.
        shown = clean(compact, _SHOWN)
        raise ValueError(f"'{shown}' needs a unit: {shown}s, {shown}m or {shown}ms")
    if not _WHOLE.fullmatch(compact):
        raise ValueError(
            f"'{clean(text, _SHOWN)}' is not a duration; write it like 2s, 500ms, 1m, 8h or 1h30m"
        )
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    if not seconds <= MAX_SECONDS:
        # 310 digits read as infinity, which no timer or message could use.
        raise ValueError(
            f"'{clean(compact, _SHOWN)}' is longer than any duration statdash uses"
            f" (at most {format_duration(MAX_SECONDS)})"
        )
    return seconds


def is_duration(text: str) -> bool:
    """True when `text` reads as a duration (`parse_duration` would accept it)."""
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def format_duration(seconds: float) -> str:
    """The shortest way to write `seconds` in the layout syntax (`90` -> `1m30s`)."""
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
