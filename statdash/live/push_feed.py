"""PushFeed: keeps a CometD channel open and hands its updates on, coalesced per statistic.

The feed owns the channel only; the REST subscription stays with `live.session.Session`,
which under push peeks seldom, to reconcile. The controller wires the two together: the
feed asks for a reconciliation (`on_resync`) whenever the channel may have missed
something (it came back after being lost, the server re-handshook, the service became
available again), and says through `on_state` whether push is live, so the session can
poll at the refresh interval while it is not.

Updates are collected into one pending value per statistic and handed on at most every
`flush_gap` seconds, so a flood of small deliveries costs one store ingest and one redraw
per gap, and memory stays bounded by the number of statistics however fast they come.
While paused the channel stays open and the pending values keep only the latest of each.

Rounds are spaced by the same gap: a server that answers a connect as soon as anything
changed (Stat Server's Immediate mode, with a thousand changes a second) would otherwise be
asked again at once, dozens of times a second, each round a request and a parse for a
handful of values. Waiting lets the server queue them for one larger reply; a CometD server
keeps a client's queue far longer than a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Protocol

from statdash.api import errors
from statdash.api.describe import describe
from statdash.api.retry import Backoff, refused
from statdash.live.waking import sleep_unless_woken

log = logging.getLogger("statdash.live")

DEFAULT_FLUSH_GAP = 0.5
# Reopening a lost channel: soon at first (at the refresh interval, when that is sooner,
# for the first few tries, as the session retries a poll), then less and less often. A
# server that has no push at all is asked again rarely: it will hardly grow one in a shift.
RETRY_BASE = 5.0
RETRY_CAP = 120.0
STEADY_REOPENS = 3
UNAVAILABLE_RETRY = 300.0
# After refused credentials the feed waits for `retry_now()`; this only bounds one sleep.
REFUSED_WAIT = 3600.0
# Consecutive failed connects that make the channel lost (one may be a blip: the next
# connect after it often succeeds).
FAILURES_TO_LOSE = 2
AFTER_FAILURE_PAUSE = 1.0
SERVICE_AVAILABLE = "Available"


class FeedState(Enum):
    """How values arrive, as the status line names it."""

    CONNECTING = "push connecting"
    LIVE = "push"
    LOST = "push lost"
    UNAVAILABLE = "no push"
    CLOSED = "push closed"


class PushUpdateLike(Protocol):
    """One pushed statistic value (see `statdash.api.push.PushUpdate`)."""

    @property
    def statistic_id(self) -> str: ...

    @property
    def value(self) -> object: ...

    @property
    def timestamp(self) -> object: ...

    @property
    def subscription_id(self) -> str | None: ...


class PushBatchLike(Protocol):
    """What one channel round brought (see `statdash.api.push.PushBatch`)."""

    @property
    def updates(self) -> Sequence[PushUpdateLike]: ...

    @property
    def service_state(self) -> str | None: ...

    @property
    def rehandshook(self) -> bool: ...

    @property
    def skipped(self) -> int: ...

    @property
    def interrupted(self) -> bool: ...

    @property
    def upstream(self) -> str | None: ...


class PushChannelLike(Protocol):
    """The CometD channel the feed drives; `statdash.api.push.PushChannel` provides it."""

    async def open(self) -> PushBatchLike: ...

    async def next_batch(self) -> PushBatchLike: ...

    async def close(self) -> None: ...

    @property
    def undisconnected(self) -> bool: ...


ChannelFactory = Callable[[], PushChannelLike]
UpdatesCallback = Callable[[list[str], list[object], list[object]], None]
StateCallback = Callable[["FeedState"], None]


class PushFeed:
    """One CometD channel from open to disconnect, reopened when lost; `run()` never raises.

    `retry_base` is the refresh interval: a lost channel is tried again that often at first.
    """

    def __init__(
        self,
        open_channel: ChannelFactory,
        *,
        on_updates: UpdatesCallback,
        on_state: StateCallback,
        on_resync: Callable[[], None],
        accepts: Callable[[str | None], bool] = lambda _: True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        flush_gap: float = DEFAULT_FLUSH_GAP,
        retry_base: float = RETRY_BASE,
        rng: random.Random | None = None,
    ) -> None:
        self._open_channel = open_channel
        self._on_updates = on_updates
        self._on_state = on_state
        self._on_resync = on_resync
        self._accepts = accepts
        self._clock = clock
        self._sleep = sleep
        self._flush_gap = flush_gap
        # A lost channel that comes back within two refresh intervals is back on screen
        # within them: a 5 s first wait (up to 10 s on the second) made a two-second
        # dashboard take 4-5 s after garbled replies (benchmarks/push_recovery.py).
        self._backoff = Backoff(
            base=min(retry_base, RETRY_BASE),
            cap=RETRY_CAP,
            steady=STEADY_REOPENS,
            jitter="half",
            random=(rng or random.Random()).random,
        )
        self._channel: PushChannelLike | None = None
        # Channels lost whose disconnect did not get through: their CometD clients are
        # still on the server, so the way out tries them again.
        self._undisconnected: list[PushChannelLike] = []
        self._refused = False
        self._pending: dict[str, tuple[object, object]] = {}
        self._last_flush = -float("inf")
        self._last_round = -float("inf")
        self._flush_task: asyncio.Task[None] | None = None
        self._paused = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._service_available = True
        self._failures = 0
        self._reopen_failures = 0
        self.state = FeedState.CONNECTING
        self.last_error: str | None = None
        """Why push is not live, in the one sentence `describe` gives."""
        self.updates_received = 0
        self.duplicates_dropped = 0
        self.upstream: str | None = None
        """Through a hub: how values reach the hub ("push", "poll", ...); None for CometD."""

    @property
    def live(self) -> bool:
        """True while updates flow: the channel is open and the service says it is available."""
        return self.state is FeedState.LIVE and self._service_available

    # --- control (same event loop) --------------------------------------------------------

    def pause(self) -> None:
        """Stop handing updates on; the channel stays open and keeps the latest of each."""
        self._paused = True

    def resume(self) -> None:
        """Hand on what came while paused, and everything after it."""
        self._paused = False
        self._schedule_flush()

    def flush_now(self) -> None:
        """Hand on what is pending at once (before a reconciliation answer is applied)."""
        if self._pending and not self._paused:
            if self._flush_task is not None:
                self._flush_task.cancel()
                self._flush_task = None
            self._flush()

    def retry_now(self) -> None:
        """Try the channel again now: after the server refused the credentials the feed
        waits for this (the user's `r`, as the session does) rather than ask again alone."""
        if self._refused:
            self._refused = False
            self._wake.set()

    def stop(self) -> None:
        """Ask `run()` to end; it then disconnects the channel."""
        self._stopping = True
        self._wake.set()

    # --- the loop -------------------------------------------------------------------------

    async def open(self) -> bool:
        """The first attempt to open the channel; True when both channels are confirmed."""
        return await self._try_open()

    async def run(self) -> None:
        """Receive until stopped, reopening a lost channel; always disconnects on the way out."""
        try:
            while not self._stopping:
                if self._channel is None:
                    if not await self._wait(self._reopen_delay()):
                        continue
                    if self._stopping:
                        break
                    if await self._try_open():
                        # Whatever changed while the channel was down came by no push.
                        self._on_resync()
                    continue
                await self._receive()
        finally:
            await self.close()

    async def close(self) -> None:
        """Disconnect the channel (bounded, never raises) and hand on nothing more."""
        self._stopping = True
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()
        leftovers, self._undisconnected = self._undisconnected, []
        # Concurrently: each is bounded by the channel's own short timeout.
        await asyncio.gather(*(leftover.close() for leftover in leftovers))
        self._set_state(FeedState.CLOSED)

    async def _close_lost(self, channel: PushChannelLike) -> None:
        """Close a channel given up on; kept for the way out if its disconnect failed."""
        await channel.close()
        if channel.undisconnected:
            self._undisconnected.append(channel)

    async def _try_open(self) -> bool:
        self._set_state(FeedState.CONNECTING)
        channel = self._open_channel()
        try:
            batch = await channel.open()
        except errors.StatisticsError as error:
            await self._close_lost(channel)
            self._lost(error)
            return False
        except asyncio.CancelledError:
            # A stop that ran out of patience cancels an open in flight: the handshake may
            # have landed, and the server must not keep that CometD client.
            await channel.close()
            raise
        self._channel = channel
        # The reopen backoff is reset only by a healthy round (below), not by the open: a
        # server whose every connect fails must not be handshaken with every few seconds.
        self._failures = 0
        self.last_error = None
        self._set_state(FeedState.LIVE)
        self._take(batch)
        return True

    async def _receive(self) -> None:
        """One channel round, abandoned when the feed is stopped meanwhile."""
        channel = self._channel
        assert channel is not None
        spacing = self._last_round + self._flush_gap - self._clock()
        if spacing > 0 and not await self._wait(spacing):
            return
        self._last_round = self._clock()
        # A connect is held by the server for up to ~20 s: a stop must not wait for it.
        round_trip = asyncio.ensure_future(channel.next_batch())
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({round_trip, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
        if not round_trip.done():
            round_trip.cancel()
            with contextlib.suppress(asyncio.CancelledError, errors.StatisticsError):
                await round_trip
            return
        try:
            batch = round_trip.result()
        except errors.StatisticsError as error:
            self._failures += 1
            lost = isinstance(error, errors.PushLost) or self._failures >= FAILURES_TO_LOSE
            log.info("push connect failed (%d in a row): %s", self._failures, describe(error))
            if not lost and isinstance(error, errors.ShapeError):
                # A reply came but could not be read: the values it carried, which the
                # server now counts as delivered, are lost.
                self._on_resync()
            if lost:
                self._channel = None
                await self._close_lost(channel)
                self._lost(error)
            else:
                await self._wait(AFTER_FAILURE_PAUSE)
            return
        self._failures = 0
        if not batch.rehandshook:
            self._reopen_failures = 0
        self._take(batch)

    def _lost(self, error: errors.StatisticsError) -> None:
        self._reopen_failures += 1
        # Refused credentials stay refused: asking again every interval only fills the
        # server's log (the session stops polling the same way, until `r`).
        self._refused = refused(error)
        self.last_error = describe(error)
        unavailable = isinstance(error, errors.PushUnavailable)
        if not self._stopping:
            log.warning("push %s: %s", "unavailable" if unavailable else "lost", self.last_error)
        self._set_state(FeedState.UNAVAILABLE if unavailable else FeedState.LOST)

    def _reopen_delay(self) -> float:
        if self._refused:
            return REFUSED_WAIT
        if self.state is FeedState.UNAVAILABLE:
            return UNAVAILABLE_RETRY
        return self._backoff.delay(self._reopen_failures)

    async def _wait(self, seconds: float) -> bool:
        """Sleep `seconds` unless stopped first; True when the time passed."""
        return not await sleep_unless_woken(self._sleep, seconds, self._wake)

    # --- what a batch brings ----------------------------------------------------------------

    def _take(self, batch: PushBatchLike) -> None:
        if batch.upstream is not None and batch.upstream != self.upstream:
            self.upstream = batch.upstream
            if batch.service_state is None:
                self._on_state(self.state)
        if batch.service_state is not None:
            available = batch.service_state == SERVICE_AVAILABLE
            # An outage inside one batch (Unavailable, then Available) lost changes too.
            came_back = available and (not self._service_available or batch.interrupted)
            self._service_available = available
            if came_back:
                self._on_resync()
            self._on_state(self.state)
        if batch.rehandshook:
            # A new CometD session: the REST subscription may have gone with the old one.
            self._on_resync()
        if batch.skipped:
            # Items the channel could not read: their values never arrived.
            self._on_resync()
        pending = self._pending
        for update in batch.updates:
            if not self._accepts(update.subscription_id):
                continue
            self.updates_received += 1
            held = pending.get(update.statistic_id)
            if held is not None and older(update.timestamp, held[1]):
                # Delivered out of order: the newer value already waits.
                self.duplicates_dropped += 1
                continue
            pending[update.statistic_id] = (update.value, update.timestamp)
        if pending:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._paused or not self._pending or self._flush_task is not None:
            return
        delay = self._last_flush + self._flush_gap - self._clock()
        if delay <= 0:
            self._flush()
            return
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_later(delay))

    async def _flush_later(self, delay: float) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._sleep(delay)
            self._flush_task = None
            if not self._paused and not self._stopping:
                self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        self._last_flush = self._clock()
        ids = list(pending)
        values = [pending[statistic_id][0] for statistic_id in ids]
        stamps = [pending[statistic_id][1] for statistic_id in ids]
        self._on_updates(ids, values, stamps)

    def _set_state(self, state: FeedState) -> None:
        if state is not self.state:
            self.state = state
            self._on_state(state)


def older(timestamp: object, than: object) -> bool:
    """True when both are numbers and `timestamp` is the earlier (same units: one server);
    the hub drops a late delivery by it as the feed does."""
    numbers = (int, float)
    return (
        isinstance(timestamp, numbers)
        and isinstance(than, numbers)
        and not isinstance(timestamp, bool)
        and timestamp < than
    )
