"""A recording played back into a store, behind the interface the screen uses of the live one.

`ReplayController` has what `StatdashApp` reads and calls of `LiveController` (store, status,
plan, pause/resume, close, ...) plus the replay's own controls: speed, step, go to a moment.
It opens no connection: values come from the file only. The store is fed as the live session
fed it, tick by tick with each tick's recorded time as both its monotonic and wall time, and
the screen's clocks read `clock()`, the moment shown; so time in state, "updated Ns ago" and
staleness are what they were at that moment.

A seek builds a fresh store from the keyframe before the moment and the changes after it
(`seek_store`), so it costs at most one keyframe interval of changes wherever it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from statdash.api.values import StatValue
from statdash.layout.views import CompiledLayout
from statdash.live.controller import ChangeCallback, Plan, StatusCallback, plan_for
from statdash.live.recordings.file import Recording, RecordingError, clock_text
from statdash.live.session import Phase, SessionStatus
from statdash.live.store import Batch, Ingested, Store

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
MAX_SPEED = 1000.0
# Changes a seek may replay to refill trend lines over their whole window (~0.3 s of work).
SEEK_BUDGET = 100_000
# Longest sleep between two looks at the clock, so pause and speed keys answer at once.
MAX_WAIT = 0.25


class _Arrivals:
    """The ids each tick brought, read from the file only when they differ from the last."""

    def __init__(self, recording: Recording) -> None:
        self._recording = recording
        self._tick = -2
        self._ids: list[str] = []

    def at(self, tick: int, previous: int) -> list[str]:
        """The arrived ids of `tick`, having last been asked for `previous`."""
        if self._tick != previous or self._recording.arrival_changes(previous, tick):
            self._ids = self._recording.arrived_at(tick)
        self._tick = tick
        return self._ids


def seek_store(
    recording: Recording, store: Store, tick: int, *, history_seconds: float = 0.0
) -> Ingested:
    """Fill a fresh `store` with the state right after `tick`: its keyframe, then changes.

    With `history_seconds` (the longest trend window) and a store keeping history, the
    replay starts early enough to refill the rings over that window, when that costs at
    most SEEK_BUDGET changes (a small floor); else the rings start at the keyframe.
    """
    arrivals = _Arrivals(recording)
    keyframe = recording.keyframe_before(tick)
    if history_seconds > 0 and store.tracks_history and tick >= 0:
        window_start = recording.tick_at(recording.times[tick] - history_seconds)
        earliest = recording.keyframe_before(window_start) if window_start >= 0 else -1
        if earliest < keyframe and recording.change_count(earliest, tick) <= SEEK_BUDGET:
            keyframe = earliest
    result = Ingested(frozenset(), store.revision)
    times = recording.times
    if keyframe >= 0:
        moment = times[keyframe]
        arrived = arrivals.at(keyframe, -2)
        batch = Batch.replayed(
            recording.keyframe(keyframe), arrived, sample=recording.sampled[keyframe]
        )
        result = store.ingest(batch, now=moment, wall=moment)
    previous = keyframe
    if (
        tick > keyframe
        and not store.tracks_history
        and not recording.arrival_changes(keyframe, tick)
    ):
        # Nothing in between leaves a trace in the store (no history rings, the same ids
        # arriving each time): the changes fold into one ingest at the last tick.
        folded: dict[str, StatValue] = {}
        for _, changed in recording.changes(keyframe, tick):
            folded.update(changed)
        moment = times[tick]
        arrived = arrivals.at(tick, previous)
        return store.ingest(Batch.replayed(folded, arrived), now=moment, wall=moment)
    for each, changed in recording.changes(keyframe, tick):
        moment = times[each]
        arrived = arrivals.at(each, previous)
        batch = Batch.replayed(changed, arrived, sample=recording.sampled[each])
        result = store.ingest(batch, now=moment, wall=moment)
        previous = each
    return result


class ReplayController:
    """Plays one recording into a store on the running loop; the UI drives it by keys."""

    def __init__(
        self,
        recording: Recording,
        *,
        on_change: ChangeCallback,
        on_status: StatusCallback,
        speed: float = 1.0,
        at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recording = recording
        self.layout = recording.layout
        self.plan: Plan = plan_for(self.layout)
        self._ids = frozenset(item.statistic_id for item in self.plan.items)
        # The longest trend window, which a seek refills when it is cheap enough.
        self._history_seconds = max(self.plan.history_capacity.values(), default=0) * (
            self.plan.interval
        )
        self._on_change = on_change
        self._on_status = on_status
        self._clock = clock
        self.speed = speed
        self.store = Store(self.plan.history_capacity)
        self._tick = -1
        self._arrivals = _Arrivals(recording)
        self._paused = False
        self._failure: str | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # The moment shown moves from (anchor moment, anchor clock) at `speed` while playing.
        self._anchor_moment = recording.start
        self._anchor_clock = clock()
        # Said as the session said it: a replay of a push session is push, not poll.
        self._status = SessionStatus(phase=Phase.LIVE, updates=recording.updates)
        self.go_to(recording.start if at is None else at, report=False)

    # --- what the screen reads --------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        """Playing (`live`), paused, or failed with the reason."""
        return self._status

    @property
    def paused(self) -> bool:
        """True while the replay stands still."""
        return self._paused

    @property
    def reached(self) -> bool:
        """A replay has no server to reach: always True."""
        return True

    @property
    def last_failure(self) -> None:
        """A replay has no server failures."""
        return None

    @property
    def at_end(self) -> bool:
        """True when the last tick of the recording is shown."""
        return self._tick >= self.recording.tick_count - 1

    def moment(self) -> float:
        """Epoch seconds of the recorded moment shown now (the screen's clock in a replay)."""
        if self._paused:
            return self._anchor_moment
        moment = self._anchor_moment + (self._clock() - self._anchor_clock) * self.speed
        return min(moment, self.recording.end)

    # --- controls ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start playing in a task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def pause(self) -> None:
        """Stand still at the moment shown."""
        if not self._paused:
            self._anchor(self.moment())
            self._paused = True
            self._report_status()

    def resume(self) -> None:
        """Play on from the moment shown (from the start when at the end)."""
        if self._paused:
            if self.at_end:
                self.go_to(self.recording.start)
            self._paused = False
            self._anchor(self._anchor_moment)
            self._report_status()

    def toggle_pause(self) -> bool:
        """Pause or play; True when now paused."""
        if self._paused:
            self.resume()
        else:
            self.pause()
        return self._paused

    def poll_now(self) -> None:
        """Nothing to poll in a replay (the key is not offered)."""

    def set_speed(self, speed: float) -> float:
        """Play at `speed` recorded seconds per second (kept within 1/4 and MAX_SPEED)."""
        moment = self.moment()
        self.speed = min(MAX_SPEED, max(SPEEDS[0], speed))
        self._anchor(moment)
        return self.speed

    def faster(self) -> float:
        """The next speed up."""
        return self.set_speed(next((s for s in SPEEDS if s > self.speed), self.speed * 2))

    def slower(self) -> float:
        """The next speed down."""
        return self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), self.speed))

    def step(self, ticks: int) -> float:
        """Pause and move `ticks` ticks (polls) on, or back when negative; the new moment."""
        self.pause()
        target = min(max(self._tick + ticks, 0), self.recording.tick_count - 1)
        if target >= 0:
            self.go_to(self.recording.times[target])
        return self.moment()

    def go_to(self, moment: float, *, report: bool = True) -> None:
        """Show the recorded state at `moment` (clamped to the recording)."""
        moment = min(max(moment, self.recording.start), self.recording.end)
        target = self.recording.tick_at(moment)
        try:
            if target >= self._tick and self._tick >= 0:
                self._advance_to(target, report=report)
            else:
                self._seek(target, report=report)
        except RecordingError as error:
            self._fail(str(error))
        self._anchor(moment)
        self._wake.set()
        if report:
            self._report_status()

    async def apply(self, plan: Plan) -> None:
        """A replay keeps the recorded layout (the screen does not watch a file in a replay)."""

    def layout_changed(self, layout: CompiledLayout) -> None:
        """A replay keeps the recorded layout."""

    async def close(self) -> None:
        """Stop playing; safe to call more than once. The file is the caller's to close."""
        self._closed = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- playing ----------------------------------------------------------------------------

    def _anchor(self, moment: float) -> None:
        self._anchor_moment = moment
        self._anchor_clock = self._clock()

    async def _run(self) -> None:
        self._report_status()
        while not self._closed:
            self._wake.clear()
            wait: float | None = MAX_WAIT
            if not self._paused and self._failure is None:
                moment = self.moment()
                try:
                    self._advance_to(self.recording.tick_at(moment), report=True)
                except RecordingError as error:
                    self._fail(str(error))
                if self.at_end:
                    self._anchor(self.recording.end)
                    self._paused = True
                    self._report_status()
                elif self._gap_text(moment) != self._status.stopped:
                    self._report_status()
                else:
                    next_moment = self.recording.times[self._tick + 1]
                    wait = min(MAX_WAIT, max(0.0, (next_moment - moment) / self.speed))
            else:
                wait = None
            if wait is None:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    def _seek(self, target: int, *, report: bool) -> None:
        """Show `target` from a fresh store: its keyframe, then the changes after it."""
        store = Store(self.plan.history_capacity)
        seek_store(self.recording, store, target, history_seconds=self._history_seconds)
        self.store = store
        self._tick = target
        if report:
            # Every statistic: values missing at the new moment must be blanked too.
            self._on_change(Ingested(self._ids | store.values().keys(), store.revision))

    def _advance_to(self, target: int, *, report: bool) -> None:
        """Ingest the ticks after the one shown, up to `target`, as the live session did.

        A jump past a keyframe over more changes than a seek may cost (`g` far ahead, a
        high speed) seeks instead: one step never blocks the loop for long, so `q` and
        `space` answer at once.
        """
        if target <= self._tick:
            return
        keyframe = self.recording.keyframe_before(target)
        if keyframe > self._tick and self.recording.change_count(self._tick, target) > SEEK_BUDGET:
            self._seek(target, report=report)
            return
        times = self.recording.times
        changed: set[str] = set()
        result: Ingested | None = None
        for each, values in self.recording.changes(self._tick, target):
            moment = times[each]
            arrived = self._arrivals.at(each, self._tick)
            batch = Batch.replayed(values, arrived, sample=self.recording.sampled[each])
            result = self.store.ingest(batch, now=moment, wall=moment)
            changed |= result.changed
            self._tick = each
        if report and result is not None:
            self._on_change(Ingested(frozenset(changed), result.revision))

    def _fail(self, message: str) -> None:
        self._failure = message
        self._paused = True
        self._status = replace(self._status, phase=Phase.FAILED, last_error=message)
        self._on_status(self._status)

    def _report_status(self) -> None:
        if self._failure is not None:
            return
        phase = Phase.PAUSED if self._paused else Phase.LIVE
        self._status = replace(
            self._status,
            phase=phase,
            polls=self._tick + 1,
            stopped=self._gap_text(self.moment()),
        )
        self._on_status(self._status)

    def _gap_text(self, moment: float) -> str | None:
        """What the status line says while the moment shown is in a gap of the recording."""
        gap = self.recording.gap_at(moment)
        gaps = self.recording.gaps
        if gap is None and self.at_end and gaps and gaps[-1].tick >= self.recording.tick_count:
            gap = gaps[-1]  # the session ended inside it: it follows the last tick
        return gap.text() if gap is not None else None


def moment_of_day(text: str, start: float, end: float) -> float:
    """`HH:MM[:SS]` (local time) -> the first such moment from `start` on; ValueError says why.

    A recording that runs past midnight has two days: the time is looked for on the first
    day, then on the next, so `--at 01:30` of a night shift finds the early morning.
    """
    parts = text.strip().split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        hour, minute = int(parts[0]), int(parts[1])
        second = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day; write HH:MM or HH:MM:SS") from None
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        raise ValueError(f"{text!r} is not a time of day; write HH:MM or HH:MM:SS")
    day = time.localtime(start)
    for extra_days in range(0, 3):
        candidate = time.mktime(
            (day.tm_year, day.tm_mon, day.tm_mday + extra_days, hour, minute, second, 0, 0, -1)
        )
        # The minute the recording starts in counts: 10:15 of a start at 10:15:20 is its start.
        if candidate >= start - 59 and candidate <= end:
            return max(candidate, start)
    raise ValueError(
        f"the recording runs from {clock_text(start)} to {clock_text(end)}; {text} is not in it"
    )
