"""The recorder's memory is bounded: a writer slower than the data leaves a gap, said and stored."""

from __future__ import annotations

import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from statdash.api.models import SubscriptionItem
from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.live.controller import LiveController, Plan
from statdash.live.recordings.file import (
    Encoder,
    Gap,
    Recording,
    RecordingError,
    clock_text,
    tick_millis,
)
from statdash.live.recordings.recorder import BEHIND, Recorder
from statdash.live.recordings.replay import ReplayController, seek_store
from statdash.live.session import SessionStatus
from statdash.live.store import Batch, Store
from tests.live.fakes import FakeClient, VirtualClock
from tests.live.recordings import HeldRecorder, record_stream, record_with_gap, small_layout
from tests.support.wait import until, until_async

LAYOUT = small_layout()
IDS = [item.statistic_id for item in LAYOUT.items]
START = 1_800_000_000.0
BOUND = 40


def _held(path: Path, *, max_pending: int = BOUND) -> HeldRecorder:
    return HeldRecorder(path, LAYOUT, started=START, max_pending=max_pending)


def _values(second: int) -> dict[str, StatValue]:
    """Every statistic changes every second: the most a tick can add."""
    values: dict[str, StatValue] = {
        statistic_id: NumberValue(float(second * 10 + index), str(second * 10 + index))
        for index, statistic_id in enumerate(IDS)
    }
    values[IDS[0]] = AgentStateValue("NotReadyForNextCall", reason=f"r{second % 3}")
    return values


def _ingest(recorder: Recorder, store: Store, second: int) -> None:
    wall = START + second
    result = store.ingest(Batch.replayed(_values(second), IDS), now=wall, wall=wall)
    recorder.ingested(store, result, wall, sampled=True)


def test_a_writer_behind_bounds_memory_and_leaves_a_gap_that_replays_honestly(
    tmp_path: Path,
) -> None:
    """With the writer held, the values waiting never pass the bound (plus one tick) however
    long the data comes; the recorder says it is paused, and once the writer has caught up
    the next ingest is recorded whole and the stretch between is a gap in the file, which a
    replay playing on across it and a seek into it both read right."""
    path = tmp_path / "slow.sqlite"
    recorder = _held(path)
    store = Store()
    _ingest(recorder, store, 0)
    until(recorder.holding.is_set, what="the writer took the first tick")
    per_tick = 2 * len(IDS) + len(IDS)  # changes, a keyframe, arrivals: the most one tick adds
    most = 0
    for second in range(1, 400):
        _ingest(recorder, store, second)
        most = max(most, recorder.pending)
    assert most <= BOUND + per_tick
    assert recorder.ingests_not_recorded > 380
    assert recorder.notice is not None
    assert recorder.notice.startswith("recording paused since ")
    assert recorder.notice.endswith(BEHIND)

    recorder.release.set()
    until(lambda: recorder.caught_up, what="the writer caught up")
    _ingest(recorder, store, 400)
    assert recorder.notice is not None and recorder.notice.startswith("recording gap ")
    _ingest(recorder, store, 401)
    final = dict(store.values())
    recorder.close()
    assert recorder.failure is None

    with Recording(path) as recording:
        recorded = recording.tick_count - 2  # the ticks before the gap
        since = START + recorded
        resumed = recording.tick_count - 2
        assert recording.gaps == [Gap(resumed, since, START + 400, BEHIND)]
        assert recording.times[resumed - 1] < since and recording.times[resumed] == START + 400
        assert recording.gap_at(START + 200) == recording.gaps[0]
        assert recording.gap_at(START + 400) is None
        # Playing on across the gap, change by change, ends on the state the store had.
        played: dict[str, StatValue] = {}
        for _, changed in recording.changes(-1, recording.tick_count - 1):
            played.update(changed)
        assert played == final
        # A seek right after the gap starts from the keyframe the resume wrote.
        assert recording.keyframe_before(resumed) == resumed
        seeked = Store()
        seek_store(recording, seeked, resumed)
        assert dict(seeked.values()) == _values(400)


def test_a_session_that_ends_in_a_gap_stores_it_after_the_last_tick(tmp_path: Path) -> None:
    """Closed while still behind, the recording holds what was written and a gap from the
    first ingest not recorded to the last one, after its last tick; a replay at its end says
    so."""
    path = tmp_path / "ends-behind.sqlite"
    recorder = _held(path)
    store = Store()
    _ingest(recorder, store, 0)
    until(recorder.holding.is_set, what="the writer took the first tick")
    for second in range(1, 60):
        _ingest(recorder, store, second)
    recorder.release.set()
    recorder.close()
    with Recording(path) as recording:
        assert len(recording.gaps) == 1
        gap = recording.gaps[0]
        assert gap.tick == recording.tick_count
        assert gap.since == START + recording.tick_count
        assert gap.until == START + 59
        # A replay that reaches the last tick says the session went on unrecorded.
        replay = ReplayController(recording, on_change=lambda _: None, on_status=lambda _: None)
        replay.go_to(recording.end)
        assert replay.status.stopped == gap.text()


def test_a_format_2_file_reads_with_no_gaps(tmp_path: Path) -> None:
    """A recording of the format before gaps (no gaps table, user_version 2) still reads."""
    path = tmp_path / "old.sqlite"
    record_stream(path, LAYOUT, [(START + second, _values(second), IDS) for second in range(3)])
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE gaps")
        db.execute("PRAGMA user_version=2")
    with Recording(path) as recording:
        assert recording.gaps == []
        assert recording.state_at(2) == _values(2)


@pytest.mark.parametrize(
    "rows",
    [
        [(1, START + 5, START + 1)],  # ends before it starts
        [(1, START + 1, START + 5), (2, START + 3, START + 6)],  # overlaps the one before
    ],
)
def test_a_damaged_gap_row_is_one_sentence(
    tmp_path: Path, rows: list[tuple[int, float, float]]
) -> None:
    """Gaps that make no sense (an end before its start, out of time order) are damage."""
    path = tmp_path / "bad-gap.sqlite"
    record_stream(path, LAYOUT, [(START + second, _values(second), IDS) for second in range(3)])
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO gaps VALUES (?, ?, ?, 'x')", rows)
    with pytest.raises(RecordingError) as refused:
        Recording(path)
    assert str(refused.value) == f"{path}: the gaps table is damaged"


async def test_the_status_line_says_paused_then_the_gap_and_the_recorder_stays(
    tmp_path: Path,
) -> None:
    """Under a controller, a recorder that falls behind is not dropped: the status says it is
    paused while it is, then the gap once it records again; values keep coming throughout."""
    recorder = _held(tmp_path / "live.sqlite", max_pending=3)
    clock = VirtualClock()
    statuses: list[SessionStatus] = []
    item = SubscriptionItem(statistic_id="a", object_id="ana", object_type="Agent", name="X")
    controller = LiveController(
        FakeClient(clock),
        Plan([item], 1.0),
        on_change=lambda _: None,
        on_status=statuses.append,
        clock=clock,
        sleep=clock.sleep,
        listeners=[recorder],
    )
    controller.start()
    try:
        await until_async(lambda: recorder.ingests_not_recorded > 0, what="a pause")
        paused = controller.status.stopped
        assert paused is not None and paused.startswith("recording paused since ")
        assert paused in [status.stopped for status in statuses]
        recorder.release.set()
        await until_async(
            lambda: (controller.status.stopped or "").startswith("recording gap "),
            what="the gap said",
        )
        assert recorder in controller.listeners
        assert recorder.failure is None
    finally:
        await controller.close()
        await recorder.aclose()
    with Recording(recorder.path) as recording:
        # How many gaps depends on how fast the loop outruns the writer; one at least.
        assert recording.gaps and recording.gaps[0].tick >= 1


def test_a_floor_larger_than_the_bound_records_on_after_a_gap(tmp_path: Path) -> None:
    """The tick that resumes after a gap holds the whole store (more than this bound): it is
    not counted, so the tick after it is recorded rather than starting a gap at once."""
    path = tmp_path / "big-floor.sqlite"
    # One tick adds at most 14 values here (changes and arrivals); a resume adds 21.
    recorder = _held(path, max_pending=15)
    store = Store()
    _ingest(recorder, store, 0)
    until(recorder.holding.is_set, what="the writer took the first tick")
    for second in range(1, 5):
        _ingest(recorder, store, second)
    assert recorder.ingests_not_recorded > 0
    recorder.release.set()
    until(lambda: recorder.caught_up, what="the writer caught up")
    skipped = recorder.ingests_not_recorded
    for second in (5, 6):
        _ingest(recorder, store, second)
    assert recorder.ingests_not_recorded == skipped
    recorder.close()
    with Recording(path) as recording:
        assert [gap.until for gap in recording.gaps] == [START + 5]
        assert recording.times[-2:] == [START + 5, START + 6]


def test_a_replay_in_a_gap_says_it_was_not_recorded(tmp_path: Path) -> None:
    """The status line of a replay whose moment falls in a gap says from when to when nothing
    was recorded; before and after the gap it says nothing of the kind."""
    path = tmp_path / "gap.sqlite"
    ingests = [(START + second, _values(second), IDS) for second in range(40)]
    record_with_gap(path, LAYOUT, ingests, max_pending=BOUND, resume_at=30)
    statuses: list[SessionStatus] = []
    with Recording(path) as recording:
        (gap,) = recording.gaps
        replay = ReplayController(recording, on_change=lambda _: None, on_status=statuses.append)
        replay.go_to(gap.since + 1)
        assert replay.status.stopped == gap.text()
        assert gap.text() == (
            f"not recorded from {clock_text(gap.since)} to {clock_text(START + 30)}"
        )
        assert dict(replay.store.values()) == _values(recording.tick_at(gap.since))
        replay.go_to(START + 30)
        assert replay.status.stopped is None
        assert dict(replay.store.values()) == _values(30)
        replay.go_to(START + 1)
        assert replay.status.stopped is None


def test_a_value_waiting_for_the_writer_costs_a_slot_per_column_not_a_tuple(
    tmp_path: Path,
) -> None:
    """20,000 changes waiting for a held writer take under 64 bytes each (a slot in five
    lists; the values are the store's own objects), not a tuple each (88 bytes and more),
    which lived a second among long-lived objects and pinned the allocator's arenas."""
    ids = [f"s{index}" for index in range(10_000)]
    recorder = _held(tmp_path / "columns.sqlite", max_pending=1_000_000)
    store = Store()
    held = 0

    def ingest(second: int, fraction: str) -> int:
        """Ingest new figures for every id; the bytes recording them took and kept."""
        figures = {
            sid: NumberValue(float(f"{index}{fraction}"), f"{index}{fraction}")
            for index, sid in enumerate(ids)
        }
        wall = START + second
        changed = store.ingest(Batch.replayed(figures, []), now=wall, wall=wall)
        before = tracemalloc.get_traced_memory()[0]
        recorder.ingested(store, changed, wall, sampled=True)
        return tracemalloc.get_traced_memory()[0] - before

    # The first tick names every statistic (kept for the whole recording): not measured.
    ingest(0, ".25")
    until(recorder.holding.is_set, what="the writer took the first tick")
    tracemalloc.start()
    try:
        held = ingest(1, ".5") + ingest(2, ".75")
        assert recorder.pending == 2 * len(ids)  # both ticks' changes wait
    finally:
        tracemalloc.stop()
        recorder.release.set()
        recorder.close()
    assert held < 64 * 2 * len(ids), f"{held / len(ids) / 2:.0f} bytes a waiting change"


def test_interned_agent_states_share_one_copy_of_each_text() -> None:
    """Agent states are interned with one copy of each text (status, reason, media, place)
    however many values brought it: 10,000 agents' states (a new combination each, as a
    floor brings over a shift) keep under 250 bytes each, not the decoded strings of each
    first value (385 bytes each when they did)."""

    def fresh(text: str) -> str:
        return "".join(list(text))  # equal text, a new object: what decoding each reply gives

    encoder = Encoder()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for agent in range(10_000):
            value = AgentStateValue(
                fresh("NotReadyForNextCall"),
                status_code=8,
                reason=fresh("Coaching"),
                media=fresh("voice"),
                place_id=f"Place_agent{agent:05}",
                since=START,
            )
            encoder.encode(value, tick_millis(START))
            encoder.new_states.clear()  # the recorder hands these to the writer
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    first, second = list(encoder.states)[:2]
    assert first[0] is second[0] and first[2] is second[2] and first[3] is second[3]
    assert kept < 250 * 10_000, f"{kept / 10_000:.0f} bytes an interned state"
