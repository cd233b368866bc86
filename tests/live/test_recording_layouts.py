"""Tests for what a recording keeps of its layout: every layout records, replays and reloads.

A recording stores the layout's text and the object lists it read, and replay compiles them
again, so these tests hold for every shipped layout and every kind of widget, formula and
alert rule, and for layouts edited while recording.
"""

from __future__ import annotations

import math
import sqlite3
import time
import zlib
from pathlib import Path

import pytest

from statdash.api.models import SubscriptionItem
from statdash.api.values import NumberValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout, load_layout_text
from statdash.layout.shipped import layouts_dir
from statdash.layout.views import CompiledLayout
from statdash.live.controller import Listener, LiveController, Plan, plan_for
from statdash.live.derived import FALSE, TRUE
from statdash.live.recordings.file import Recording, RecordingError
from statdash.live.recordings.recorder import DailyRecorder, Recorder, RecorderError
from statdash.live.recordings.replay import seek_store
from statdash.live.store import Batch, Ingested, Store
from tests.live.fakes import FakeClient, VirtualClock
from tests.live.recordings import record_stream, small_layout
from tests.support.wait import until_async

START = 1_800_000_000.0
SHIPPED = sorted(layouts_dir().glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_layout_records_and_compiles_back(tmp_path: Path, path: Path) -> None:
    """A shipped layout (formulas, alerts, object files, clocks...) compiles back from a file."""
    compiled = compile_layout(load_layout(path))
    recorded = tmp_path / "r.sqlite"
    record_stream(recorded, compiled, [(START, {}, [])])
    with Recording(recorded) as recording:
        again = recording.layout
    assert again == compiled
    assert [item.statistic_id for item in again.items] == [
        item.statistic_id for item in compiled.items
    ]


def test_object_lists_are_kept_as_read(tmp_path: Path) -> None:
    """A replay does not read the object list file again: it may have changed or gone."""
    agents = tmp_path / "agents.txt"
    agents.write_text("ana\nben\n")
    layout_file = tmp_path / "floor.yaml"
    layout_file.write_text(
        "title: Floor\nobjects:\n  team: {type: agent, file: agents.txt}\n"
        "pages:\n  - widgets:\n"
        "      - {kind: agents, agents: team, columns: [TotalNumberInboundCalls]}\n"
    )
    compiled = compile_layout(load_layout(layout_file))
    record_stream(tmp_path / "r.sqlite", compiled, [(START, {}, [])])
    agents.unlink()
    with Recording(tmp_path / "r.sqlite") as recording:
        assert recording.layout == compiled
        assert recording.layout.object_count == 2


def test_a_layout_not_read_from_text_is_refused_before_any_file(tmp_path: Path) -> None:
    """A compiled layout built in code has no text to store: refused, and no file is made."""
    bare = CompiledLayout(
        file="x", title="x", refresh=1.0, pages=(), items=(), origins={}, state_styles={}
    )
    with pytest.raises(RecorderError, match="not read from a file"):
        Recorder(tmp_path / "r.sqlite", bare, server="s")
    assert list(tmp_path.iterdir()) == []


def test_a_start_that_fails_leaves_no_file(tmp_path: Path) -> None:
    """A recording that cannot be created leaves neither the file nor a partial one."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(RecorderError, match="cannot record there"):
        Recorder(blocker / "r.sqlite", small_layout(), server="s")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["not-a-dir"]


def test_the_file_appears_only_complete(tmp_path: Path) -> None:
    """Right after creation the file already has its meta and layout (readable as empty)."""
    recorder = Recorder(tmp_path / "r.sqlite", small_layout(), server="s", started=START)
    try:
        with Recording(tmp_path / "r.sqlite") as recording:
            assert recording.tick_count == 0
            assert recording.layout == small_layout()
    finally:
        recorder.close()
    assert sorted(path.name for path in tmp_path.iterdir() if "partial" in path.name) == []


def test_worded_numbers_replay_as_recorded(tmp_path: Path) -> None:
    """A formula's n/a, true and false are stored and read back, not refused as damaged."""
    layout = small_layout()
    ids = [item.statistic_id for item in layout.items]
    words = {ids[0]: TRUE, ids[1]: FALSE, ids[2]: NumberValue(math.nan, "n/a")}
    seen = record_stream(tmp_path / "r.sqlite", layout, [(START, words, ids)])
    with Recording(tmp_path / "r.sqlite") as recording:
        state = recording.state_at(0)
    assert state[ids[0]] == TRUE and state[ids[1]] == FALSE
    assert state[ids[2]].text == "n/a"  # type: ignore[union-attr]
    assert seen.values[0][ids[0]] == TRUE


def test_a_reloaded_layout_is_stored_and_labels_its_new_statistics(tmp_path: Path) -> None:
    """After a reload the recording holds the new layout from the next tick, and the new
    layout's statistics are labelled like the first's."""
    first = small_layout()
    second = compile_layout(
        load_layout_text(
            "title: Edited\npages:\n  - widgets:\n"
            "      - {kind: agents, agents: [dana], columns: [{stat: TotalNumberInboundCalls,"
            " label: Handled}]}\n",
            file="edited.yaml",
        )
    )
    new_id = next(
        item.statistic_id for item in second.items if item.name == "TotalNumberInboundCalls"
    )
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, first, server="s", started=START, flush_seconds=0.01)
    store = Store()
    one = NumberValue(1.0, "1")
    result = store.ingest(
        Batch.replayed({first.items[0].statistic_id: one}, []), now=START, wall=START
    )
    recorder.ingested(store, result, START, sampled=True)
    recorder.layout_changed(second)
    result = store.ingest(Batch.replayed({new_id: one}, [new_id]), now=START + 1, wall=START + 1)
    recorder.ingested(store, result, START + 1, sampled=True)
    recorder.close()
    with Recording(path) as recording:
        assert recording.layout_ticks == [0, 1]
        assert recording.layout_at(0) == first
        assert recording.layout_at(1) == second
        assert recording.labels()[new_id] == ("Agent", "dana", "Handled")


def test_two_daily_recorders_in_one_second_get_a_file_each(tmp_path: Path) -> None:
    """Two dashboards sharing a --record-dir that start together do not collide."""
    now = time.time()
    one = DailyRecorder(tmp_path, small_layout(), server="s", keep_days=7, started=now)
    two = DailyRecorder(tmp_path, small_layout(), server="s", keep_days=7, started=now)
    one.close()
    two.close()
    assert one.paths[0] != two.paths[0]
    assert one.paths[0].exists() and two.paths[0].exists()


def test_a_daily_recorder_refuses_an_unusable_directory_at_once(tmp_path: Path) -> None:
    """The first file is made when the recorder is, so a bad directory is refused up front."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecorderError):
        DailyRecorder(blocker, small_layout(), server="s", keep_days=7, started=START)


class _Broken(Listener):
    """A recorder that fails on its first change, as a full disk or a bug would."""

    feature = "recording"
    closed = False

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def aclose(self) -> None:
        self.closed = True


async def test_a_failing_recorder_stops_recording_not_the_dashboard() -> None:
    """An error inside the recorder ends recording, says why, and values keep arriving."""
    clock = VirtualClock()
    broken = _Broken()
    changes: list[Ingested] = []
    item = SubscriptionItem(statistic_id="a", object_id="ana", object_type="Agent", name="X")
    controller = LiveController(
        FakeClient(clock),
        Plan([item], 1.0),
        on_change=changes.append,
        on_status=lambda status: None,
        clock=clock,
        sleep=clock.sleep,
        listeners=[broken],
    )
    controller.start()
    try:
        await until_async(lambda: len(changes) >= 3, what="three ingests", interval=0)
        assert broken not in controller.listeners
        assert controller.status.stopped == "recording stopped: database or disk is full"
    finally:
        await controller.close()
    assert broken.closed


def test_replay_samples_trends_where_the_live_store_did(tmp_path: Path) -> None:
    """Pushed changes take no history sample live, so replay takes none for them either."""
    layout = small_layout()
    kpi = next(iter(plan_for(layout).history_capacity))
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, layout, server="s", started=START, flush_seconds=0.01)
    live = Store(plan_for(layout).history_capacity)
    for second in range(6):
        wall = START + second
        value = {kpi: NumberValue(float(second), str(second))}
        # Even seconds are a beat (sampled), odd ones a pushed change (not sampled).
        sampled = second % 2 == 0
        result = live.ingest(Batch.replayed(value, [kpi], sample=sampled), now=wall, wall=wall)
        recorder.ingested(live, result, wall, sampled=sampled)
    recorder.close()
    live_history = live.history(kpi)
    assert live_history is not None and len(live_history) == 3
    with Recording(path) as recording:
        replayed = Store(plan_for(recording.layout).history_capacity)
        seek_store(recording, replayed, 5, history_seconds=60)
    history = replayed.history(kpi)
    assert history is not None
    assert list(history.samples()) == list(live_history.samples())


def test_a_zlib_bomb_in_place_of_the_layout_is_refused(tmp_path: Path) -> None:
    """A stored layout that inflates past the bound is refused without inflating it all."""
    path = tmp_path / "r.sqlite"
    record_stream(path, small_layout(), [(START, {}, [])])
    bomb = zlib.compress(b"[" * (80 * 1024 * 1024), 9)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE layouts SET json = ? WHERE tick = 0", (bomb,))
    with Recording(path) as recording, pytest.raises(RecordingError, match="larger than"):
        _ = recording.layout


def test_an_infinite_tick_time_is_refused(tmp_path: Path) -> None:
    """A tick time of 1e400 (infinity) is a damaged file, not an OverflowError."""
    path = tmp_path / "r.sqlite"
    record_stream(path, small_layout(), [(START, {}, [])])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ticks SET t = 1e400")
    with pytest.raises(RecordingError, match="ticks table is damaged"):
        Recording(path)
