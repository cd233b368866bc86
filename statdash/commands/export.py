"""`statdash export FILE`: a recording's values as CSV or JSON lines, for scripts and sheets.

Every change is one line (time, object, the layout's label for the statistic, value), or
with `--every 1m` the whole state at each step. Strings from the file are cleaned of control
characters on the way out (CSV) or escaped (JSON), like every server string.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.commands.output import quiet_stdout
from statdash.commands.voice import Refused, Voice
from statdash.layout.durations import parse_duration
from statdash.live.recordings.file import Recording, RecordingError
from statdash.live.recordings.replay import moment_of_day
from statdash.text import clean

VOICE = Voice("export")
COLUMNS = (
    "time",
    "object_type",
    "object_id",
    "object_label",
    "statistic",
    "value",
    "reason",
    "since",
)
MAX_TEXT = 200


def run(args: argparse.Namespace) -> int:
    """Print the recorded values in the range; exit 2 for a bad file or flag."""
    step = None
    if args.every is not None:
        try:
            step = parse_duration(args.every)
        except ValueError as error:
            raise Refused(f"--every: {error}") from None
        if step <= 0:
            raise Refused("--every must be more than 0s")
    try:
        recording = Recording(args.file)
    except RecordingError as error:
        raise Refused(str(error)) from None
    with recording:
        if recording.cut_short is not None:
            VOICE.say(recording.cut_short)
        try:
            start = recording.start
            end = recording.end
            if args.start is not None:
                start = moment_of_day(args.start, recording.start, recording.end)
            if args.end is not None:
                end = moment_of_day(args.end, start, recording.end)
            # A session that ended inside a gap follows the last tick: said as well.
            for gap in recording.gaps_between(start, end if args.end else math.inf):
                # Said on stderr, so the lines keep their columns: the values after a gap
                # start again from the whole state at its end.
                VOICE.say(f"{args.file}: {gap.text()} ({clean(gap.why, 80)})")
            names = Names(recording)
            rows = (
                _sampled(recording, start, end, step, names)
                if step
                else _changes(recording, start, end, names)
            )
            _write(rows, names, args.format, sys.stdout)
        except (RecordingError, ValueError) as error:
            raise Refused(str(error)) from None
        except BrokenPipeError:
            quiet_stdout()
    return 0


Line = tuple[float, str, StatValue]


class Names:
    """What a recording calls each statistic: its object (type, id, the layout's label for
    it, as `snapshot`'s `object_label`) and the layout's label for the statistic."""

    def __init__(self, recording: Recording) -> None:
        self._labels = recording.labels()
        self._objects = {
            (origin.object.type, origin.object.id): origin.object.label
            for origin in reversed(list(recording.layout.origins.values()))
        }

    def of(self, statistic_id: str) -> tuple[str, str, str, str]:
        """(object type, object id, object label, statistic label) of one statistic."""
        object_type, object_id, label = self._labels.get(statistic_id, ("", "", statistic_id))
        return object_type, object_id, self._objects.get((object_type, object_id), ""), label

    def order(self, values: dict[str, StatValue]) -> list[tuple[str, StatValue]]:
        """The values by object (type, label, id), then statistic: a state reads as a table."""

        def key(item: tuple[str, StatValue]) -> tuple[str, str, str, str, str]:
            object_type, object_id, object_label, label = self.of(item[0])
            return (object_type, object_label.casefold(), object_id, label.casefold(), item[0])

        return sorted(values.items(), key=key)


def _changes(recording: Recording, start: float, end: float, names: Names) -> Iterator[Line]:
    """Every change from `start` to `end`, at its tick's time; the state at `start` first."""
    first = recording.tick_at(start)
    last = recording.tick_at(end)
    if first >= 0:
        # What was on screen at `start` is where the changes begin from.
        for statistic_id, value in names.order(recording.state_at(first)):
            yield max(start, recording.times[first]), statistic_id, value
    for tick, changed in recording.changes(first, last):
        moment = recording.times[tick]
        for statistic_id, value in names.order(changed):
            yield moment, statistic_id, value


def _sampled(
    recording: Recording, start: float, end: float, step: float, names: Names
) -> Iterator[Line]:
    """The whole state at `start`, `start + step`, ... up to `end`; none at a moment in a gap
    (the state there was not recorded)."""
    moment = start
    tick = recording.tick_at(moment)
    values = recording.state_at(tick)
    while moment <= end:
        target = recording.tick_at(moment)
        for _, changed in recording.changes(tick, target):
            values.update(changed)
        tick = max(tick, target)
        if recording.gap_at(moment) is None:
            for statistic_id, value in names.order(values):
                yield moment, statistic_id, value
        moment += step


def _write(rows: Iterator[Line], names: Names, fmt: str, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(COLUMNS)
    for moment, statistic_id, value in rows:
        object_type, object_id, object_label, label = names.of(statistic_id)
        record = {
            "time": _iso(moment),
            "object_type": object_type,
            "object_id": object_id,
            "object_label": object_label,
            "statistic": label,
            **_value_fields(value),
        }
        if writer is not None:
            writer.writerow(_csv_cell(record.get(column)) for column in COLUMNS)
        else:
            stream.write(json.dumps(record, ensure_ascii=True, allow_nan=False) + "\n")


def _value_fields(value: StatValue) -> dict[str, Any]:
    if isinstance(value, NumberValue):
        if not math.isfinite(value.number):
            # "n/a" (a formula whose input had no value yet) or a figure too large to be a
            # number: its words, as the screen and `snapshot` show them (JSON has no NaN).
            return {"value": clean(value.text, MAX_TEXT)}
        number: float | int = int(value.number) if value.is_integral else value.number
        return {"value": number}
    if isinstance(value, AgentStateValue):
        fields: dict[str, Any] = {"value": value.status}
        if value.reason:
            fields["reason"] = value.reason
        if value.since is not None:
            fields["since"] = _iso(value.since)
        return fields
    return {"value": value.describe()}


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    return clean(str(value), MAX_TEXT)


def _iso(moment: float) -> str:
    """Local time with its UTC offset, to the millisecond."""
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="milliseconds")
