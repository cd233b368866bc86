"""The running dashboard's data side: one store, one session at a time, swapped on reload.

The screen (or a headless caller) talks to `LiveController` only: pause, resume, poll now,
apply a new plan after the layout file changed, close. The controller runs the session task,
feeds values into the store, and reports through two callbacks, which the UI turns into
messages. It never imports Textual.

Features hear the data path one way: as `Listener`s handed to the controller (the recorder,
the alert runner; every command hands them in the same way). Each hears every ingest right
after formulas are recomputed, each reload of the layout, and each change of health; one
that fails is dropped and says why on the status line, and the data path goes on.

Values come by push where the plan allows it and the server offers it: a `PushFeed` holds
the CometD channel, and the `Session` that owns the REST subscription then peeks only to
reconcile, every `reconcile_interval`. When push is lost (auto mode) the session polls at the
refresh interval until the feed has the channel back. Under push, freshness is the channel's:
while it is live the store is told so on every refresh beat, which also samples the history
of trends; a lost channel lets every widget go stale as a failed poll does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from statdash.api.errors import StatisticsError
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.responses import StatisticValues
from statdash.layout.views import CompiledLayout, DerivedStat, KpiView, TrendView
from statdash.layout.vocabulary import UpdatesName
from statdash.live.derived import DerivedValues
from statdash.live.push_feed import ChannelFactory, FeedState, PushFeed
from statdash.live.server_clock import ServerClock
from statdash.live.session import Session, SessionClient, SessionStatus
from statdash.live.store import STALE_AFTER_INTERVALS, Batch, Ingested, Store

log = logging.getLogger("statdash.live")

HISTORY_SLACK = 2
# Under push a peek only reconciles: often enough that a lost notification cannot leave a
# wrong value on screen for long, seldom enough to cost the server next to nothing.
DEFAULT_RECONCILE_INTERVAL = 60.0
# Reconciliation peeks the channel asks for (not the user's r) come at most this often.
MIN_RESYNC_GAP = 5.0
# Under push, pushed values reach the screen at most this long after they arrive.
MAX_FLUSH_GAP = 1.0
# How long a stop waits for the channel's handshake before giving up on it.
STOP_TIMEOUT = 10.0
# Under push, the server keeps delivering for a subscription whose statistics change (its
# time-driven ones, durations, come every few seconds). Deliveries that stop for this many
# times the longest recent gap between them (and at least STALE_AFTER_INTERVALS refresh
# intervals), on a healthy channel, are a server that may have forgotten the subscription:
# the data is no longer vouched for and the server is asked (a peek; a 404 reopens it).
QUIET_FACTOR = 2.0
# ... and never more than this many refresh intervals: a floor whose deliveries came 20 s
# apart would otherwise show a forgotten subscription as live for 40 s. A wrong guess costs
# one peek (at most one per this many intervals while the floor is quiet).
QUIET_CAP_INTERVALS = 5.0
# The gaps between deliveries that set the cadence (a few, so one long gap ages out), and
# how many make a cadence at all (before that, a quiet channel is not suspect).
CADENCE_GAPS = 20
CADENCE_MIN_GAPS = 3
# A batch larger than this many values (a poll's answer of floor.yaml's 10,380 statistics,
# the subscribe reply, a reconciliation peek, the time-driven Periodical push batch of ~6,000
# every 5 s) goes into the store this many at a time, the event loop serving keys and the
# screen between slices, so no one step of the loop takes the whole batch.
INGEST_SLICE = 1000


@dataclass(frozen=True, slots=True)
class Plan:
    """What to subscribe to and how often: the part of a compiled layout the session needs."""

    items: Sequence[SubscriptionItem]
    interval: float
    history_capacity: Mapping[str, int] = field(default_factory=dict)
    """statisticId -> how many samples of history to keep (for KPI trends and trend widgets)."""
    updates: UpdatesName = "poll"
    """auto: push where offered, else polling; push: push only; poll: polling only."""
    reconcile_interval: float = DEFAULT_RECONCILE_INTERVAL
    """Seconds between reconciliation peeks while push is live."""
    derived: Mapping[str, DerivedStat] = field(default_factory=dict)
    """The statistics computed from formulas (`CompiledLayout.derived`)."""


def updates_label(
    feed: PushFeed | None, updates: UpdatesName, *, push_was_up: bool, reached: bool
) -> str:
    """How values arrive, in the status line's words: push, poll, push lost: polling, ...

    `feed` is the push feed (None: polling only), `updates` the mode asked for,
    `push_was_up` whether push was ever live (only then can it be "lost"), `reached` whether
    the server ever answered. The hub words its upstream the same way.
    """
    if feed is None:
        return "poll"
    fallback = updates == "auto"
    if feed.state is FeedState.LIVE:
        return "push" if feed.live else "push: service unavailable"
    if feed.state is FeedState.UNAVAILABLE:
        return "poll: no push" if fallback else "no push"
    if feed.state is FeedState.LOST or (feed.state is FeedState.CONNECTING and feed.last_error):
        if not push_was_up:
            # Push never came up: nothing was lost. A server never reached says so
            # through the phase and its message, with nothing about push.
            if not reached:
                return ""
            return "poll: no push" if fallback else "no push"
        return "push lost: polling" if fallback else "push lost"
    return "push connecting"


def _feature_name(listener: Listener) -> str:
    """How the status line names a feature: its `feature` attribute, else its class."""
    return str(getattr(listener, "feature", type(listener).__name__))


def plan_for(layout: CompiledLayout) -> Plan:
    """The plan of a compiled layout: its items, refresh, history for trends and KPIs, and
    how values arrive (the layout's `updates:`; `LiveController(updates=)` overrides it)."""
    windows: dict[str, float] = {}
    for widget in layout.widgets():
        if isinstance(widget, KpiView) and widget.trend_window is not None:
            windows[widget.stat_id] = max(windows.get(widget.stat_id, 0.0), widget.trend_window)
        elif isinstance(widget, TrendView):
            for series in widget.series:
                windows[series.stat_id] = max(windows.get(series.stat_id, 0.0), widget.window)
    # One sample per poll, plus slack for polls that come a little early.
    capacity = {
        stat_id: math.ceil(window / layout.refresh) + HISTORY_SLACK
        for stat_id, window in windows.items()
    }
    return Plan(
        layout.items,
        layout.refresh,
        capacity,
        updates=layout.updates,
        derived=layout.derived,
    )


@dataclass(slots=True)
class _Waiting:
    """A batch on its way into the store, and what to do once all of it is in."""

    batch: Batch
    now: float
    """Monotonic time it arrived (an answer's freshness)."""
    wall: float
    """Epoch time it arrived (an answer's history sample)."""
    done: Callable[[Ingested], None]
    answer: bool
    """A subscribe or peek answer, which the session awaits (not a pushed batch)."""
    finished: asyncio.Future[None] | None = None
    """Set once the batch is all in (or dropped), when someone awaits it."""


class Listener:
    """A feature on the data path. Override what the feature needs; the rest does nothing."""

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """After each ingest (formulas already recomputed): what changed, at epoch `wall`;
        `sampled` when trend histories took a sample (every poll, each beat under push)."""

    def layout_changed(self, layout: CompiledLayout) -> None:
        """The layout file was reloaded into `layout` (applied from the next ingest)."""

    def health_changed(self, status: SessionStatus) -> None:
        """The session's status changed (connection, how values arrive)."""

    @property
    def failure(self) -> str | None:
        """Why the feature stopped working on its own, as the status line says it
        (`recording stopped: shift.sqlite: the disk is full`), or None while it works. The
        controller looks after each ingest and takes a stopped feature off the data path."""
        return None

    @property
    def notice(self) -> str | None:
        """What the status line should say while the feature works on, degraded (`recording
        paused since 10:12:03: writing fell behind`), or None. Unlike `failure`, it
        keeps the feature on the data path; the controller looks after each ingest."""
        return None

    async def aclose(self) -> None:
        """The session has ended: finish and release what the feature holds."""


ChangeCallback = Callable[[Ingested], None]
StatusCallback = Callable[[SessionStatus], None]
SubscriptionHook = Callable[[str], None]


class LiveController:
    """Owns the store, the current session and its push feed; everything runs on one loop."""

    def __init__(
        self,
        client: SessionClient,
        plan: Plan,
        *,
        on_change: ChangeCallback,
        on_status: StatusCallback,
        on_opened: SubscriptionHook | None = None,
        on_deleted: SubscriptionHook | None = None,
        open_channel: ChannelFactory | None = None,
        updates: UpdatesName | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        listeners: Sequence[Listener] = (),
    ) -> None:
        self._client = client
        self.listeners = list(listeners)
        """The features hearing the data path, in the order they hear it."""
        self._on_change = on_change
        self._on_status = on_status
        self._on_opened = on_opened
        self._on_deleted = on_deleted
        self._open_channel = open_channel
        # How values arrive when the user chose it (--updates): it outlasts layout reloads.
        self._updates_override = updates
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        if updates is not None:
            plan = replace(plan, updates=updates)
        self.plan = plan
        self.store = Store(plan.history_capacity)
        self.server_clock = ServerClock(wall=wall_clock)
        """The server's clock as estimated from its timestamps: what time in state counts to."""
        self._derived = DerivedValues(plan.derived, self.store)
        self._reached = False
        self._last_failure: StatisticsError | None = None
        self._corrected = 0
        # The channel said it may have lost values: the next reconciliation's differences
        # are what push should have delivered and did not (corrections). Other peeks under
        # push (the routine one, the user's r) find values that are legitimately newer, such
        # as Periodical statistics between two notifications: those are no correction.
        self._suspect = False
        # Statistics push delivered since the channel said it lost values: their value is
        # push's own, so a difference the next peek finds is news, not a correction.
        self._pushed_since_loss: set[str] = set()
        self._framed = False
        # Whether push was ever live in this run: only then can it be "lost".
        self._push_was_up = False
        # The last reconciliation: (epoch seconds, values newer, values corrected).
        self._last_check: tuple[float, int, int] | None = None
        self._last_resync = -math.inf
        self._resync_later: asyncio.TimerHandle | None = None
        # Under push: when the server last vouched for the data (a delivery or an answer),
        # the gaps between deliveries lately, and whether the quiet since was asked about.
        self._heard: float | None = None
        self._push_gaps: deque[float] = deque(maxlen=CADENCE_GAPS)
        self._quiet_asked = False
        self._session = self._new_session(plan)
        self._feed = self._new_feed(plan)
        self._task: asyncio.Task[None] | None = None
        # Batches waiting to be applied in slices, pushed ones and answers in arrival order,
        # and the task applying them (see `_take`).
        self._sliced: deque[_Waiting] = deque()
        self._slicer: asyncio.Task[None] | None = None
        self._stopped: str | None = None
        # Listeners dropped after a failure: still closed with the rest.
        self._closing: list[Listener] = []
        # The first listener's notice, as last reported on the status line.
        self._notice: str | None = None

    @property
    def status(self) -> SessionStatus:
        """The current session's status, with how values arrive."""
        checked_at, newer, corrected = self._last_check or (None, 0, 0)
        return replace(
            self._session.status,
            updates=self._updates_label(),
            corrected=self._corrected,
            checked_at=checked_at,
            check_newer=newer,
            check_corrected=corrected,
            stopped=self._stopped
            or next((listener.failure for listener in self.listeners if listener.failure), None)
            or self._notice,
        )

    @property
    def paused(self) -> bool:
        """True while the user paused updates."""
        return self._session.paused

    @property
    def reached(self) -> bool:
        """True once any subscribe or poll succeeded, in this session or an earlier one."""
        return self._reached

    @property
    def last_failure(self) -> StatisticsError | None:
        """The latest failure of any session so far, if there was one."""
        return self._last_failure

    @property
    def pushing(self) -> bool:
        """True while values arrive by push (the channel is live)."""
        return self._feed is not None and self._feed.live

    def _new_session(self, plan: Plan) -> Session:
        return Session(
            self._client,
            plan.items,
            plan.interval,
            on_values=self._ingest,
            on_status=self._status_changed,
            on_opened=self._on_opened,
            on_deleted=self._on_deleted,
            clock=self._clock,
            sleep=self._sleep,
        )

    def _new_feed(self, plan: Plan) -> PushFeed | None:
        if plan.updates == "poll" or self._open_channel is None:
            return None
        session = self._session
        return PushFeed(
            self._open_channel,
            on_updates=self._ingest_pushed,
            on_state=self._feed_state,
            on_resync=self._resync,
            accepts=session.owns,
            clock=self._clock,
            sleep=self._sleep,
            # Values at least as fresh as polling would give, and never more than a second old.
            flush_gap=min(plan.interval, MAX_FLUSH_GAP),
            retry_base=plan.interval,
        )

    def _updates_label(self) -> str:
        feed = self._feed
        if feed is not None and feed.upstream is not None:
            return self._hub_label(feed)
        return updates_label(
            feed, self.plan.updates, push_was_up=self._push_was_up, reached=self._reached
        )

    def _hub_label(self, feed: PushFeed) -> str:
        """Through a hub: the hub's channel, and how values reach the hub."""
        if feed.state is FeedState.LIVE:
            return f"hub: {feed.upstream}"
        if feed.state in (FeedState.LOST, FeedState.UNAVAILABLE):
            return "hub lost: polling" if self.plan.updates == "auto" else "hub lost"
        return "hub connecting"

    def _status_changed(self, status: SessionStatus) -> None:
        # A reload starts a new session at zero polls: remember that the server answered.
        self._reached = self._reached or status.polls > 0
        self._last_failure = self._session.last_failure or self._last_failure
        self._report_status()

    def _report_status(self) -> None:
        status = self.status
        for listener in list(self.listeners):
            try:
                listener.health_changed(status)
            except Exception as error:
                self._drop(listener, error)
        self._on_status(self.status)

    def _feed_state(self, state: FeedState) -> None:
        if self._feed is None:
            return
        if state is FeedState.LIVE:
            self._push_was_up = True
            self._session.set_interval(self.plan.reconcile_interval)
        elif (
            state in (FeedState.LOST, FeedState.UNAVAILABLE)
            and self.plan.updates == "auto"
            and self._session.interval != self.plan.interval
        ):
            # Fall back to polling at once: changes may already have been missed.
            self._session.set_interval(self.plan.interval)
            self._session.poll_now()
        self._report_status()

    def _resync(self) -> None:
        """The channel may have missed changes: reconcile with a peek, now or a little later;
        what that peek finds different counts as corrected.

        At most one a `MIN_RESYNC_GAP`: a server that forgets its CometD clients again and
        again (a 402 storm) would otherwise draw a full peek with every new handshake. The
        last request in a gap is served at its end, so no resync is dropped.
        """
        if not self._suspect:
            self._pushed_since_loss = set()
        self._suspect = True
        wait = self._last_resync + MIN_RESYNC_GAP - self._clock()
        if wait <= 0:
            self._last_resync = self._clock()
            self._session.poll_now()
        elif self._resync_later is None:
            self._resync_later = asyncio.get_running_loop().call_later(wait, self._resync_due)

    def _resync_due(self) -> None:
        self._resync_later = None
        self._resync()

    def _ingest(self, statistics: Sequence[StatisticValue]) -> Awaitable[None] | None:
        """Take a subscribe or peek answer; awaitable (or None) until all of it is in.

        The session awaits it, so the next request, and the status saying this one is done,
        come only once the store, the derived figures and every listener have the answer.
        """
        now, wall = self._clock(), self._wall_clock()
        # An answer vouches for the data as a delivery does (not a gap of the cadence).
        self._heard, self._quiet_asked = now, False
        reconciling = self.pushing and self._framed
        if self._feed is not None:
            # What was pushed before this answer goes first, so that only real differences
            # count as corrections; a pushed value newer than the answer's is kept.
            self._feed.flush_now()
        wired = statistics.wire_columns() if isinstance(statistics, StatisticValues) else None
        if wired is not None:
            # The client's answer, values undecoded: the store decodes only what changed.
            batch = Batch.wired(*wired, newer_only=reconciling)
        elif isinstance(statistics, StatisticValues):
            # The client's answer: read the columns, never build a model per statistic.
            batch = Batch.answer(*statistics.columns(), newer_only=reconciling)
        else:
            triples = ((value.statistic_id, value.value, value.timestamp) for value in statistics)
            batch = Batch.of(triples, newer_only=reconciling)
        self.server_clock.observe(batch.timestamps)
        # Whether this answer reconciles after a loss, and what push delivered since, as
        # they are now: a loss reported while a large answer goes in counts for the next one.
        suspect = False
        if reconciling:
            suspect, self._suspect = self._suspect, False
        pushed = self._pushed_since_loss

        def done(ingested: Ingested) -> None:
            self._answered(ingested, wall, reconciling=reconciling, suspect=suspect, pushed=pushed)

        return self._take(_Waiting(batch, now, wall, done, answer=True))

    def _answered(
        self,
        result: Ingested,
        wall: float,
        *,
        reconciling: bool,
        suspect: bool,
        pushed: set[str],
    ) -> None:
        """An answer is all in the store: reconciliation's count, derived figures, listeners."""
        self._framed = True
        if reconciling:
            found = len(result.changed)
            corrected = len(result.changed - pushed) if suspect else 0
            self._last_check = (wall, found - corrected, corrected)
            if corrected:
                self._corrected += corrected
                log.info("reconciliation corrected %d value(s)", corrected)
            self._report_status()
        self._done(result, wall, sampled=True)

    def _ingest_pushed(
        self, statistic_ids: list[str], raw_values: list[object], raw_timestamps: list[object]
    ) -> None:
        now = self._clock()
        if self._heard is not None:
            self._push_gaps.append(now - self._heard)
        self._heard, self._quiet_asked = now, False
        self.server_clock.observe(raw_timestamps)
        if self._suspect:
            self._pushed_since_loss.update(statistic_ids)
        batch = Batch.pushed(statistic_ids, raw_values, raw_timestamps)
        self._take(_Waiting(batch, now, self._wall_clock(), self._pushed_done, answer=False))

    def _take(self, waiting: _Waiting) -> Awaitable[None] | None:
        """Apply a batch now when it is small and nothing waits; else queue it for slicing.

        Returns what to await until the batch is all in (None: it already is).
        """
        if len(waiting.batch) <= INGEST_SLICE and self._slicer is None:
            batch, now, wall = waiting.batch, waiting.now, waiting.wall
            waiting.done(self.store.ingest(batch, now=now, wall=wall))
            return None
        # Large (or behind a large one, to keep the order): applied in slices by a task.
        loop = asyncio.get_running_loop()
        if waiting.answer:
            waiting.finished = loop.create_future()
        self._sliced.append(waiting)
        if self._slicer is None:
            self._slicer = loop.create_task(self._apply_sliced())
        return waiting.finished

    async def _apply_sliced(self) -> None:
        """Apply the waiting batches in order, INGEST_SLICE values per step of the loop.

        Pushed batches and answers (a poll, the subscribe reply, a reconciliation peek) wait
        in one queue, so they go in in the order they came. The store takes the slices one
        by one; derived figures, listeners (alerts, the recorder) and the screen hear of a
        batch once, when all of it is in, with the union of what changed. So no redraw,
        alert or recorded frame ever stands on half a batch. Between slices the loop serves
        keys and the clock: a cell drawn then for the first time (a row scrolled into view)
        may already show a value of the batch, each value a real one from the server, while
        the figures derived from it follow at the end.
        """
        try:
            while self._sliced:
                waiting = self._sliced.popleft()
                try:
                    changed: set[str] = set()
                    revision = self.store.revision
                    for index, part in enumerate(waiting.batch.slices(INGEST_SLICE)):
                        if index:
                            await asyncio.sleep(0)
                        ingested = self.store.ingest(part, now=waiting.now, wall=waiting.wall)
                        changed |= ingested.changed
                        revision = ingested.revision
                    waiting.done(Ingested(frozenset(changed), revision))
                finally:
                    # Whoever waits goes on, also when the batch was dropped (a stop, a reload).
                    if waiting.finished is not None and not waiting.finished.done():
                        waiting.finished.set_result(None)
                await asyncio.sleep(0)
        finally:
            self._slicer = None

    def _pushed_done(self, ingested: Ingested) -> None:
        """A pushed batch is all in the store: derived figures, listeners, the screen."""
        self._done(ingested, self._wall_clock(), sampled=False)

    def _done(self, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """Formulas whose inputs changed are recomputed into the store before anyone looks;
        then every listener and the screen hear of it."""
        result = self._derived.update(ingested, wall=wall)
        self._tell_listeners(result, wall, sampled=sampled)
        self._on_change(result)

    def _tell_listeners(self, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """Every listener hears the ingest; one that fails is dropped, the dashboard goes on."""
        for listener in list(self.listeners):
            try:
                listener.ingested(self.store, ingested, wall, sampled=sampled)
            except Exception as error:
                self._drop(listener, error)
                continue
            # A feature that stopped on its own (a recorder on a full disk, its writes on
            # another thread) is heard here, at the next ingest, and reported like a failure.
            failure = listener.failure
            if failure is not None:
                log.info("%s stopped: %s", type(listener).__name__, failure)
                self._stop(listener, failure)
        notice = next((each.notice for each in self.listeners if each.notice), None)
        if notice != self._notice:
            # A feature that fell behind (or caught up) says so once, as it changes.
            self._notice = notice
            self._on_status(self.status)

    def layout_changed(self, layout: CompiledLayout) -> None:
        """The layout file was reloaded into `layout`: every listener hears it."""
        for listener in list(self.listeners):
            try:
                listener.layout_changed(layout)
            except Exception as error:
                self._drop(listener, error)

    def _drop(self, listener: Listener, error: Exception) -> None:
        # A failure of a feature stays in that feature: it stops, and the status line says so.
        log.exception("%s failed and stopped", type(listener).__name__)
        self._stop(listener, f"{_feature_name(listener)} stopped: {error}")

    def _stop(self, listener: Listener, why: str) -> None:
        """Take `listener` off the data path (closed with the rest) and say `why` on the
        status line."""
        self._stopped = why
        self.listeners.remove(listener)
        self._closing.append(listener)
        self._on_status(self.status)

    def _beat(self) -> None:
        """On each refresh beat under push: the data is current, and trends take a sample."""
        if self.pushing and not self.paused and self._framed:
            wall, now = self._wall_clock(), self._clock()
            if self._went_quiet(now):
                # Not vouched for: no beat (the panels go stale after two intervals, the
                # trends and a recording take no sample) unless the answer comes first.
                if not self._quiet_asked:
                    self._quiet_asked = True
                    log.info("push deliveries stopped on a live channel; asking the server")
                    self._session.poll_now()
                return
            self.store.alive(now)
            self.store.sample(wall)
            # A tick with no change: a replay sees the data as current at this moment too.
            self._tell_listeners(Ingested(frozenset(), self.store.revision), wall, sampled=True)

    def _went_quiet(self, now: float) -> bool:
        """Deliveries stopped for much longer than their cadence (see QUIET_FACTOR)."""
        if self._heard is None or len(self._push_gaps) < CADENCE_MIN_GAPS:
            return False
        interval = self.plan.interval
        patience = min(
            max(QUIET_FACTOR * max(self._push_gaps), STALE_AFTER_INTERVALS * interval),
            QUIET_CAP_INTERVALS * interval,
        )
        return now - self._heard > patience

    def start(self) -> None:
        """Start the session (and the push feed) in a task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        session, feed = self._session, self._feed
        if feed is None:
            await session.run()
            return
        feed_task: asyncio.Task[None] | None = None
        beat_task: asyncio.Task[None] | None = None
        try:
            # The statistic subscription opens only once the updates channel is confirmed,
            # so no change between the subscribe reply and the channel is missed.
            if await feed.open():
                session.set_interval(self.plan.reconcile_interval)
            loop = asyncio.get_running_loop()
            feed_task = loop.create_task(feed.run())
            beat_task = loop.create_task(self._beats())
            await session.run()
        finally:
            if beat_task is not None:
                beat_task.cancel()
            feed.stop()
            if feed_task is not None:
                await feed_task
            else:
                await feed.close()

    async def _beats(self) -> None:
        while True:
            await self._sleep(self.plan.interval)
            self._beat()

    def pause(self) -> None:
        """Stop applying updates; the subscription (and the push channel) stay open."""
        self._session.pause()
        if self._feed is not None:
            self._feed.pause()

    def resume(self) -> None:
        """Apply updates again, starting now."""
        self._session.resume()
        if self._feed is not None:
            self._feed.resume()

    def toggle_pause(self) -> bool:
        """Pause or resume; True when now paused."""
        if self._session.paused:
            self.resume()
        else:
            self.pause()
        return self._session.paused

    def poll_now(self) -> None:
        """Peek at once (under push, a reconciliation; also ends a retry wait, and the push
        channel's wait after refused credentials)."""
        self._session.poll_now()
        if self._feed is not None:
            self._feed.retry_now()

    async def apply(self, plan: Plan) -> None:
        """Switch to a new plan: close the old subscription, keep values of shared statistics."""
        was_paused = self._session.paused
        await self._stop_task()
        if self._updates_override is not None:
            plan = replace(plan, updates=self._updates_override)
        self.plan = plan
        keep = {item.statistic_id for item in plan.items} | set(plan.derived)
        self.store.forget(keep)
        self.store.track_history(plan.history_capacity)
        self._derived = DerivedValues(plan.derived, self.store)
        self._session = self._new_session(plan)
        self._feed = self._new_feed(plan)
        self._framed = False
        self._suspect = False
        self._heard = None
        self._push_gaps.clear()
        if was_paused:
            self.pause()
        self.start()

    async def close(self) -> None:
        """Stop, delete the subscription and disconnect the channel; safe to call more than once."""
        await self._stop_task()
        await self._session.close()
        if self._feed is not None:
            await self._feed.close()
        # The recorder commits what it gathered before the app ends; the alerts' commands end.
        listeners, self.listeners = [*self.listeners, *self._closing], []
        self._closing = []
        for listener in listeners:
            try:
                await listener.aclose()
            except Exception:
                log.exception("closing %s failed", type(listener).__name__)

    async def _stop_task(self) -> None:
        if self._resync_later is not None:
            self._resync_later.cancel()
            self._resync_later = None
        slicer, self._slicer = self._slicer, None
        dropped = list(self._sliced)
        self._sliced.clear()
        for waiting in dropped:
            # A session awaiting its answer goes on (to stop), the answer not applied.
            if waiting.finished is not None and not waiting.finished.done():
                waiting.finished.set_result(None)
        if slicer is not None:
            slicer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await slicer
        task, self._task = self._task, None
        if task is None:
            return
        self._session.stop()
        if self._feed is not None:
            self._feed.stop()
        try:
            # The session deletes its subscription on the way out (bounded by its own timeout).
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT)
        except TimeoutError:
            log.warning("session did not stop in time; cancelling it")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
