"""Tests for statdash.live.alerts.log: one JSON object a line, appended, flushed, failing
clearly."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertView, RowObject
from statdash.live.alerts.book import Alert, AlertEvent, AlertState
from statdash.live.alerts.log import AlertLog, AlertLogError, log_record

RAISED_AT = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DEV_FULL = Path("/dev/full")


def event(
    kind: str = "raised", value: float | str | None = 7.0, name: str = "Backlog"
) -> AlertEvent:
    rule = AlertView(
        name=name,
        level="alarm",
        hold=0,
        clear_after=0,
        repeat=0,
        quiet=False,
        actions=(),
        targets=(),
        location=SourceLocation("layout.yaml"),
    )
    queue = RowObject("8001@SIP_Switch", "Queue", "Sales")
    alert = Alert((name, "Queue", queue.id), rule, queue, AlertState.RAISED, value, RAISED_AT)
    return AlertEvent(kind, alert, RAISED_AT + 5)  # type: ignore[arg-type]


def test_a_record_has_exactly_the_documented_keys_in_order() -> None:
    """Each line holds time (ISO 8601 UTC), event, alert, level, object_type, object_id, value,
    shown, worst and worst_shown."""
    assert log_record(event()) == {
        "time": "2023-11-14T22:13:25Z",
        "event": "raised",
        "alert": "Backlog",
        "level": "alarm",
        "object_type": "Queue",
        "object_id": "8001@SIP_Switch",
        "value": 7,
        "shown": "7",
        "worst": 7,
        "worst_shown": "7",
    }
    assert list(log_record(event())) == [
        "time",
        "event",
        "alert",
        "level",
        "object_type",
        "object_id",
        "value",
        "shown",
        "worst",
        "worst_shown",
    ]


def test_fractions_stay_and_non_numbers_become_null() -> None:
    """A fraction is logged as is, NaN as null (JSON has no NaN), text cleaned of escapes."""
    assert log_record(event(value=87.5))["value"] == 87.5
    assert log_record(event(value=float("nan")))["value"] is None
    assert log_record(event(value="\x1b]0;owned\x07"))["value"] == "\ufffd]0;owned\ufffd"


def test_names_from_the_layout_are_cleaned_of_control_characters() -> None:
    """A rule name with an escape sequence reaches the log without its ESC."""
    assert "\x1b" not in log_record(event(name="Back\x1b[2Jlog"))["alert"]  # type: ignore[operator]


def test_lines_are_appended_and_flushed_one_by_one(tmp_path: Path) -> None:
    """Every event is on disk as soon as it is written, after the lines already there."""
    path = tmp_path / "alerts.jsonl"
    path.write_text('{"earlier": true}\n')
    log = AlertLog(path)
    log.open()
    assert log.write(event("raised"))
    # Read while the log is still open: flushed, not waiting for close.
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["event"] == "raised"
    assert log.write(event("acknowledged"))
    assert log.write(event("cleared"))
    log.close()
    assert [json.loads(line).get("event") for line in path.read_text().splitlines()] == [
        None,
        "raised",
        "acknowledged",
        "cleared",
    ]


def test_repeats_are_not_logged(tmp_path: Path) -> None:
    """A repeated notification is not a state change, so it writes no line."""
    log = AlertLog(tmp_path / "alerts.jsonl")
    assert not log.write(event("repeated"))
    assert not (tmp_path / "alerts.jsonl").exists()


@pytest.mark.parametrize("where", ["missing/alerts.jsonl", "."])
def test_an_unwritable_path_is_a_sentence_naming_the_file(tmp_path: Path, where: str) -> None:
    """A missing directory or a directory as the path gives AlertLogError naming the file."""
    path = tmp_path / where
    with pytest.raises(AlertLogError, match=r"cannot write the alert log .*: "):
        AlertLog(path).open()


@pytest.mark.parametrize(
    ("make", "kind"),
    [(os.mkfifo, "a FIFO (named pipe)"), (os.mkdir, "a directory")],
    ids=["fifo", "directory"],
)
def test_a_path_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, make: Callable[[Path], None], kind: str
) -> None:
    """A FIFO as the alert log is refused when opened, naming what it is, instead of blocking
    until some reader opens the other end (and ignoring Ctrl+C meanwhile)."""
    path = tmp_path / "alerts.jsonl"
    make(path)
    with pytest.raises(AlertLogError) as caught:
        AlertLog(path).open()
    assert str(caught.value) == (
        f"cannot write the alert log {path}: it is {kind}, not a regular file"
    )


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")
def test_a_full_disk_stops_the_log_with_one_message(tmp_path: Path) -> None:
    """A full disk raises one AlertLogError; later events are skipped quietly, not raised again.

    The log only opens regular files, so it is opened on one and its stream then swapped for
    /dev/full, which fails every write with ENOSPC as a full disk does.
    """
    log = AlertLog(tmp_path / "alerts.jsonl")
    log.open()
    log.close()
    log._file = DEV_FULL.open("a", encoding="utf-8")
    with pytest.raises(AlertLogError, match="No space left on device; alerts still show"):
        log.write(event())
    assert log.failed
    assert not log.write(event("cleared"))
    log.close()
