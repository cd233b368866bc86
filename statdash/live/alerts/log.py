"""The alert log: one JSON object a line for every raise, acknowledge and clear, appended safely.

    {"time": "2026-12-02T03:14:54Z", "event": "raised", "alert": "Sales backlog",
     "level": "alarm", "object_type": "Queue", "object_id": "8001@SIP_Switch", "value": 7,
     "shown": "7", "worst": 7, "worst_shown": "7"}

A `cleared` event that the condition did not end carries `"why": "off-hours"`: the rule's
`active` window closed while the alert stood.

The file is opened for appending (other writers' lines and earlier runs' stay), and every line
is flushed as it is written, so a killed run loses nothing already logged and `tail -f` sees
each event at once. Text from the layout or a server is cleaned of control characters: a log
read in a terminal must not act on it. A write that fails (disk full, file removed, no
permission) raises `AlertLogError` with a sentence naming the file; the log then stops
writing rather than failing again on every event.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from statdash.layout.formats import figure_text
from statdash.live.alerts.book import AlertEvent
from statdash.regular import NotRegularFile, open_regular
from statdash.text import clean

LOGGED_EVENTS = frozenset({"raised", "acknowledged", "cleared"})
MAX_TEXT = 200


class AlertLogError(Exception):
    """The alert log cannot be opened or written; the message says which file and why."""


def iso_utc(epoch: float) -> str:
    """`2026-12-02T03:14:54Z`: ISO 8601 in UTC, to the second."""
    moment = datetime.fromtimestamp(epoch, UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _figure(value: float | str | None) -> float | int | str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a count reads 7, not 7.0
    if isinstance(value, str):
        return clean(value, MAX_TEXT)
    return value


def log_record(event: AlertEvent) -> dict[str, object]:
    """The JSON object of one event, keys in the documented order: the figure now (`value`,
    `shown` in the statistic's format) and the worst of the episode (`worst`, `worst_shown`)."""
    alert = event.alert
    rule = alert.rule
    value = _figure(alert.value)
    worst = _figure(alert.worst if alert.worst is not None else alert.value)
    record: dict[str, object] = {
        "time": iso_utc(event.time),
        "event": event.kind,
        "alert": clean(alert.rule.name, MAX_TEXT),
        "level": alert.rule.level,
        "object_type": clean(alert.object.type, MAX_TEXT),
        "object_id": clean(alert.object.id, MAX_TEXT),
        "value": value,
        "shown": figure_text(alert.value, rule.format, rule.decimals),
        "worst": worst,
        "worst_shown": figure_text(
            alert.worst if alert.worst is not None else alert.value, rule.format, rule.decimals
        ),
    }
    if event.why is not None:
        # Only when the condition did not end it: "off-hours", its active window closed.
        record["why"] = event.why
    return record


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__


class AlertLog:
    """Appends events to one file; `open()` first, so a bad path is known before the run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self.failed = False
        """True once a write failed: nothing more is written."""

    def open(self) -> None:
        """Open (or create) the file for appending; AlertLogError when that is impossible."""
        if self._file is not None:
            return
        try:
            # Only a regular file: a FIFO would block the start until a reader came (and
            # ignore Ctrl+C meanwhile); a directory or device is no log.
            descriptor = open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except NotRegularFile as error:
            raise AlertLogError(f"cannot write the alert log {self.path}: {error}") from None
        except OSError as error:
            raise AlertLogError(f"cannot write the alert log {self.path}: {_why(error)}") from None
        # Line buffering is not enough: flush() after each line says "written" plainly.
        self._file = open(descriptor, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def write(self, event: AlertEvent) -> bool:
        """Append `event` if it is one the log keeps; False when it was not logged.

        Raises AlertLogError on the first failed write (later calls return False quietly).
        """
        if event.kind not in LOGGED_EVENTS or self.failed:
            return False
        if self._file is None:
            self.open()
        assert self._file is not None
        line = json.dumps(log_record(event), ensure_ascii=False, allow_nan=False) + "\n"
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as error:
            self.failed = True
            self._abandon()
            raise AlertLogError(
                f"stopped writing the alert log {self.path}: {_why(error)}; alerts still show"
            ) from None
        return True

    def _abandon(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            # Closing flushes what a failed write left buffered and fails the same way; the
            # descriptor is released all the same.
            with contextlib.suppress(OSError):
                file.close()

    def close(self) -> None:
        """Close the file (safe to call more than once)."""
        self._abandon()
