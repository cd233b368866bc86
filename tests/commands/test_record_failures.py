"""Recordings that cannot be written or read, through the commands: one line each, never a
traceback; a file cut short is exported as far as it goes; watch says once that recording
stopped and goes on watching."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from statdash.api.settings import Credentials, ServerSettings
from statdash.api.values import NumberValue
from statdash.commands.alert_session import AlertSession
from statdash.commands.voice import Voice
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.source import LayoutSource
from statdash.layout.vocabulary import MAX_WIDGETS
from statdash.live.alerts.actions import AlertActions
from statdash.live.recordings.recorder import Recorder
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.commands.conftest import LAYOUTS, Result
from tests.live.recordings import (
    LAYOUT,
    cut_short_copy,
    deny_entry,
    record_stream,
    small_layout,
)
from tests.support.sim import assert_nothing_left_open, open_subscriptions
from tests.support.wait import until_async

START = 1_800_000_000.0
IDS = [item.statistic_id for item in small_layout().items]


def _recorded(tmp_path: Path, seconds: int) -> Path:
    path = tmp_path / "shift.sqlite"
    stream = [(START + second, {IDS[3]: _number(second)}, IDS) for second in range(seconds)]
    record_stream(path, small_layout(), stream, keyframe_seconds=10)
    return path


def _number(second: int) -> NumberValue:
    return NumberValue(float(second), str(second))


def _one_line(result: Result, command: str) -> str:
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"statdash {command}: ")
    assert "Traceback" not in result.err
    return lines[0]


def test_export_reads_a_file_cut_short_and_says_so_in_one_line(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """The sweep's full-disk file was refused; now every change it holds is exported (exit
    0) and stderr says, once, that it was cut short."""
    copy = cut_short_copy(_recorded(tmp_path, seconds=30))
    result = cli("export", str(copy))
    assert result.code == 0, result.err
    line = _one_line(result, "export")
    assert "the file is cut short (4096 of 45056 bytes" in line
    assert line.endswith("showing the 30 ticks it holds")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    calls = [row["value"] for row in rows if row["statistic"] == "Calls" and row["value"]]
    assert calls[-1] == "29"


def test_a_hostile_recording_is_refused_by_replay_and_export(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """A view where the changes table belongs: exit 2, one line naming it, the screen never
    starts."""
    path = _recorded(tmp_path, seconds=3)
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE changes; CREATE VIEW changes AS SELECT 0 AS tick, 1 AS stat,"
            " zeroblob(2000000) AS value, NULL AS state, NULL AS since"
        )
    for command in ("replay", "export"):
        result = cli(command, str(path))
        assert result.code == 2
        assert "the view 'changes' is not one statdash writes" in _one_line(result, command)


def test_replay_refuses_a_stored_layout_past_the_widget_limit_before_the_screen(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """The sweep's 20,000 stored widgets kept replay compiling for a minute with `q`
    unheard; past MAX_WIDGETS it is one line and exit 2 before anything is compiled."""
    path = _recorded(tmp_path, seconds=3)
    widget = "      - {kind: kpi, object: {queue: sales}, stat: CurrentNumberWaitingCalls}\n"
    source = LayoutSource("big.yaml", LAYOUT + widget * MAX_WIDGETS)
    with sqlite3.connect(path) as db:
        blob = zlib.compress(source.to_json().encode("utf-8"))
        db.execute("UPDATE layouts SET json = ? WHERE tick = 0", (blob,))
    result = cli("replay", str(path))
    assert result.code == 2
    assert f"a layout has at most {MAX_WIDGETS}" in _one_line(result, "replay")


def test_a_directory_that_cannot_be_entered_is_one_line(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """replay, export and --record in a directory the user cannot enter (PermissionError,
    raised by a patched stat as tests run as root): exit 2, one line, no traceback."""
    path = _recorded(tmp_path, seconds=3)
    deny_entry(monkeypatch).add(tmp_path)
    for command in ("replay", "export"):
        result = cli(command, str(path))
        assert result.code == 2
        assert "cannot read it (Permission denied)" in _one_line(result, command)
    recorded = cli("demo", str(LAYOUTS / "demo.yaml"), "--record", str(tmp_path / "new.sqlite"))
    assert recorded.code == 2
    assert "cannot record there (Permission denied)" in _one_line(recorded, "demo")


QUIET = """\
title: Recorded, no alerts
refresh: 1s
updates: poll
pages:
  - widgets:
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: CurrentNumberWaitingCalls
"""


async def test_watch_says_once_that_recording_stopped_and_goes_on(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recording file removed while `watch --record` runs: one stamped line says
    recording stopped and why; the session keeps polling."""
    layout = compile_layout(load_layout_text(QUIET, file="quiet.yaml"))
    path = tmp_path / "watch.sqlite"
    recorder = Recorder(path, layout, server="sim", flush_seconds=0.01)
    session = AlertSession(
        layout,
        ServerSettings(url=simulator.base_url, credentials=Credentials(api_key=SecretStr("k"))),
        actions=AlertActions(terminal=None, say=lambda _: None),
        log=None,
        records=SubscriptionRecords(tmp_path / "records.json"),
        updates="poll",
        voice=Voice("watch", stamped=True),
        recorder=recorder,
    )
    stopping = asyncio.Event()
    task = asyncio.create_task(session.run(stopping))
    said: list[str] = []

    def stopped_lines() -> list[str]:
        said.extend(capsys.readouterr().err.splitlines())
        return [line for line in said if "recording stopped" in line]

    try:
        await until_async(lambda: recorder.changes_recorded > 0, what="a recorded poll")
        path.unlink()
        await until_async(stopped_lines, what="the recording stopped line")
        # Watching goes on: its subscription is still open on the server.
        assert open_subscriptions(simulator)
    finally:
        stopping.set()
        code = await task
    assert code == 0
    stopped = stopped_lines()
    assert len(stopped) == 1, said
    assert stopped[0].endswith(
        "statdash watch: recording stopped: watch.sqlite:"
        " the file was removed or replaced while recording"
    )
    assert_nothing_left_open(simulator)
