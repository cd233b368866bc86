"""A recording is untrusted input, and writing one can fail: both end in one line, never a
traceback, and nothing already written is lost.

Writing: a full disk (SQLite's `PRAGMA max_page_count` on the recorder's connection makes
its writes fail with SQLITE_FULL exactly as a full disk does), a file removed under the
recorder, a `--record-dir` the user can no longer enter (tests run as root here, so that
PermissionError is raised by a monkeypatched `Path.stat`). Reading: a file cut short, views,
triggers and altered tables in place of the tables, oversized cells, and stored layouts past
a layout file's limits.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from statdash.api.models import SubscriptionItem
from statdash.api.values import NumberValue, StatValue
from statdash.layout.files import MAX_FILE_BYTES
from statdash.layout.source import LayoutSource
from statdash.layout.vocabulary import MAX_WIDGETS
from statdash.live.controller import LiveController, Plan
from statdash.live.recordings import replay
from statdash.live.recordings.file import MAX_CELL_LENGTH, Recording, RecordingError, connect
from statdash.live.recordings.recorder import DailyRecorder, Recorder, RecorderError
from statdash.live.recordings.replay import ReplayController
from statdash.live.session import SessionStatus
from statdash.live.store import Batch, Ingested, Store
from tests.live.fakes import FakeClient, VirtualClock
from tests.live.recordings import (
    LAYOUT,
    cut_short_copy,
    deny_entry,
    record_stream,
    small_layout,
)
from tests.support.wait import until, until_async

START = 1_800_000_000.0
IDS = [item.statistic_id for item in small_layout().items]


def _ingests(count: int, *, first: int = 0) -> list[tuple[float, dict[str, StatValue], list[str]]]:
    """`count` seconds of every statistic changing each second."""
    return [
        (
            START + second,
            {
                sid: NumberValue(float(second * 10 + k), str(second * 10 + k))
                for k, sid in enumerate(IDS)
            },
            IDS,
        )
        for second in range(first, first + count)
    ]


def _recorded(tmp_path: Path, seconds: int = 5) -> Path:
    path = tmp_path / "r.sqlite"
    record_stream(path, small_layout(), _ingests(seconds), keyframe_seconds=10)
    return path


@pytest.fixture
def denied(monkeypatch: pytest.MonkeyPatch) -> set[Path]:
    """Directories the user cannot enter (add to the set); see `deny_entry`."""
    return deny_entry(monkeypatch)


# --- writing: a failure stops recording, keeps what was written, and says so ---------------


def test_a_full_disk_stops_recording_and_keeps_what_was_written(tmp_path: Path) -> None:
    """SQLITE_FULL stops the recorder (it gathers nothing more) and says so in one line; the
    ticks committed before it replay as the store saw them."""
    path = tmp_path / "full.sqlite"
    recorder = Recorder(path, small_layout(), server="s", started=START, flush_seconds=0.01)
    # Before anything is written; the writer thread touches the connection only to flush.
    pages = recorder._db.execute("PRAGMA page_count").fetchone()[0]
    recorder._db.execute(f"PRAGMA max_page_count={pages + 2}")
    store = Store()
    seen: list[dict[str, StatValue]] = []
    for wall, values, arrived in _ingests(2000):
        result = store.ingest(Batch.replayed(values, arrived), now=wall, wall=wall)
        recorder.ingested(store, result, wall, sampled=True)
        seen.append(dict(store.values()))
        if len(seen) % 20 == 0:
            until(lambda: recorder.pending == 0 or recorder.failure, what="a flush")
        if recorder.failure:
            break
    assert recorder.failure == "recording stopped: full.sqlite: the disk is full"
    recorded = recorder.changes_recorded
    recorder.ingested(store, Ingested(frozenset(IDS), store.revision), START + 9999, sampled=True)
    assert recorder.changes_recorded == recorded  # stopped: nothing more is gathered
    recorder.close()
    with Recording(path) as recording:
        assert 0 < recording.tick_count < len(seen)
        assert recording.cut_short is None
        last = recording.tick_count - 1
        assert recording.state_at(last) == seen[last]


async def test_a_stopped_recorder_leaves_the_data_path_and_the_status_line_says_why(
    tmp_path: Path,
) -> None:
    """The file removed under a running recorder: the controller hears the recorder's
    failure at the next ingest, drops it, reports the status, and values keep coming."""
    path = tmp_path / "gone.sqlite"
    recorder = Recorder(path, small_layout(), server="s", flush_seconds=0.01)
    clock = VirtualClock()
    changes: list[Ingested] = []
    statuses: list[SessionStatus] = []
    item = SubscriptionItem(statistic_id="a", object_id="ana", object_type="Agent", name="X")
    controller = LiveController(
        FakeClient(clock),
        Plan([item], 1.0),
        on_change=changes.append,
        on_status=statuses.append,
        clock=clock,
        sleep=clock.sleep,
        listeners=[recorder],
    )
    path.unlink()
    controller.start()
    try:
        await until_async(lambda: recorder not in controller.listeners, what="the drop")
        seen = len(changes)
        await until_async(lambda: len(changes) > seen + 2, what="ingests after the drop")
    finally:
        await controller.close()
    why = "recording stopped: gone.sqlite: the file was removed or replaced while recording"
    assert controller.status.stopped == why
    assert why in [status.stopped for status in statuses]


def test_a_record_dir_that_cannot_be_entered_at_midnight_stops_recording(
    tmp_path: Path, denied: set[Path]
) -> None:
    """The day turns and the directory refuses the new file: one sentence, no exception."""
    daily = DailyRecorder(tmp_path, small_layout(), server="s", keep_days=7, started=START)
    store = Store()
    result = store.ingest(Batch.replayed({}, []), now=START, wall=START)
    daily.ingested(store, result, START, sampled=True)
    denied.add(tmp_path)
    daily.ingested(store, result, START + 86_400, sampled=True)
    daily.close()
    assert daily.failure == (
        f"recording stopped: {tmp_path}: cannot record there (Permission denied)"
    )


def test_a_record_file_in_a_directory_that_cannot_be_entered_is_one_error(
    tmp_path: Path, denied: set[Path]
) -> None:
    """Recording to a directory that refuses stat(): a RecorderError, not PermissionError."""
    denied.add(tmp_path)
    with pytest.raises(RecorderError, match=r"cannot record there \(Permission denied\)"):
        Recorder(tmp_path / "r.sqlite", small_layout(), server="s")


def test_a_recording_in_a_directory_that_cannot_be_entered_is_one_error(
    tmp_path: Path, denied: set[Path]
) -> None:
    """Reading a recording there says it cannot be read, as a sentence."""
    path = _recorded(tmp_path)
    denied.add(tmp_path)
    with pytest.raises(RecordingError, match=r"r.sqlite: cannot read it \(Permission denied\)"):
        Recording(path)


# --- reading: a file cut short is read as far as it goes -----------------------------------


def test_a_file_cut_short_by_a_full_disk_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    """The sweep's file was refused ("cut short (4096 of ... bytes)") though SQLite reads it
    all: now it is read, and `cut_short` says so in one sentence."""
    copy = cut_short_copy(_recorded(tmp_path, seconds=30))
    ticks = 30
    with Recording(copy) as recording:
        assert recording.tick_count == ticks
        assert recording.cut_short == (
            f"{copy}: the file is cut short (4096 of 45056 bytes: a full disk, or a copy not"
            f" finished); showing the {ticks} ticks it holds"
        )
        assert len(recording.state_at(ticks - 1)) == len(IDS)
        assert recording.layout.title == "Recorded floor"


def test_reading_never_writes_to_the_file(tmp_path: Path) -> None:
    """Opened read-only: the WAL a full disk or a crash left stays as it was, byte for byte
    (a read-write connection folds it in and deletes it on close), and the connection
    refuses writes and distrusts the schema."""
    copy = cut_short_copy(_recorded(tmp_path, seconds=30))
    wal = copy.with_name(copy.name + "-wal")
    before = (copy.read_bytes(), wal.read_bytes())
    with Recording(copy) as recording:
        recording.state_at(recording.tick_count - 1)
    assert (copy.read_bytes(), wal.read_bytes()) == before
    db = connect(copy)
    try:
        assert db.execute("PRAGMA query_only").fetchone() == (1,)
        assert db.execute("PRAGMA trusted_schema").fetchone() == (0,)
        with pytest.raises(sqlite3.Error):
            db.execute("DELETE FROM ticks")
    finally:
        db.close()


# --- reading: hostile files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("alteration", "named"),
    [
        (
            "DROP TABLE changes; CREATE VIEW changes AS SELECT 0 AS tick, 1 AS stat,"
            " zeroblob(2000000) AS value, NULL AS state, NULL AS since",
            "the view 'changes'",
        ),
        (
            "DROP TABLE ticks; CREATE VIEW ticks(tick, t, arrived, keyframe, sampled) AS"
            " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n)"
            " SELECT i, 1.0, 1, 1, 1 FROM n",
            "the view 'ticks'",
        ),
        (
            "CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END",
            "the trigger 't'",
        ),
        (
            "CREATE TABLE extra(x)",
            "the table 'extra'",
        ),
    ],
    ids=["zeroblob-view", "endless-view", "trigger", "extra-table"],
)
def test_views_triggers_and_strange_tables_are_refused_at_open(
    tmp_path: Path, alteration: str, named: str
) -> None:
    """A schema object statdash does not write is refused before any of it is read."""
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        db.executescript(alteration)
    with pytest.raises(RecordingError, match="not a statdash recording's tables") as refused:
        Recording(path)
    assert named in str(refused.value)


def test_an_altered_table_is_refused(tmp_path: Path) -> None:
    """A table of the right name with a column computed on read (a generated column) is not
    the table statdash writes."""
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE states; CREATE TABLE states(id INTEGER PRIMARY KEY, status TEXT,"
            " status_code INTEGER, reason TEXT AS (zeroblob(2000000)), media TEXT,"
            " place_id TEXT);"
        )
    with pytest.raises(RecordingError, match="the table 'states'"):
        Recording(path)


def test_an_oversized_cell_in_a_small_table_is_refused_at_open(tmp_path: Path) -> None:
    """A label of more than MAX_CELL_LENGTH characters is refused before it is fetched."""
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE statistics SET label = ? WHERE id = 1", ("x" * (MAX_CELL_LENGTH + 1),))
    with pytest.raises(RecordingError, match="statistics table holds a value longer than"):
        Recording(path)


def test_an_oversized_value_is_never_fetched(tmp_path: Path) -> None:
    """A change whose value is longer than MAX_CELL_LENGTH reads as damaged; it is not
    fetched (before, it came back as a 1 MB unknown value)."""
    path = _recorded(tmp_path)
    huge = '"' + "x" * MAX_CELL_LENGTH + '"'
    with sqlite3.connect(path) as db:
        db.execute("UPDATE changes SET value = ?, state = 0 WHERE tick = 3", (huge,))
    with Recording(path) as recording, pytest.raises(RecordingError, match="damaged"):
        recording.state_at(3)


def _store_layout(path: Path, source: LayoutSource) -> None:
    blob = zlib.compress(source.to_json().encode("utf-8"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE layouts SET json = ? WHERE tick = 0", (blob,))


def test_a_stored_layout_with_too_many_widgets_is_refused_before_it_compiles(
    tmp_path: Path,
) -> None:
    """The sweep stored 20,000 widgets (a minute of compiling, `q` unheard); a stored layout
    is held to a layout's widget limit."""
    path = _recorded(tmp_path)
    widget = "      - {kind: kpi, object: {queue: sales}, stat: CurrentNumberWaitingCalls}\n"
    text = LAYOUT + widget * MAX_WIDGETS
    _store_layout(path, LayoutSource("big.yaml", text))
    with Recording(path) as recording, pytest.raises(RecordingError) as refused:
        _ = recording.layout
    assert f"a layout has at most {MAX_WIDGETS}" in str(refused.value)


def test_a_stored_layout_larger_than_a_layout_file_is_refused(tmp_path: Path) -> None:
    """Text past MAX_FILE_BYTES (the layout file's limit) is refused as a damaged layout."""
    path = _recorded(tmp_path)
    text = LAYOUT + "#" * MAX_FILE_BYTES
    _store_layout(path, LayoutSource("big.yaml", text))
    with Recording(path) as recording, pytest.raises(RecordingError, match="larger than a layout"):
        _ = recording.layout


# --- replay stays responsive ----------------------------------------------------------------


async def test_a_far_jump_seeks_instead_of_replaying_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Going far ahead costs at most a seek (the last keyframe and what follows it), not
    every change in between, so one step of the replay never holds the loop for long."""
    path = _recorded(tmp_path, seconds=100)
    monkeypatch.setattr(replay, "SEEK_BUDGET", 20)
    with Recording(path) as recording:
        spans: list[tuple[int, int]] = []
        read = recording.changes

        def changes(after: int, through: int) -> Iterator[tuple[int, dict[str, StatValue]]]:
            spans.append((after, through))
            return read(after, through)

        monkeypatch.setattr(recording, "changes", changes)
        controller = ReplayController(recording, on_change=lambda _: None, on_status=lambda _: None)
        spans.clear()
        controller.go_to(recording.end)
        assert controller.store.values() == recording.state_at(recording.tick_count - 1)
        assert spans and all(through - after <= 10 for after, through in spans), spans
        await controller.close()
