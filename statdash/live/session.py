"""The live session: subscribe, poll on monotonic deadlines, resubscribe, always delete on exit.

One long-running loop does everything that touches the server, so there is never more than
one request in flight: a poll that runs long makes the loop skip the beats it missed rather
than queue them. Every failure but refused credentials is retried at this level (the client
makes one attempt per call), after the delay `statdash.api.retry.Backoff` gives: at the
refresh interval a few times, then doubling up to a cap, half-jittered. Failures are reported
through `SessionStatus`; the session never raises out of `run()` for a server or network fault.
The caller (the UI, `snapshot`, a test) hears about everything through the callbacks it
passes in, which run on the loop's own thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

from statdash.api import errors
from statdash.api.describe import describe
from statdash.api.evidence import created_nothing, not_a_statistics_api
from statdash.api.models import StatisticValue, SubscriptionItem, Verbose
from statdash.api.responses import PeekResult, StatisticValues, SubscriptionResult
from statdash.api.retry import Backoff, refused
from statdash.live.waking import sleep_unless_woken

log = logging.getLogger("statdash.live")

DEFAULT_MAX_BACKOFF = 30.0
DEFAULT_DELETE_TIMEOUT = 3.0
# Failures retried at the normal poll rate before the backoff starts doubling: a retry per
# interval costs the server no more than healthy polling, and a short blip then ends within
# one interval instead of one long backoff.
DEFAULT_STEADY_RETRIES = 3
# Refused credentials halt a session until someone presses r. A session with nobody to press
# it (serve's alerts, the hub) tries again this often instead: the credentials may be fixed.
RETRY_REFUSED_SECONDS = 300.0


class Phase(Enum):
    """Where the session is, as the status line names it."""

    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    PAUSED = "paused"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """A statistic the server refused when the subscription was opened."""

    statistic_id: str | None
    code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """Everything the status line shows about the connection."""

    phase: Phase = Phase.CONNECTING
    subscription_id: str | None = None
    retry_at: float | None = None
    """Monotonic time of the next attempt while retrying."""
    last_error: str | None = None
    error_count: int = 0
    polls: int = 0
    last_poll_duration: float | None = None
    item_problems: tuple[ItemProblem, ...] = field(default_factory=tuple)
    updates: str = "poll"
    """How values arrive, as the controller words it: poll, push, push lost: polling, ..."""
    corrected: int = 0
    """Values push should have delivered and did not, found and corrected by reconciliation."""
    checked_at: float | None = None
    """Epoch seconds of the last reconciliation peek under push (None: none yet)."""
    check_newer: int = 0
    """Values that peek found newer than the screen's, legitimately (Periodical statistics)."""
    check_corrected: int = 0
    """Values that peek corrected (push should have delivered them)."""
    stopped: str | None = None
    """A feature that stopped on its own and why (`recording stopped: disk full`), or one
    that works on degraded (`recording paused since 10:12:03: ...`); in a replay, the gap in
    the recording the moment shown falls in."""


class SubscriptionResultLike(Protocol):
    """What opening a subscription returns (see `statdash.api.client`)."""

    @property
    def subscription_id(self) -> str: ...

    @property
    def statistics(self) -> Sequence[StatisticValue]: ...

    @property
    def errors(self) -> Sequence[ItemErrorLike]: ...


class PeekResultLike(Protocol):
    """What peeking a subscription returns."""

    @property
    def statistics(self) -> Sequence[StatisticValue]: ...


class ItemErrorLike(Protocol):
    """A per-item error of a partial success."""

    @property
    def statistic_id(self) -> str | None: ...

    @property
    def code(self) -> int | None: ...

    @property
    def message(self) -> str: ...


class SessionClient(Protocol):
    """The three operations a live session needs; `StatisticsClient` provides them."""

    async def open_subscription(
        self,
        items: Sequence[SubscriptionItem],
        *,
        operation_id: str | None = None,
        verbose: Verbose = "INFO",
    ) -> SubscriptionResultLike: ...

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResultLike: ...

    async def delete_subscription(self, subscription_id: str) -> None: ...


class ServedClient(Protocol):
    """A session client that names its server and answers with the API's result types:
    `StatisticsClient`, or a hub's client (for records, messages and one-shot reads)."""

    @property
    def server(self) -> str: ...

    async def open_subscription(
        self,
        items: Sequence[SubscriptionItem],
        *,
        operation_id: str | None = None,
        verbose: Verbose = "INFO",
    ) -> SubscriptionResult: ...

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult: ...

    async def delete_subscription(self, subscription_id: str) -> None: ...


ValuesCallback = Callable[[Sequence[StatisticValue]], Awaitable[None] | None]
"""Takes an answer's statistics; what it returns, when not None, is awaited before the
session reports the poll done or sends its next request (a large answer going into the
store a slice per step of the loop)."""
StatusCallback = Callable[[SessionStatus], None]
SubscriptionCallback = Callable[[str], None]
"""For crash records: told a subscription id before it may open (the operationId is the
subscription id, so a run killed while the request is in flight is on record), and again
once it is gone: its delete succeeded, or a failure proved it was never created or that no
Statistics API is there (`live.evidence`)."""


def _is_lost_subscription(error: errors.StatisticsError) -> bool:
    """The server no longer knows our subscription (e.g. Stat Server restarted)."""
    return isinstance(error, errors.NotFoundError | errors.EnvelopeError)


def status_message(error: errors.StatisticsError) -> str:
    """The status line's words for a failure: the one sentence, and what happens next."""
    if refused(error):
        return f"{describe(error)}; polling stopped, press r to retry"
    return describe(error)


class Session:
    """Owns one subscription from open to delete, and the poll loop in between."""

    def __init__(
        self,
        client: SessionClient,
        items: Sequence[SubscriptionItem],
        interval: float,
        *,
        on_values: ValuesCallback,
        on_status: StatusCallback,
        on_opened: SubscriptionCallback | None = None,
        on_deleted: SubscriptionCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        delete_timeout: float = DEFAULT_DELETE_TIMEOUT,
    ) -> None:
        if interval <= 0:
            raise ValueError("the refresh interval must be positive")
        self._client = client
        self._items = list(items)
        self._statistic_ids = [item.statistic_id for item in self._items]
        self.interval = interval
        self._on_values = on_values
        self._on_status = on_status
        self._on_opened = on_opened
        self._on_deleted = on_deleted
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._backoff = Backoff(
            base=interval,
            cap=max(max_backoff, interval),
            steady=DEFAULT_STEADY_RETRIES,
            jitter="half",  # never hammers in lock-step, never waits near zero
            random=self._rng.random,
        )
        self._delete_timeout = delete_timeout
        self._wake = asyncio.Event()
        # `poll_now` was called since the last poll started.
        self._poll_asked = False
        self._paused = False
        self._stopping = False
        self._failures = 0
        self._halted = False
        # The operationId of a subscribe whose outcome we do not know yet. Re-sending the
        # same id is idempotent, so a lost reply never leaves a second subscription behind.
        self._pending_operation_id: str | None = None
        # Whether an attempt with that id may have reached a Statistics API; once one may
        # have, a later refused connection no longer proves the subscription does not exist.
        self._pending_may_exist = False
        self.last_failure: errors.StatisticsError | None = None
        """The latest failure, for a caller that wants more than the status line's words."""
        self.status = SessionStatus()

    # --- control, called from the UI (same event loop) --------------------------------------

    @property
    def paused(self) -> bool:
        """True while polling is paused by the user."""
        return self._paused

    def pause(self) -> None:
        """Stop polling until `resume()`; the subscription stays open."""
        self._paused = True
        self._publish(phase=Phase.PAUSED, retry_at=None)
        self._wake.set()

    def resume(self) -> None:
        """Poll again now."""
        self._paused = False
        self._wake.set()

    def owns(self, subscription_id: str | None) -> bool:
        """True for our subscription or the one being opened (a push naming none counts too)."""
        return subscription_id is None or subscription_id in (
            self.status.subscription_id,
            self._pending_operation_id,
        )

    def set_interval(self, interval: float) -> None:
        """Peek every `interval` seconds from now on; retries keep the backoff they had.

        Under push the peeks only reconcile, so they come seldom; when push is lost the
        session polls at the refresh interval again. Takes effect after the current wait:
        call `poll_now()` too for a peek at once.
        """
        if interval <= 0:
            raise ValueError("the interval must be positive")
        self.interval = interval

    def poll_now(self) -> None:
        """Cut the current wait short (also skips a retry wait); asked while a poll is on its
        way, another follows it at once (that one may have left before the asking)."""
        self._poll_asked = True
        self._wake.set()

    def stop(self) -> None:
        """Ask the loop to end; `run()` then deletes the subscription and returns."""
        self._stopping = True
        self._wake.set()

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Subscribe and poll until stopped; always deletes the subscription on the way out."""
        try:
            await self._loop()
        finally:
            await self.close()

    async def _loop(self) -> None:
        next_poll = self._clock()
        while not self._stopping:
            if self._paused:
                await self._wait_until(None)
                next_poll = self._clock()
                continue
            if self._halted:
                # Credentials were refused: wait for the user (r, or a layout reload).
                await self._wait_until(None)
                self._halted = False
                self._publish(phase=Phase.CONNECTING, last_error=None)
                next_poll = self._clock()
                continue
            woke_early = await self._wait_until(next_poll)
            if self._stopping:
                break
            if self._paused:
                continue
            started = self._clock()
            self._poll_asked = False
            ok = await self._cycle()
            finished = self._clock()
            if ok:
                self._failures = 0
                # Next beat on the grid of intervals; beats missed by a slow poll are skipped.
                base = started if woke_early else next_poll
                next_poll = base + self.interval
                if next_poll <= finished:
                    missed = int((finished - next_poll) // self.interval) + 1
                    next_poll += missed * self.interval
            elif not self._halted:
                self._failures += 1
                next_poll = finished + self._backoff.delay(self._failures)
            if self._poll_asked and not self._halted:
                # Asked for while this poll was on its way: it may have left before.
                next_poll = finished
            if not ok and not self._halted and not self._paused:
                self._publish(phase=Phase.RETRYING, retry_at=next_poll)

    async def _wait_until(self, deadline: float | None) -> bool:
        """Sleep until `deadline` (None: until woken). True when woken early by a control."""
        self._wake.clear()
        if deadline is None:
            await self._wake.wait()
            return True
        delay = deadline - self._clock()
        if delay <= 0:
            return False
        return await sleep_unless_woken(self._sleep, delay, self._wake)

    async def _cycle(self) -> bool:
        """One attempt: open the subscription when there is none, else peek it."""
        started = self._clock()
        try:
            if self.status.subscription_id is None:
                await self._subscribe()
            else:
                await self._peek(self.status.subscription_id)
        except errors.StatisticsError as error:
            self._failed(error)
            return False
        self._publish(
            # A pause pressed while the poll was in flight stands: this poll was the last.
            phase=Phase.PAUSED if self._paused else Phase.LIVE,
            retry_at=None,
            polls=self.status.polls + 1,
            last_poll_duration=self._clock() - started,
        )
        return True

    async def _subscribe(self) -> None:
        self._publish(phase=Phase.CONNECTING)
        if self._pending_operation_id is None:
            self._pending_operation_id = str(uuid.uuid4())
            self._pending_may_exist = False
            # Written down before it is sent: SIGKILL may come while the request is in flight.
            if self._on_opened is not None:
                self._on_opened(self._pending_operation_id)
        operation_id = self._pending_operation_id
        try:
            result = await self._client.open_subscription(
                self._items, operation_id=operation_id, verbose="OFF"
            )
        except errors.StatisticsError as error:
            self._open_failed(operation_id, error)
            raise
        self._pending_operation_id = None
        problems = tuple(
            ItemProblem(error.statistic_id, error.code, error.message) for error in result.errors
        )
        self._publish(subscription_id=result.subscription_id, item_problems=problems)
        if self._on_opened is not None and result.subscription_id != operation_id:
            self._on_opened(result.subscription_id)
        # The subscription is open whatever its values look like: ingest what is usable.
        await self._values(_with_values(result.statistics))

    def _open_failed(self, operation_id: str, error: errors.StatisticsError) -> None:
        """Forget the id when the failure proves nothing was created; else it may exist."""
        if created_nothing(error) and not self._pending_may_exist:
            # Nothing to delete, ever: cross it out now (a record of it would make every
            # `statdash cleanup` fail), and let the next attempt start with a fresh id.
            self._pending_operation_id = None
            if self._on_deleted is not None:
                self._on_deleted(operation_id)
        else:
            self._pending_may_exist = True

    async def _peek(self, subscription_id: str) -> None:
        try:
            # A lost subscription comes as the error its answer's envelope or status calls for.
            await self._take(await self._client.peek_subscription(subscription_id, verbose="OFF"))
        except errors.StatisticsError as error:
            if _is_lost_subscription(error):
                # The server forgot us: close our side of the old id (harmless if it is gone)
                # and open a fresh subscription for the same statistics right away.
                log.info("subscription lost (%s); opening a new one", describe(error))
                await self._delete(subscription_id)
                await self._subscribe()
                return
            raise

    async def _take(self, result: PeekResultLike) -> None:
        usable = _with_values(result.statistics)
        if result.statistics and not usable:
            # Every value missing is a garbled reply, not news: keep the last values shown.
            raise errors.ShapeError("statistics came without values")
        await self._values(usable)

    async def _values(self, statistics: Sequence[StatisticValue]) -> None:
        """Hand an answer's usable statistics on, and wait until they are taken."""
        taking = self._on_values(statistics)
        if taking is not None:
            await taking

    def _failed(self, error: errors.StatisticsError) -> None:
        log.warning("poll failed: %s", describe(error))
        self.last_failure = error
        self._halted = refused(error)
        phase = Phase.FAILED if self._halted else self.status.phase
        self._publish(
            phase=phase,
            last_error=status_message(error),
            error_count=self.status.error_count + 1,
        )

    # --- the way out ----------------------------------------------------------------------

    async def close(self) -> None:
        """Delete the subscription if one is open (with a short timeout); never raises."""
        # A subscribe that failed without an answer may still have opened on the server;
        # its operationId is the subscription id, so delete that too.
        subscription_id = self.status.subscription_id or self._pending_operation_id
        self._pending_operation_id = None
        self._stopping = True
        if subscription_id is not None:
            await self._delete(subscription_id)
        self._publish(phase=Phase.STOPPED, retry_at=None)

    async def _delete(self, subscription_id: str) -> bool:
        """Delete a subscription; True when the server confirmed it."""
        # Whether or not the delete gets through, this id is no longer ours to poll.
        self._publish(subscription_id=None)
        try:
            await asyncio.wait_for(
                self._client.delete_subscription(subscription_id), self._delete_timeout
            )
        except (errors.StatisticsError, TimeoutError) as error:
            log.warning("could not delete subscription: %s", describe(error))
            if not_a_statistics_api(error) and self._on_deleted is not None:
                # No Statistics API answers like that, so no subscription is there to keep.
                self._on_deleted(subscription_id)
            return False
        if self._on_deleted is not None:
            self._on_deleted(subscription_id)
        return True

    def _publish(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self._on_status(self.status)


def _with_values(statistics: Sequence[StatisticValue]) -> Sequence[StatisticValue]:
    """The statistics that carry a value; one without keeps the value it had before."""
    usable: Sequence[StatisticValue]
    if isinstance(statistics, StatisticValues):
        # The client's columnar answer filters without building a model per statistic.
        usable = statistics.with_values()
    elif all(statistic.value is not None for statistic in statistics):
        return statistics
    else:
        usable = [statistic for statistic in statistics if statistic.value is not None]
    if len(usable) != len(statistics):
        # Debug, not warning: a server that always omits a few values would log every poll.
        log.debug("ignored %d statistic(s) without a value", len(statistics) - len(usable))
    return usable
