"""The hub's collector: the union of its clients' statistics opened once upstream, fanned out.

Clients declare their statistics under a lease (`protocol.Declare`). Each statistic is keyed
by its definition (`protocol.definition_key`), so two clients asking for the same statistic
share one upstream statistic; the hub counts the leases that need each key. Keys already open
upstream are answered at once from the hub's latest values; the missing keys of every declare
that arrives within `gather` seconds go into ONE new upstream subscription (the Statistics API
cannot add statistics to a subscription), and those declares are answered once its first
answer came. A subscription none of whose keys has been needed for `grace` seconds is closed.

Values come the way the dashboard's come (`live.controller`): one `PushFeed` over one
`PushChannel` for every upstream subscription (they share the client's cookies, so one CometD
client receives them all), the sessions then peeking only to reconcile, and polling at the
refresh interval while push is lost (auto) or not used (poll). After every answer or pushed
flush, the values that changed go out on `values.<object key>`, one `Changes` per object;
every second a `Status` says which hub this is and how its upstream is doing.

Every upstream subscription is written down while open (`SubscriptionRecords`), what a
killed predecessor left is deleted at start, and `close()` deletes every one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import MaxPayloadError
from pydantic import ValidationError

from statdash.api.client import StatisticsClient
from statdash.api.describe import describe
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.push import PushChannel
from statdash.api.responses import UNREADABLE_NUMBER
from statdash.hub.connection import NATS_ERRORS, describe_nats
from statdash.hub.protocol import (
    PEEK_PAGE,
    STATUS_EVERY,
    Changes,
    Declare,
    DeclareReply,
    HubProtocolError,
    ItemRefusal,
    LeaseRequest,
    PeekReply,
    ReleaseReply,
    Renew,
    Status,
    Subjects,
    Values,
    decode,
    definition_key,
    encode,
    object_key,
    wire_item,
)
from statdash.hub.upstream import Upstream, columns
from statdash.layout.vocabulary import DEFAULT_REFRESH, UpdatesName
from statdash.live.controller import (
    DEFAULT_RECONCILE_INTERVAL,
    MIN_RESYNC_GAP,
    STOP_TIMEOUT,
    updates_label,
)
from statdash.live.push_feed import FeedState, PushFeed, older
from statdash.live.session import RETRY_REFUSED_SECONDS, Phase, Session, SessionStatus
from statdash.live.subscriptions.leftovers import delete_left_behind
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.live.waking import finish_or_cancel
from statdash.text import counted

log = logging.getLogger("statdash.hub")

# Declares arriving this close together share one new upstream subscription: a floor of
# dashboards started together costs one subscribe, not one each.
DEFAULT_GATHER = 0.15
# The hub is no screen: pushed changes go on to the clients almost at once, paced only so
# that a busy floor costs Stat Server a few CometD rounds a second, not one per change. The
# dashboards' one frame a second (MAX_FLUSH_GAP) here came on top of the dashboard's own:
# benchmarks/hub.py fanout saw a pin reach a client in 1.6 s (p50) through the hub, 0.4 s direct.
PUSH_PACING = 0.1
# A declare waits this long for its upstream subscription's first answer, then gets a 503.
FIRST_ANSWER_TIMEOUT = 10.0
# A lease lives 1 s to 1 h between renewals; one declare names at most this many statistics.
LEASE_SECONDS_BOUNDS = (1.0, 3600.0)
MAX_DECLARE_ITEMS = 100_000
MAX_LEASE_LENGTH = 200
CODE_BAD_REQUEST = 400
CODE_UNKNOWN_LEASE = 404
CODE_TOO_LARGE = 413
CODE_UNAVAILABLE = 503

Say = Callable[[str], None]
# What msgpack refuses to carry (integers beyond 64 bits; nothing else JSON can hold).
UNENCODABLE = (OverflowError, TypeError, ValueError, msgspec.EncodeError)


@dataclass
class Lease:
    """A client's hold on statistics: their keys, and when it lapses unless renewed."""

    keys: list[str]
    seconds: float
    expires: float
    answering: bool = True
    """Its declare waits for an upstream answer: no lapse before its life has begun."""


def _encodable(value: object) -> bool:
    try:
        msgspec.msgpack.encode(value)
    except UNENCODABLE:
        return False
    return True


class Hub:
    """The collector: answers declares, peeks and releases on NATS, publishes values and status.

    Built from a `StatisticsClient` and a connected NATS client, which stay the caller's to
    close. Every `tick` seconds it lapses leases, closes idle subscriptions and publishes
    its status (tests shorten it; clients expect about `STATUS_EVERY`). `run()` serves
    until `stop()`; `close()` (also at the end of `run()`) deletes every upstream
    subscription and disconnects push, and may be called any number of times.
    """

    def __init__(
        self,
        client: StatisticsClient,
        nats: NatsClient,
        subjects: Subjects,
        *,
        interval: float = DEFAULT_REFRESH,
        updates: UpdatesName = "auto",
        grace: float,
        records: SubscriptionRecords | None = None,
        say: Say | None = None,
        gather: float = DEFAULT_GATHER,
        first_answer_timeout: float = FIRST_ANSWER_TIMEOUT,
        reconcile_interval: float = DEFAULT_RECONCILE_INTERVAL,
        tick: float = STATUS_EVERY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(interval) and interval > 0):
            raise ValueError("the refresh interval must be a positive number of seconds")
        if not (math.isfinite(grace) and grace >= 0):
            raise ValueError("the grace period must be a number of seconds >= 0")
        self._client = client
        self._nats = nats
        self.subjects = subjects
        self.interval = interval
        self.updates: UpdatesName = updates
        self.grace = grace
        self._records = records
        self._say: Say = say or log.info
        self._gather = gather
        self._first_answer_timeout = first_answer_timeout
        self._reconcile_interval = reconcile_interval
        self._tick_seconds = tick
        self._clock = clock
        self._sleep = sleep
        self.hub_id = uuid.uuid4().hex
        """This run's id: a client that sees a new one knows the hub restarted."""
        self._server = client.server
        self._leases: dict[str, Lease] = {}
        self._refs: Counter[str] = Counter()
        # key -> the upstream subscription holding it (or gathering it), and its object's key.
        self._homes: dict[str, Upstream] = {}
        self._objects: dict[str, str] = {}
        # key -> (raw value, raw timestamp) as the server last gave it.
        self._latest: dict[str, tuple[object, object]] = {}
        self._upstreams: list[Upstream] = []
        self._numbered = 0
        self._gathering: Upstream | None = None
        self._gather_timer: asyncio.TimerHandle | None = None
        # Subscription ids our sessions own (opened or being opened): the pushes we take.
        self._owned: set[str] = set()
        self._feed: PushFeed | None = None
        self._feed_task: asyncio.Task[None] | None = None
        self._push_was_up = False
        self._reached = False
        self._last_resync = -math.inf
        self._resync_later: asyncio.TimerHandle | None = None
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._retiring: set[asyncio.Task[None]] = set()
        self._outbox: list[tuple[str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._closed = False
        self._said_upstream: str | None = None
        self._publish_failed = False

    # --- the way in and out ---------------------------------------------------------------

    @property
    def statistics(self) -> int:
        """Statistics open (or being opened) upstream."""
        return len(self._homes)

    @property
    def clients(self) -> int:
        """Leases held now."""
        return len(self._leases)

    def lease_left(self, lease: str) -> float | None:
        """Seconds until `lease` lapses unless renewed (None: the hub holds no such lease)."""
        held = self._leases.get(lease)
        return None if held is None else held.expires - self._clock()

    def upstream_ids(self) -> list[str]:
        """The ids of the upstream subscriptions open (or being opened) now."""
        return sorted(self._owned)

    def stop(self) -> None:
        """Ask `run()` to end (it then closes everything)."""
        self._stopping.set()

    async def run(self) -> None:
        """Serve until `stop()`; deletes everything on the way out, by any path."""
        try:
            await self._start()
            while not self._stopping.is_set():
                self._tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._tick_seconds)
        finally:
            await self.close()

    async def _start(self) -> None:
        if self._records is not None:
            # As the dashboard does: what a predecessor killed with -9 left goes first.
            deleted = await delete_left_behind(self._client, self._records, self._server)
            if deleted:
                self._say(
                    f"deleted {counted(len(deleted), 'subscription')} a previous run left open"
                )
        nats = self._nats
        subjects = self.subjects
        self._subscriptions = [
            await nats.subscribe(subjects.declare, cb=self._on_declare),
            await nats.subscribe(subjects.peek, cb=self._on_peek),
            await nats.subscribe(subjects.release, cb=self._on_release),
            await nats.subscribe(subjects.renew, cb=self._on_renew),
        ]
        self._say(
            f"hub up on namespace {subjects.namespace}: upstream {self._server},"
            f" updates {self.updates}, refresh {self.interval:g} s, grace {self.grace:g} s"
        )
        if self.updates != "poll":
            feed = self._feed = PushFeed(
                lambda: PushChannel(self._client),
                on_updates=self._pushed,
                on_state=self._feed_state,
                on_resync=self._resync,
                accepts=lambda subscription_id: (
                    subscription_id is None or subscription_id in self._owned
                ),
                clock=self._clock,
                sleep=self._sleep,
                flush_gap=min(self.interval, PUSH_PACING),
                retry_base=self.interval,
            )
            # The channel first: a subscription opened before it would miss its first changes.
            await feed.open()
            self._feed_task = asyncio.get_running_loop().create_task(feed.run())

    async def close(self) -> None:
        """Delete every upstream subscription, disconnect push, stop listening; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        for timer in (self._gather_timer, self._resync_later):
            if timer is not None:
                timer.cancel()
        # Declares still gathering opened nothing upstream.
        self._gathering = None
        for subscription in self._subscriptions:
            with contextlib.suppress(*NATS_ERRORS):
                await subscription.unsubscribe()
        self._subscriptions = []
        for task in list(self._tasks):
            task.cancel()
        upstreams = [upstream for upstream in self._upstreams if upstream.session is not None]
        for upstream in upstreams:
            assert upstream.session is not None
            upstream.session.stop()
        # Each session deletes its subscription on the way out (bounded by its own timeout).
        tasks = [u.task for u in upstreams if u.task is not None] + list(self._retiring)
        await finish_or_cancel(tasks, STOP_TIMEOUT)
        for upstream in upstreams:
            assert upstream.session is not None
            # Deletes what a cancelled session did not get to (nothing, when it finished).
            await upstream.session.close()
        feed = self._feed
        if feed is not None:
            feed.stop()
            if self._feed_task is not None:
                await finish_or_cancel([self._feed_task], STOP_TIMEOUT)
            await feed.close()
        await self._drain()
        self._say(f"hub stopped: {counted(len(upstreams), 'upstream subscription')} closed")

    # --- declare, peek, release, renew -----------------------------------------------------

    async def _on_declare(self, message: Msg) -> None:
        # A declare may wait for an upstream answer: each has a task of its own, so the
        # others (and their subject's callback) go on meanwhile.
        task = asyncio.get_running_loop().create_task(self._declare(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _declare(self, message: Msg) -> None:
        try:
            reply = await self._answer_declare(message.data)
        except Exception as error:
            # A fault of ours must not end the hub; the client hears a plain refusal.
            log.warning("declare failed: %s", type(error).__name__)
            reply = DeclareReply(hub=self.hub_id, error="the hub failed on this declare", code=500)
        await self._respond(message, reply)

    async def _answer_declare(self, data: bytes) -> DeclareReply:
        try:
            declare = decode(data, Declare)
            items = self._checked(declare)
        except HubProtocolError as error:
            return DeclareReply(hub=self.hub_id, error=str(error), code=CODE_BAD_REQUEST)
        keys = [definition_key(wire_item(item)) for item in items]
        objects = [object_key(item.object_type, item.object_id) for item in items]
        unique = list(dict.fromkeys(keys))
        now = self._clock()
        before = self._leases.get(declare.lease)
        held = unique
        if declare.part > 0 and before is not None:
            # A later part of a large layout adds to what the lease holds.
            held = list(dict.fromkeys([*before.keys, *unique]))
        lease = Lease(held, declare.lease_seconds, now + declare.lease_seconds)
        self._leases[declare.lease] = lease
        self._refs.update(held)
        if before is not None:
            # A re-declare (a restarted client, a hub that forgot it) replaces what it held.
            self._unref(before.keys)
        for key, item, obj in zip(keys, items, objects, strict=True):
            if key not in self._homes:
                self._gather_missing(key, item, obj)
        home_of = {key: self._homes[key] for key in unique}
        homes = set(home_of.values())
        waiting = [home.settled.wait() for home in homes if not home.settled.is_set()]
        try:
            if waiting:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*waiting), self._first_answer_timeout)
        finally:
            # Its life begins with the answer (a lease shorter than the wait stays held).
            lease.answering = False
            lease.expires = self._clock() + lease.seconds
        unanswered = [home for home in homes if not home.answered]
        if unanswered:
            failure = next((h.failure for h in unanswered if h.failure is not None), None)
            why = describe(failure) if failure is not None else "the server did not answer in time"
            if self._leases.get(declare.lease) is lease:
                del self._leases[declare.lease]
                self._unref(lease.keys)
            for home in unanswered:
                self._retire_if_unneeded(home)
            return DeclareReply(hub=self.hub_id, error=why, code=CODE_UNAVAILABLE)
        refused = [
            ItemRefusal(index, problem.code, problem.message)
            for index, key in enumerate(keys)
            if (problem := home_of[key].refused.get(key)) is not None
        ]
        return DeclareReply(
            hub=self.hub_id,
            keys=keys,
            objects=objects,
            values=self._values_of(unique),
            refused=refused,
        )

    def _checked(self, declare: Declare) -> list[SubscriptionItem]:
        """The declare's items, validated; HubProtocolError saying what is wrong and where."""
        if not declare.lease or len(declare.lease) > MAX_LEASE_LENGTH:
            raise HubProtocolError(f"a lease is 1-{MAX_LEASE_LENGTH} characters")
        low, high = LEASE_SECONDS_BOUNDS
        if not (math.isfinite(declare.lease_seconds) and low <= declare.lease_seconds <= high):
            raise HubProtocolError(f"lease_seconds must be from {low:g} to {high:g}")
        if not declare.items:
            raise HubProtocolError("a declare names at least one statistic")
        if len(declare.items) > MAX_DECLARE_ITEMS:
            raise HubProtocolError(f"a declare names at most {MAX_DECLARE_ITEMS} statistics")
        items: list[SubscriptionItem] = []
        for index, raw in enumerate(declare.items):
            try:
                items.append(SubscriptionItem.model_validate(raw))
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                at = f" ({where})" if where else ""
                raise HubProtocolError(f"item {index}{at}: {first['msg']}") from None
        return items

    async def _on_peek(self, message: Msg) -> None:
        try:
            request = decode(message.data, LeaseRequest)
        except HubProtocolError as error:
            await self._respond(
                message, PeekReply(hub=self.hub_id, error=str(error), code=CODE_BAD_REQUEST)
            )
            return
        lease = self._leases.get(request.lease)
        if lease is None:
            reply = PeekReply(
                hub=self.hub_id, error="this hub holds no such lease", code=CODE_UNKNOWN_LEASE
            )
        else:
            # A client that asks is alive: its lease lives on.
            lease.expires = self._clock() + lease.seconds
            start = max(request.offset, 0)
            end = min(start + PEEK_PAGE, len(lease.keys))
            reply = PeekReply(
                hub=self.hub_id,
                values=self._values_of(lease.keys[start:end]),
                next=end,
                total=len(lease.keys),
            )
        await self._respond(message, reply)

    async def _on_release(self, message: Msg) -> None:
        try:
            request = decode(message.data, LeaseRequest)
        except HubProtocolError as error:
            log.info("unreadable release: %s", error)
            await self._respond(message, ReleaseReply(hub=self.hub_id, released=False))
            return
        lease = self._leases.pop(request.lease, None)
        if lease is not None:
            self._unref(lease.keys)
        await self._respond(message, ReleaseReply(hub=self.hub_id))

    async def _on_renew(self, message: Msg) -> None:
        try:
            renew = decode(message.data, Renew)
        except HubProtocolError as error:
            log.info("unreadable renew: %s", error)
            return
        now = self._clock()
        for lease_id in renew.leases:
            lease = self._leases.get(lease_id) if isinstance(lease_id, str) else None
            if lease is not None:
                lease.expires = now + lease.seconds

    async def _respond(self, message: Msg, reply: DeclareReply | PeekReply | ReleaseReply) -> None:
        if not message.reply:
            return  # published, not requested: nobody waits for an answer
        try:
            payload = encode(reply)
        except UNENCODABLE as error:
            # Values are made encodable as they come in; this is a fault of ours.
            log.warning("could not encode a reply: %s", type(error).__name__)
            payload = encode(DeclareReply(hub=self.hub_id, error="the hub failed", code=500))
        try:
            await message.respond(payload)
        except MaxPayloadError:
            too_large = "the answer is larger than the NATS server's max_payload"
            answer = (
                DeclareReply(hub=self.hub_id, error=too_large, code=CODE_TOO_LARGE)
                if isinstance(reply, DeclareReply)
                else PeekReply(hub=self.hub_id, error=too_large, code=CODE_TOO_LARGE)
            )
            with contextlib.suppress(*NATS_ERRORS):
                await message.respond(encode(answer))
        except NATS_ERRORS as error:
            log.info("could not answer a request: %s", describe_nats(error))

    # --- leases, keys and upstream subscriptions -----------------------------------------

    def _unref(self, keys: Sequence[str]) -> None:
        refs = self._refs
        for key in keys:
            refs[key] -= 1
            if refs[key] <= 0:
                del refs[key]

    def _gather_missing(self, key: str, item: SubscriptionItem, obj: str) -> None:
        """Put a key no subscription holds into the one being gathered (opened shortly)."""
        upstream = self._gathering
        if upstream is None:
            self._numbered += 1
            upstream = self._gathering = Upstream(self._numbered)
            self._upstreams.append(upstream)
            self._gather_timer = asyncio.get_running_loop().call_later(
                self._gather, self._open_gathered
            )
        upstream.items[key] = item.model_copy(update={"statistic_id": key})
        self._homes[key] = upstream
        self._objects[key] = obj

    def _open_gathered(self) -> None:
        upstream, self._gathering = self._gathering, None
        self._gather_timer = None
        if upstream is None or self._closed:
            return
        pushing = self._feed is not None and self._feed.live
        session = Session(
            self._client,
            list(upstream.items.values()),
            # Under push a peek only reconciles; otherwise it is how values arrive.
            self._reconcile_interval if pushing else self.interval,
            on_values=lambda statistics: self._answered(upstream, statistics),
            on_status=lambda status: self._session_status(upstream, status),
            on_opened=self._opened,
            on_deleted=self._deleted,
            clock=self._clock,
        )
        upstream.start(session)

    def _opened(self, subscription_id: str) -> None:
        self._owned.add(subscription_id)
        if self._records is not None:
            self._records.add(self._server, subscription_id)

    def _deleted(self, subscription_id: str) -> None:
        self._owned.discard(subscription_id)
        if self._records is not None:
            self._records.remove(self._server, subscription_id)

    def _session_status(self, upstream: Upstream, status: SessionStatus) -> None:
        upstream.status_changed(status)
        self._reached = self._reached or status.polls > 0

    def _answered(self, upstream: Upstream, statistics: Sequence[StatisticValue]) -> None:
        try:
            self._take_answer(upstream, statistics)
        except Exception as error:
            # A fault of ours must not end the session (it would delete its subscription).
            log.warning("an answer could not be taken: %s: %s", type(error).__name__, error)

    def _take_answer(self, upstream: Upstream, statistics: Sequence[StatisticValue]) -> None:
        if upstream.first_answer():
            refused = len(upstream.refused)
            self._say(
                f"subscription {upstream.number} opened: "
                f"{counted(len(upstream.items), 'statistic')}"
                + (f" ({refused} refused by the server)" if refused else "")
                + f"; {counted(self.statistics, 'statistic')} open in all"
            )
        feed = self._feed
        if feed is not None:
            # What was pushed before this answer goes first; a pushed value newer than the
            # answer's is kept.
            feed.flush_now()
        ids, values, stamps = columns(statistics)
        self._ingest(ids, values, stamps, newer_only=feed is not None and feed.live)

    def _retire_if_unneeded(self, upstream: Upstream) -> None:
        """Close an upstream subscription that never answered once no lease needs it."""
        if not any(self._refs.get(key) for key in upstream.items):
            self._retire(upstream)

    def _retire(self, upstream: Upstream) -> None:
        """Forget `upstream`'s keys and let its session delete the subscription."""
        if upstream in self._upstreams:
            self._upstreams.remove(upstream)
        if self._gathering is upstream:
            self._gathering = None
            if self._gather_timer is not None:
                self._gather_timer.cancel()
                self._gather_timer = None
        for key in upstream.items:
            if self._homes.get(key) is upstream:
                del self._homes[key]
                self._objects.pop(key, None)
                self._latest.pop(key, None)
        task = upstream.task
        if upstream.session is not None:
            upstream.session.stop()
        if task is not None and not task.done():
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    def _tick(self) -> None:
        """Every tick: lapse leases, close idle subscriptions, say and publish the status."""
        now = self._clock()
        lapsed = [
            lease_id
            for lease_id, lease in self._leases.items()
            if lease.expires < now and not lease.answering
        ]
        for lease_id in lapsed:
            self._unref(self._leases.pop(lease_id).keys)
        if lapsed:
            self._say(f"{counted(len(lapsed), 'lease')} lapsed (not renewed in time)")
        self._retry_refused(now)
        for upstream in list(self._upstreams):
            if not upstream.started:
                continue
            if any(self._refs.get(key) for key in upstream.items):
                upstream.idle_since = None
            elif upstream.idle_since is None:
                upstream.idle_since = now
            elif now - upstream.idle_since >= self.grace:
                self._retire(upstream)
                self._say(
                    f"subscription {upstream.number} closed: unneeded for {self.grace:g} s;"
                    f" {counted(self.statistics, 'statistic')} open in all"
                )
        status = self.status()
        said, now_saying = self._said_upstream, status.upstream
        if now_saying != said and now_saying not in ("", "push connecting"):
            if now_saying.startswith("lost"):
                self._say(f"upstream {now_saying}")
            elif said is not None and said.startswith("lost"):
                self._say(f"upstream back: {now_saying}")
            else:
                self._say(f"upstream: {now_saying}")
            self._said_upstream = now_saying
        self._send(self.subjects.status, encode(status))

    def _retry_refused(self, now: float) -> None:
        """Nobody presses r at a hub: refused credentials are tried again now and then."""
        for upstream in self._upstreams:
            session = upstream.session
            if session is None or session.status.phase is not Phase.FAILED:
                upstream.retry_refused_at = None
            elif upstream.retry_refused_at is None:
                upstream.retry_refused_at = now + RETRY_REFUSED_SECONDS
            elif now >= upstream.retry_refused_at:
                upstream.retry_refused_at = now + RETRY_REFUSED_SECONDS
                session.poll_now()
                if self._feed is not None:
                    self._feed.retry_now()

    def status(self) -> Status:
        """How the hub is now, as it publishes it every second."""
        failing = next((u for u in self._upstreams if u.failing), None)
        feed = self._feed
        available = True
        if failing is not None and failing.session is not None:
            # The failure in plain words: not the status line's "press r" (a hub's clients
            # cannot press r for it; it tries refused credentials again on its own).
            failure = failing.session.last_failure
            why = describe(failure) if failure is not None else "the server cannot be reached"
            upstream = f"lost: {why}"
            available = False
        else:
            upstream = updates_label(
                feed, self.updates, push_was_up=self._push_was_up, reached=self._reached
            )
            # Under push, values are vouched for by a live channel; in auto mode the
            # sessions poll at the refresh interval while it is not live (but not while the
            # service says it is unavailable on a live channel, as on the dashboard).
            if feed is not None and not feed.live:
                available = self.updates == "auto" and feed.state is not FeedState.LIVE
        return Status(
            hub=self.hub_id,
            upstream=upstream,
            available=available,
            interval=self.interval,
            statistics=self.statistics,
            clients=self.clients,
        )

    # --- values in, changes out ------------------------------------------------------------

    def _values_of(self, keys: Sequence[str]) -> Values:
        latest = self._latest
        held = [key for key in keys if key in latest]
        return Values(
            keys=held,
            values=[latest[key][0] for key in held],
            timestamps=[latest[key][1] for key in held],
        )

    def _pushed(self, ids: list[str], values: list[object], stamps: list[object]) -> None:
        try:
            self._ingest(ids, values, stamps, newer_only=True)
        except Exception as error:
            # A fault of ours must not end the push feed.
            log.warning("pushed values could not be taken: %s: %s", type(error).__name__, error)

    def _ingest(
        self,
        ids: Sequence[str],
        values: Sequence[object],
        stamps: Sequence[object],
        *,
        newer_only: bool,
    ) -> None:
        """Keep what changed (value or timestamp) and publish it, one message per object."""
        latest, objects = self._latest, self._objects
        changed: dict[str, tuple[list[str], list[Any], list[Any]]] = {}
        for key, value, stamp in zip(ids, values, stamps, strict=True):
            obj = objects.get(key)
            if obj is None:
                continue  # a key no longer open here (a late push of a closed subscription)
            held = latest.get(key)
            if held is not None:
                if held[0] == value and held[1] == stamp:
                    continue
                if newer_only and older(stamp, held[1]):
                    continue  # a late delivery: the newer value stays
            latest[key] = (value, stamp)
            group = changed.get(obj)
            if group is None:
                group = changed[obj] = ([], [], [])
            group[0].append(key)
            group[1].append(value)
            group[2].append(stamp)
        for obj, (keys, new_values, new_stamps) in changed.items():
            message = Changes(hub=self.hub_id, values=Values(keys, new_values, new_stamps))
            try:
                payload = encode(message)
            except UNENCODABLE:
                payload = encode(self._made_encodable(message.values))
            self._send(self.subjects.values(obj), payload)

    def _made_encodable(self, values: Values) -> Changes:
        """`values` with what msgpack cannot carry (an integer beyond 64 bits, from a hostile
        or broken server) replaced, in the message and in the hub's latest values alike."""
        for index, key in enumerate(values.keys):
            value, stamp = values.values[index], values.timestamps[index]
            if not _encodable(value):
                # The value's shape is unknown now: the client shows it as it is, marked.
                value = values.values[index] = UNREADABLE_NUMBER
            if not _encodable(stamp):
                stamp = values.timestamps[index] = None
            self._latest[key] = (value, stamp)
        return Changes(hub=self.hub_id, values=values)

    def _send(self, subject: str, payload: bytes) -> None:
        """Publish in order, from the loop's callbacks (nats-py publishes in a coroutine)."""
        if self._closed:
            return
        self._outbox.append((subject, payload))
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())

    async def _send_all(self) -> None:
        try:
            await self._drain()
        finally:
            self._sender = None

    async def _drain(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            for subject, payload in batch:
                try:
                    await self._nats.publish(subject, payload)
                except NATS_ERRORS as error:
                    # NATS down: clients see the hub fall silent and catch up by peeking.
                    if not self._publish_failed:
                        self._publish_failed = True
                        log.info("cannot publish: %s", describe_nats(error))
                    continue
                self._publish_failed = False

    # --- push ------------------------------------------------------------------------------

    def _sessions(self) -> list[Session]:
        return [u.session for u in self._upstreams if u.session is not None]

    def _feed_state(self, state: FeedState) -> None:
        if state is FeedState.LIVE:
            self._push_was_up = True
            for session in self._sessions():
                session.set_interval(self._reconcile_interval)
        elif state in (FeedState.LOST, FeedState.UNAVAILABLE) and self.updates == "auto":
            # Fall back to polling at once: changes may already have been missed.
            for session in self._sessions():
                if session.interval != self.interval:
                    session.set_interval(self.interval)
                    session.poll_now()

    def _resync(self) -> None:
        """The channel may have missed changes: every session peeks, at most once a gap."""
        wait = self._last_resync + MIN_RESYNC_GAP - self._clock()
        if wait <= 0:
            self._last_resync = self._clock()
            for session in self._sessions():
                session.poll_now()
        elif self._resync_later is None:
            self._resync_later = asyncio.get_running_loop().call_later(wait, self._resync_due)

    def _resync_due(self) -> None:
        self._resync_later = None
        self._resync()
