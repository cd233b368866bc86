"""Tests for `statdash export` and the refusals of `statdash replay` and of the record flags."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.live.recordings.file import FORMAT_VERSION, Recording
from tests.commands.conftest import LAYOUTS, Result
from tests.live.recordings import record_stream, record_with_gap, small_layout

LAYOUT = small_layout()
IDS = [item.statistic_id for item in LAYOUT.items]
ANA_STATE, ANA_CALLS = IDS[0], IDS[3]
# 2027-01-15 08:00:00 UTC.
START = 1_800_000_000.0


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times of day are read and written in UTC here, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Five minutes from 08:00:00: ana's calls count up every 10 s, her state at 08:02."""
    stream: list[tuple[float, dict[str, StatValue], list[str]]] = []
    for second in range(0, 300, 10):
        changed: dict[str, StatValue] = {ANA_CALLS: NumberValue(second / 10, str(second // 10))}
        if second == 0:
            changed[ANA_STATE] = AgentStateValue("WaitForNextCall", since=START - 60)
        if second == 120:
            changed[ANA_STATE] = AgentStateValue(
                "NotReadyForNextCall", reason="Lunch", since=START + 120
            )
        stream.append((START + second, changed, IDS))
    path = tmp_path / "shift.sqlite"
    record_stream(path, LAYOUT, stream, keyframe_seconds=60)
    return path


def _csv(result: Result) -> list[dict[str, str]]:
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def test_csv_has_a_line_per_change_with_the_layout_labels(
    cli: Callable[..., Result], recording: Path
) -> None:
    """Every change is a CSV line: time, object, the layout's column label, value."""
    rows = _csv(cli("export", str(recording)))
    assert list(rows[0]) == [
        "time",
        "object_type",
        "object_id",
        "object_label",
        "statistic",
        "value",
        "reason",
        "since",
    ]
    calls = [row for row in rows if row["object_id"] == "ana" and row["value"].isdigit()]
    assert len(calls) == 30
    assert calls[0]["time"] == "2027-01-15T08:00:00.000+00:00"
    assert calls[0]["object_type"] == "Agent"
    assert calls[-1]["value"] == "29"
    states = [row for row in rows if row["statistic"] == "State"]
    assert [(row["time"][11:19], row["value"], row["reason"]) for row in states] == [
        ("08:00:00", "WaitForNextCall", ""),
        ("08:02:00", "NotReadyForNextCall", "Lunch"),
    ]
    assert states[1]["since"] == "2027-01-15T08:02:00.000+00:00"


def test_jsonl_from_to_starts_with_the_state_then_changes(
    cli: Callable[..., Result], recording: Path
) -> None:
    """--from/--to: the state at the start first (state included), then each change in range."""
    result = cli(
        "export", str(recording), "--format", "jsonl", "--from", "08:01:05", "--to", "08:02"
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines[0]["time"].startswith("2027-01-15T08:01:05")
    assert {line["statistic"] for line in lines[:2]} == {"State", "Calls"}
    calls = [line["value"] for line in lines if line["statistic"] == "Calls"]
    assert calls == [6, 7, 8, 9, 10, 11, 12]
    assert lines[-1]["time"].startswith("2027-01-15T08:02:00")


def test_every_samples_the_whole_state_at_each_step(
    cli: Callable[..., Result], recording: Path
) -> None:
    """--every 1m gives the state of every statistic at 08:00, 08:01, ... 08:04."""
    rows = _csv(cli("export", str(recording), "--every", "1m"))
    times = sorted({row["time"][11:19] for row in rows})
    assert times == ["08:00:00", "08:01:00", "08:02:00", "08:03:00", "08:04:00"]
    at_three = {row["statistic"]: row["value"] for row in rows if row["time"][11:19] == "08:03:00"}
    assert at_three == {"State": "NotReadyForNextCall", "Calls": "18"}


def test_bad_flags_and_files_are_one_clear_line(
    cli: Callable[..., Result], recording: Path, tmp_path: Path
) -> None:
    """A time outside the recording, a bad step, a non-recording or newer file: exit 2."""
    outside = cli("export", str(recording), "--from", "09:30")
    assert outside.code == 2
    assert "runs from 08:00:00 to 08:04:50; 09:30 is not in it" in outside.err
    assert cli("export", str(recording), "--every", "soon").code == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    refused = cli("export", str(notes))
    assert refused.code == 2
    assert refused.err.startswith("statdash export: ")
    assert "not a statdash recording" in refused.err
    assert "Traceback" not in refused.err
    with sqlite3.connect(recording) as db:
        db.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    newer = cli("replay", str(recording))
    assert newer.code == 2
    assert "newer statdash" in newer.err


def test_replay_refuses_bad_flags_before_the_screen(
    cli: Callable[..., Result], recording: Path
) -> None:
    """--speed out of range and --at outside the recording are refused with exit 2."""
    assert "--speed must be between" in cli("replay", str(recording), "--speed", "0").err
    late = cli("replay", str(recording), "--at", "23:00")
    assert late.code == 2
    assert "is not in it" in late.err


def test_record_flags_refuse_an_existing_file(cli: Callable[..., Result], recording: Path) -> None:
    """run/demo --record onto an existing file exits 2 before anything starts."""
    result = cli("demo", str(LAYOUTS / "demo.yaml"), "--record", str(recording))
    assert result.code == 2
    assert "the file exists" in result.err


def test_record_dir_needs_a_positive_retention(cli: Callable[..., Result], tmp_path: Path) -> None:
    """--keep-days 0 is refused before anything starts; --record and --record-dir exclude
    each other."""
    result = cli("demo", "--record-dir", str(tmp_path / "recordings"), "--keep-days", "0")
    assert result.code == 2
    assert "--keep-days must be more than 0" in result.err
    assert not (tmp_path / "recordings").exists()
    with pytest.raises(SystemExit):
        cli("demo", "--record", str(tmp_path / "a.sqlite"), "--record-dir", str(tmp_path))


@pytest.mark.parametrize("output", ["jsonl", "csv"])
def test_a_figure_without_a_value_exports_as_its_words(
    cli: Callable[..., Result], tmp_path: Path, output: str
) -> None:
    """A recorded "n/a" (a formula whose input had no value yet) is "n/a" in both formats,
    not a NaN that JSON cannot carry (export refused the whole recording)."""
    from statdash.layout.formats import NOT_AVAILABLE

    path = tmp_path / "gap.sqlite"
    stream = [
        (START, {ANA_CALLS: NOT_AVAILABLE}, IDS),
        (START + 10, {ANA_CALLS: NumberValue(3.0, "3")}, IDS),
    ]
    record_stream(path, LAYOUT, stream, keyframe_seconds=60)
    result = cli("export", str(path), "--format", output)
    assert result.code == 0, result.err
    assert "n/a" in result.out and "nan" not in result.out.lower().replace("n/a", "")


def test_a_gap_is_said_on_stderr_and_no_state_is_made_up_inside_it(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """A recording with a gap (the writer fell behind): export names it on stderr, the
    changes go on at its end with the whole state, and `--every` has no lines inside it."""
    stream: list[tuple[float, dict[str, StatValue], list[str]]] = [
        (START + second, {ANA_CALLS: NumberValue(float(second), str(second))}, IDS)
        for second in range(40)
    ]
    stream[0][1][ANA_STATE] = AgentStateValue("WaitForNextCall", since=START - 60)
    path = tmp_path / "gap.sqlite"
    record_with_gap(path, LAYOUT, stream, max_pending=4, resume_at=30)
    with Recording(path) as recording:
        (gap,) = recording.gaps
    since = time.strftime("%H:%M:%S", time.gmtime(gap.since))
    said = f"statdash export: {path}: not recorded from {since} to 08:00:30 (writing fell behind)"

    changes = cli("export", str(path), "--format", "csv")
    assert changes.err.strip() == said
    rows = _csv(changes)
    at_resume = [row for row in rows if row["time"].startswith("2027-01-15T08:00:30.000")]
    # The whole state again at the gap's end: ana's state and calls, not only what changed.
    assert {(row["object_id"], row["statistic"]) for row in at_resume} >= {
        ("ana", "Calls"),
        ("ana", "State"),
    }
    assert not [row for row in rows if since < row["time"][11:19] < "08:00:30"]

    every = cli("export", str(path), "--format", "csv", "--every", "1s")
    assert every.err.strip() == said
    seconds = {row["time"][11:19] for row in _csv(every)}
    assert "08:00:29" not in seconds and since not in seconds
    assert {"08:00:00", "08:00:30", "08:00:39"} <= seconds
