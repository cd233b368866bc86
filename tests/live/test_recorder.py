"""Tests for statdash.live.recordings (recorder and file): what was recorded is what the store
saw."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statdash.api.values import AgentStateValue, NumberValue, StatValue, UnknownValue
from statdash.live.controller import LiveController, plan_for
from statdash.live.recordings.file import Recording, RecordingError
from statdash.live.recordings.recorder import (
    DailyRecorder,
    Recorder,
    RecorderError,
    delete_old_recordings,
)
from statdash.live.recordings.replay import seek_store
from statdash.live.store import Batch, Store
from tests.live.fakes import FakeClient, VirtualClock
from tests.live.recordings import record_stream, small_layout

LAYOUT = small_layout()
IDS = [item.statistic_id for item in LAYOUT.items]
START = 1_800_000_000.0

json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)
numbers = st.one_of(
    st.integers(-(2**60), 2**60).map(lambda n: NumberValue(float(n), str(n))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: NumberValue(f, repr(f))),
    st.decimals(-1000, 1000, places=2).map(lambda d: NumberValue(float(d), str(d))),
    st.sampled_from(["5.0", "1e3", "007", "-0", "12345678.125"]).map(
        lambda t: NumberValue(float(t), t)
    ),
)
states = st.builds(
    AgentStateValue,
    status=st.sampled_from(["WaitForNextCall", "NotReadyForNextCall", "CallInbound", "x\x1b"]),
    status_code=st.none() | st.integers(0, 99),
    reason=st.none() | st.sampled_from(["Lunch", "Coaching", "ünïcode"]),
    since=st.none()
    | st.integers(1_799_990_000_000, 1_800_010_000_000).map(lambda ms: ms / 1000)
    | st.floats(1.7e9, 1.9e9),
    media=st.none() | st.just("voice"),
    place_id=st.none() | st.text(max_size=4),
)
values = st.one_of(numbers, states, json_data.map(UnknownValue))
ingest = st.tuples(
    st.floats(0.01, 40.0),
    st.dictionaries(st.sampled_from(IDS), values, max_size=len(IDS)),
    st.none() | st.lists(st.sampled_from(IDS), unique=True),
)


def _stream(
    steps: list[tuple[float, dict[str, StatValue], list[str] | None]],
) -> list[tuple[float, dict[str, StatValue], list[str]]]:
    """Absolute times; None arrivals mean every statistic came (a poll)."""
    moment = START
    stream = []
    for gap, changed, arrived in steps:
        moment += gap
        came = IDS if arrived is None else sorted(set(arrived) | changed.keys())
        stream.append((moment, changed, came))
    return stream


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(ingest, min_size=1, max_size=25), keyframe=st.sampled_from([5.0, 60.0]))
def test_round_trip_equals_what_the_store_saw(
    steps: list[tuple[float, dict[str, StatValue], list[str] | None]], keyframe: float
) -> None:
    """For any change stream, the state read back at every tick (through keyframes and changes,
    or a seek into a fresh store) is what the live store held right after that ingest."""
    stream = _stream(steps)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "r.sqlite"
        seen = record_stream(path, LAYOUT, stream, keyframe_seconds=keyframe)
        with Recording(path) as recording:
            assert recording.tick_count == len(stream)
            assert recording.times == seen.times
            for tick in range(len(stream)):
                assert recording.state_at(tick) == seen.values[tick]
                store = Store()
                seek_store(recording, store, tick)
                assert dict(store.values()) == seen.values[tick]
                assert set(store.arrived) == set(seen.arrived[tick])
                assert store.last_good_poll == seen.times[tick]


def test_seek_at_and_between_keyframes_and_staleness() -> None:
    """A seek exactly at a keyframe, just after one and just before the next gives the values,
    freshness and data age the live store had at that tick."""
    stream = []
    for second in range(35):
        changed: dict[str, StatValue] = {
            IDS[second % len(IDS)]: NumberValue(float(second), str(second))
        }
        if second % 7 == 0:
            changed[IDS[0]] = AgentStateValue("NotReadyForNextCall", since=START + second)
        # Every ingest brings every statistic except at 20-24 s, when only the first came.
        stream.append((START + second, changed, IDS if not 20 <= second < 25 else IDS[:1]))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "r.sqlite"
        live = Store()
        seen = record_stream(path, LAYOUT, stream, keyframe_seconds=10.0, store=live)
        with Recording(path) as recording:
            assert recording.keyframe_before(34) == 30
            for tick in (0, 9, 10, 11, 19, 20, 21, 29, 30, 34):
                store = Store()
                seek_store(recording, store, tick)
                assert dict(store.values()) == seen.values[tick], tick
                assert store.age(seen.times[tick] + 0.5) == 0.5
                assert store.is_stale(IDS[3], seen.times[tick] + 0.5, 1.0) == (20 <= tick < 25)


def test_layout_survives_the_file(tmp_path: Path) -> None:
    """The layout compiled again from the recording's stored text equals the one recorded."""
    record_stream(tmp_path / "r.sqlite", LAYOUT, [])
    with Recording(tmp_path / "r.sqlite") as recording:
        assert recording.layout == LAYOUT


def test_history_rings_replay_as_they_were_recorded(tmp_path: Path) -> None:
    """Played from the start, a trend's history ring holds the samples the live ring held."""
    kpi = next(iter(plan_for(LAYOUT).history_capacity))
    stream = [
        (
            START + second,
            {kpi: NumberValue(float(second % 4), str(second % 4))} if second % 3 else {},
            IDS,
        )
        for second in range(30)
    ]
    live = Store(plan_for(LAYOUT).history_capacity)
    record_stream(tmp_path / "r.sqlite", LAYOUT, stream, keyframe_seconds=1000.0, store=live)
    with Recording(tmp_path / "r.sqlite") as recording:
        replayed = Store(plan_for(LAYOUT).history_capacity)
        seek_store(recording, replayed, recording.tick_count - 1)
    live_ring, replayed_ring = live.history(kpi), replayed.history(kpi)
    assert live_ring is not None and replayed_ring is not None
    assert list(replayed_ring.samples()) == list(live_ring.samples())
    assert len(live_ring) == 29  # no sample before the statistic's first value


def test_the_file_holds_the_server_name_and_no_credentials(tmp_path: Path) -> None:
    """The meta table names the server as given, and nothing else about it."""
    path = tmp_path / "r.sqlite"
    record_stream(path, LAYOUT, [(START, {IDS[0]: NumberValue(1.0, "1")}, IDS)])
    with Recording(path) as recording:
        assert recording.info.server == "stats.example.com:443"
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert set(meta) == {
        "server",
        "started",
        "refresh",
        "keyframe_seconds",
        "statdash_version",
        "layout_file",
    }


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    """Recording to a file that exists is refused with its name."""
    path = tmp_path / "r.sqlite"
    path.write_text("precious")
    with pytest.raises(RecorderError, match="exists"):
        Recorder(path, LAYOUT, server="x")
    assert path.read_text() == "precious"


def _recorded(tmp_path: Path) -> Path:
    path = tmp_path / "r.sqlite"
    stream = [
        (START + second, {IDS[second % 7]: NumberValue(float(second), str(second))}, IDS)
        for second in range(400)
    ]
    record_stream(path, LAYOUT, stream, keyframe_seconds=10.0)
    return path


def test_a_file_that_is_no_recording_says_so(tmp_path: Path) -> None:
    """Text, another SQLite database and a missing file each get their own sentence."""
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    with pytest.raises(RecordingError, match="not an SQLite database"):
        Recording(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t(x)")
    with pytest.raises(RecordingError, match="not a statdash recording"):
        Recording(other)
    with pytest.raises(RecordingError, match="no such file"):
        Recording(tmp_path / "missing.sqlite")


def test_a_fifo_or_a_folder_is_no_recording_and_never_blocks(tmp_path: Path) -> None:
    """replay or export of a FIFO says what it is at once instead of waiting for a writer."""
    fifo = tmp_path / "shift.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(RecordingError) as caught:
        Recording(fifo)
    assert str(caught.value) == f"{fifo}: this is a FIFO (named pipe), not a recording"
    with pytest.raises(RecordingError, match="this is a directory, not a recording"):
        Recording(tmp_path)


def test_a_newer_format_says_which_version(tmp_path: Path) -> None:
    """A file of a newer or an earlier format than this one reads is refused, naming both."""
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=7")
    with pytest.raises(
        RecordingError, match=r"newer statdash \(format 7; this one reads formats 2 to 3\)"
    ):
        Recording(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=1")
    with pytest.raises(
        RecordingError, match=r"earlier statdash \(format 1; this one reads formats 2 to 3\)"
    ):
        Recording(path)


def test_a_truncated_file_says_it_is_cut_short(tmp_path: Path) -> None:
    """A recording cut to half its size is refused at open with a sentence, not a traceback."""
    path = _recorded(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match="cut short"):
        Recording(path)


def test_a_damaged_file_says_it_is_damaged(tmp_path: Path) -> None:
    """Garbage written over the pages gives a RecordingError when opened or read."""
    path = _recorded(tmp_path)
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):
        data[offset : offset + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match=r"damaged|cannot read"), Recording(path) as recording:
        recording.state_at(recording.tick_count - 1)
        _ = recording.layout


def test_unknown_values_keep_their_raw_data(tmp_path: Path) -> None:
    """A value of an unknown shape is stored as its JSON and read back equal."""
    raw = {"listValue": [1, "a", None], "odd": {"nested": True}}
    path = tmp_path / "r.sqlite"
    record_stream(path, LAYOUT, [(START, {IDS[0]: UnknownValue(raw)}, IDS)])
    with Recording(path) as recording:
        assert recording.state_at(0)[IDS[0]] == UnknownValue(json.loads(json.dumps(raw)))


def test_daily_files_rotate_and_old_ones_are_deleted(tmp_path: Path) -> None:
    """A new day starts a new file (replayable alone) and files past the retention go."""
    old = tmp_path / "statdash-2000-01-01-000000.sqlite"
    old.write_text("old")
    (tmp_path / "statdash-2000-01-01-000000.sqlite-wal").write_text("old")
    os.utime(old, (946684800, 946684800))
    unrelated = tmp_path / "notes.sqlite"
    unrelated.write_text("mine")
    os.utime(unrelated, (946684800, 946684800))
    daily = DailyRecorder(tmp_path, LAYOUT, server="x", keep_days=7)
    store = Store()
    # Age is judged by when a file was last written, so the days are real ones.
    today = time.time()
    for wall in (today, today + 86400):
        result = store.ingest(
            Batch.replayed({IDS[0]: NumberValue(wall, repr(wall))}, IDS), now=wall, wall=wall
        )
        daily.ingested(store, result, wall, sampled=True)
    daily.close()
    assert len(daily.paths) == 2
    assert not old.exists() and unrelated.exists()
    with Recording(daily.paths[1]) as recording:
        assert recording.state_at(0) == dict(store.values())
    assert delete_old_recordings(tmp_path, 7, now=today + 30 * 86400) == daily.paths


async def test_the_controller_records_every_ingest(tmp_path: Path) -> None:
    """A LiveController with a recorder writes what its store ingested; close commits it."""
    client = FakeClient(VirtualClock())
    path = tmp_path / "live.sqlite"
    controller = LiveController(
        client,
        plan_for(LAYOUT),
        on_change=lambda _: None,
        on_status=lambda _: None,
        listeners=[Recorder(path, LAYOUT, server="fake")],
    )
    controller.start()
    for _ in range(2000):
        await asyncio.sleep(0)
        if controller.store.values():
            break
    await controller.close()
    assert controller.store.values()
    with Recording(path) as recording:
        assert recording.state_at(recording.tick_count - 1) == dict(controller.store.values())


def test_a_seek_refills_trend_lines_over_their_window(tmp_path: Path) -> None:
    """Seeking with the trend window refills the ring as the live one was, at any tick, even
    with keyframes every 5 s (a small recording is well within the seek budget)."""
    plan = plan_for(LAYOUT)
    kpi = next(iter(plan.history_capacity))
    window = max(plan.history_capacity.values()) * plan.interval
    stream = [
        (START + second, {kpi: NumberValue(float(second % 5), str(second % 5))}, IDS)
        for second in range(150)
    ]
    live = Store(plan.history_capacity)
    rings: list[list[tuple[float, float]]] = []
    recorder = Recorder(tmp_path / "r.sqlite", LAYOUT, server="x", keyframe_seconds=5.0)
    for wall, changed, arrived in stream:
        result = live.ingest(Batch.replayed(changed, arrived), now=wall, wall=wall)
        recorder.ingested(live, result, wall, sampled=True)
        ring = live.history(kpi)
        assert ring is not None
        rings.append(list(ring.samples()))
    recorder.close()
    with Recording(tmp_path / "r.sqlite") as recording:
        for tick in (3, 64, 100, 149):
            store = Store(plan.history_capacity)
            seek_store(recording, store, tick, history_seconds=window)
            ring = store.history(kpi)
            assert ring is not None
            assert list(ring.samples()) == rings[tick], tick
