"""A dashboard's side of the hub: a session client and a push channel over NATS.

To the live controller the hub is one more source, through the seams it already has: a
`HubClient` answers what `Session` asks of a server (open a subscription: a declare under a
lease; peek: the lease's current values; delete: a release), and a `HubChannel` is what
`PushFeed` drives (the changes the hub publishes for the objects of the layout, and its
heartbeat). So the controller's reconciliation, staleness, fallback to peeks and retries all
apply unchanged, and the store cannot tell hub values from any others.

The two share one `HubLink`: the NATS connection, the leases held and the routes from the
hub's statistic keys to the layout's statistic ids. Keys are computed here from the items
(`protocol.definition_key`), so the channel listens to an object's subject before the declare
goes out, and no change between the hub's answer and the first delivery is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from statdash.api import errors
from statdash.api.models import SubscriptionItem, Verbose
from statdash.api.push import PushBatch, PushUpdate
from statdash.api.responses import ItemError, PeekResult, StatisticValues, SubscriptionResult
from statdash.api.settings import HubSettings
from statdash.hub import protocol
from statdash.hub.connection import NATS_ERRORS, as_statistics_error, close, confirm, connect
from statdash.live.push_feed import SERVICE_AVAILABLE

log = logging.getLogger("statdash.hub")

# A declare may wait for the hub to open the statistics upstream (bounded there by ~10 s).
DECLARE_TIMEOUT = 15.0
REQUEST_TIMEOUT = 5.0
RELEASE_TIMEOUT = 2.0
# Two heartbeats missed and a little more: then the hub (or NATS) is lost, and the widgets
# go stale within two refresh intervals of a 1 s dashboard.
SILENT_AFTER = 3.0 * protocol.STATUS_EVERY
# How values reach the hub, until its first heartbeat says (the status line: hub: connecting).
CONNECTING = "connecting"
# The CometD service states the push feed reads (`serviceState`), said by a hub's heartbeat.
UNAVAILABLE = "Unavailable"


class HubValue(msgspec.Struct, gc=False):
    """One value as the hub answered it, under the layout's statistic id (a decoded answer
    in `StatisticValues`, like the API's)."""

    statistic_id: str
    value: Any = None
    timestamp: Any = None


@dataclass
class _Lease:
    """A declare: the keys of its items and the layout's statistic ids under each."""

    routes: dict[str, list[str]]
    objects: set[str]


@dataclass
class HubLink:
    """The NATS connection of one dashboard, its leases, and the routes of their keys."""

    settings: HubSettings
    name: str = "statdash"
    lease_seconds: float = protocol.DEFAULT_LEASE_SECONDS
    clock: Callable[[], float] = time.monotonic
    subjects: protocol.Subjects = field(init=False)
    _nats: NatsClient | None = field(default=None, init=False)
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _leases: dict[str, _Lease] = field(default_factory=dict, init=False)
    _routes: dict[str, list[str]] = field(default_factory=dict, init=False)
    _channels: set[HubChannel] = field(default_factory=set, init=False)
    _renewer: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.subjects = protocol.Subjects(self.settings.namespace)

    @property
    def server(self) -> str:
        """What the status line and messages call the hub (`hub host:port`)."""
        return self.settings.label

    async def connection(self) -> NatsClient:
        """The NATS connection, made on first use; ConnectError while NATS cannot be reached."""
        async with self._connecting:
            if self._nats is None or self._nats.is_closed:
                self._nats = await connect(self.settings, name=self.name)
            return self._nats

    async def request(self, subject: str, message: msgspec.Struct, timeout: float) -> bytes:
        """The hub's answer to `message`; the failure a server fault would be otherwise."""
        connection = await self.connection()
        try:
            reply = await connection.request(subject, protocol.encode(message), timeout=timeout)
        except NATS_ERRORS as error:
            raise as_statistics_error(error, "the hub") from None
        return bytes(reply.data)

    # --- leases and routes ------------------------------------------------------------------

    def routes(self) -> dict[str, list[str]]:
        """Key -> the layout's statistic ids, over every lease held."""
        return self._routes

    def objects(self) -> set[str]:
        """The object keys whose changes the leases need."""
        wanted: set[str] = set()
        for lease in self._leases.values():
            wanted |= lease.objects
        return wanted

    async def hold(self, lease_id: str, items: Sequence[SubscriptionItem]) -> list[str]:
        """Take `items` under `lease_id` (routes, subjects) before their declare goes out."""
        routes: dict[str, list[str]] = {}
        objects: set[str] = set()
        keys = []
        for item in items:
            key = protocol.definition_key(protocol.wire_item(item))
            keys.append(key)
            routes.setdefault(key, []).append(item.statistic_id)
            objects.add(protocol.object_key(item.object_type, item.object_id))
        self._leases[lease_id] = _Lease(routes, objects)
        self._rebuild_routes()
        # Every open channel listens to the new objects, confirmed by NATS, before the hub
        # is asked: a change it publishes right after its answer reaches us.
        for channel in list(self._channels):
            await channel.follow(objects)
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_leases())
        return keys

    def drop(self, lease_id: str) -> None:
        """Forget a lease (released, or never created)."""
        if self._leases.pop(lease_id, None) is not None:
            self._rebuild_routes()

    def held(self, lease_id: str) -> bool:
        """True while `lease_id` is one of ours."""
        return lease_id in self._leases

    def _rebuild_routes(self) -> None:
        routes: dict[str, list[str]] = {}
        for lease in self._leases.values():
            for key, ids in lease.routes.items():
                routes.setdefault(key, []).extend(ids)
        self._routes = routes

    def translate(self, values: protocol.Values) -> list[HubValue]:
        """The hub's values under the layout's statistic ids (keys nobody here asked: none)."""
        routes = self._routes
        out: list[HubValue] = []
        for key, value, stamp in zip(values.keys, values.values, values.timestamps, strict=False):
            for statistic_id in routes.get(key, ()):
                out.append(HubValue(statistic_id, value, stamp))
        return out

    async def _renew_leases(self) -> None:
        """Tell the hub, a third of a lease apart, which leases this dashboard still holds."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self._leases or self._nats is None:
                continue
            message = protocol.Renew(leases=list(self._leases))
            with contextlib.suppress(*NATS_ERRORS):
                await self._nats.publish(self.subjects.renew, protocol.encode(message))

    def attach(self, channel: HubChannel) -> None:
        """`channel` hears of objects new leases need."""
        self._channels.add(channel)

    def detach(self, channel: HubChannel) -> None:
        """`channel` is closed."""
        self._channels.discard(channel)

    async def aclose(self) -> None:
        """Stop renewing and close the connection (after the session released its lease)."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        connection, self._nats = self._nats, None
        if connection is not None:
            await close(connection)


def _failure(code: int | None, message: str) -> errors.StatisticsError:
    """A hub's refusal as the error the same answer from a server would be."""
    status = code or 500
    text = protocol_text(message)
    if status == 404:
        return errors.NotFoundError(404, text, path="hub")
    if status == 503:
        return errors.ServiceUnavailableError(503, text, path="hub")
    if 400 <= status < 500:
        return errors.BadRequestError(status, text, path="hub")
    return errors.ServerError(status, text, path="hub")


def protocol_text(message: str) -> str:
    """A hub's message, bounded (it is shown on the status line as the server's words)."""
    return message[:300]


class HubClient:
    """What a live session asks of a server, answered by the hub (see the module docstring)."""

    def __init__(self, link: HubLink) -> None:
        self.link = link

    @property
    def server(self) -> str:
        """The hub's label, where a direct client has its server's."""
        return self.link.server

    async def open_subscription(
        self,
        items: Sequence[SubscriptionItem],
        *,
        operation_id: str | None = None,
        verbose: Verbose = "INFO",
    ) -> SubscriptionResult:
        """Declare `items` under a lease (`operation_id`); the hub's answer is the first frame."""
        lease = operation_id or str(uuid.uuid4())
        items = list(items)
        await self.link.connection()
        await self.link.hold(lease, items)
        values: list[HubValue] = []
        refused: list[ItemError] = []
        chunks = [
            items[start : start + protocol.DECLARE_PART]
            for start in range(0, len(items), protocol.DECLARE_PART)
        ]
        try:
            # In parts, so that no message outgrows NATS's max_payload (see DECLARE_PART);
            # sent together, in order, so the hub gathers what they lack into one
            # subscription upstream (NATS keeps one publisher's order on a subject).
            replies = await asyncio.gather(
                *(self._declare(lease, chunk, part) for part, chunk in enumerate(chunks))
            )
            for chunk, reply in zip(chunks, replies, strict=True):
                values += self.link.translate(reply.values)
                refused += (
                    ItemError(
                        code=refusal.code or 0,
                        message=protocol_text(refusal.message),
                        statistic_id=chunk[refusal.index].statistic_id,
                    )
                    for refusal in reply.refused
                    if 0 <= refusal.index < len(chunk)
                )
        except errors.StatisticsError:
            self.link.drop(lease)
            if len(items) > protocol.DECLARE_PART:
                # Parts already answered hold statistics at the hub: let them go now.
                with contextlib.suppress(errors.StatisticsError):
                    await self._release(lease)
            raise
        return SubscriptionResult(
            subscription_id=lease,
            operation_id=lease,
            # A statistic two parts share (the same definition twice) came twice: once is enough.
            statistics=StatisticValues(list({v.statistic_id: v for v in values}.values())),
            errors=tuple(refused),
        )

    async def _declare(
        self, lease: str, items: list[SubscriptionItem], part: int
    ) -> protocol.DeclareReply:
        declare = protocol.Declare(
            lease=lease,
            items=[protocol.wire_item(item) for item in items],
            lease_seconds=self.link.lease_seconds,
            part=part,
        )
        data = await self.link.request(self.link.subjects.declare, declare, DECLARE_TIMEOUT)
        reply = _read(data, protocol.DeclareReply)
        if reply.error is not None:
            raise _failure(reply.code, reply.error)
        return reply

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult:
        """The lease's current values at the hub; NotFoundError when the hub does not know it
        (a restarted hub, a lapsed lease): the session then declares again."""
        values: list[HubValue] = []
        offset, total = 0, 1
        while offset < total:
            # A page at a time, so that no answer outgrows NATS's max_payload.
            request = protocol.LeaseRequest(lease=subscription_id, offset=offset)
            data = await self.link.request(self.link.subjects.peek, request, REQUEST_TIMEOUT)
            reply = _read(data, protocol.PeekReply)
            if reply.error is not None:
                raise _failure(reply.code, reply.error)
            values += self.link.translate(reply.values)
            if reply.next <= offset:
                break  # a hub that does not move on: what came is all there is
            offset, total = reply.next, reply.total
        if statistic_ids is not None:
            wanted = set(statistic_ids)
            values = [value for value in values if value.statistic_id in wanted]
        return PeekResult(statistics=StatisticValues(values), subscription_id=subscription_id)

    async def delete_subscription(self, subscription_id: str) -> None:
        """Release the lease (the hub closes upstream what nobody needs, after its grace)."""
        self.link.drop(subscription_id)
        await self._release(subscription_id)

    async def _release(self, lease: str) -> None:
        request = protocol.LeaseRequest(lease=lease)
        _read(
            await self.link.request(self.link.subjects.release, request, RELEASE_TIMEOUT),
            protocol.ReleaseReply,
        )

    async def aclose(self) -> None:
        """Close the NATS connection."""
        await self.link.aclose()


def _read(data: bytes, kind: type[protocol.M]) -> protocol.M:
    try:
        return protocol.decode(data, kind)
    except protocol.HubProtocolError as error:
        raise errors.ShapeError(f"the hub's answer: {error}") from None


class HubChannel:
    """The hub's changes for this dashboard's objects, and its heartbeat, as push batches."""

    def __init__(self, link: HubLink, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._link = link
        self._clock = clock
        self._subscriptions: dict[str, Subscription] = {}
        self._status_subscription: Subscription | None = None
        # The latest of each statistic since the last batch: bounded by the layout's size
        # however fast (or hostile) the deliveries (NATS keeps one publisher's order).
        self._updates: dict[str, PushUpdate] = {}
        self._skipped = 0
        self._arrived = asyncio.Event()
        self._hub: str | None = None
        self._rehandshook = False
        self._interrupted = False
        # A change of the hub's health to tell the feed (its service state or upstream words).
        self._news = False
        self._service: str | None = None
        self._upstream: str | None = None
        self._heard = -float("inf")

    @property
    def undisconnected(self) -> bool:
        """Never: closing the channel only unsubscribes, and the hub keeps no session of ours."""
        return False

    async def open(self) -> PushBatch:
        """Listen to the hub's heartbeat and the objects the leases need (confirmed by NATS).

        It does not wait for a heartbeat: what the leases need is listened to before each
        declare goes out, so nothing is missed, and the first frame comes a heartbeat
        sooner (up to a second). A hub that is not there says so at the declare (no hub
        answers), and a channel that hears no heartbeat within SILENT_AFTER is lost.
        """
        connection = await self._link.connection()
        try:
            self._status_subscription = await connection.subscribe(
                self._link.subjects.status, cb=self._on_status
            )
            self._link.attach(self)
            await self.follow(self._link.objects())
            await confirm(connection, REQUEST_TIMEOUT)
        except NATS_ERRORS as error:
            await self.close()
            raise as_statistics_error(error, "the hub's channel") from None
        self._heard = self._clock()
        if self._upstream is None:
            self._upstream = CONNECTING
        self._rehandshook = False
        self._news = True
        return self._batch()

    async def follow(self, objects: set[str]) -> None:
        """Listen to these objects' changes too (confirmed by NATS before this returns)."""
        connection = await self._link.connection()
        new = [key for key in objects if key not in self._subscriptions]
        for key in new:
            self._subscriptions[key] = await connection.subscribe(
                self._link.subjects.values(key), cb=self._on_changes
            )
        if new:
            with contextlib.suppress(*NATS_ERRORS):
                await confirm(connection, REQUEST_TIMEOUT)

    async def next_batch(self) -> PushBatch:
        """What came since the last batch; PushLost when the hub fell silent."""
        while not (self._updates or self._rehandshook or self._skipped or self._news):
            left = self._heard + SILENT_AFTER - self._clock()
            if left <= 0:
                raise errors.PushLost("the hub fell silent", reason="no heartbeat from the hub")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, protocol.STATUS_EVERY))
        return self._batch()

    def _batch(self) -> PushBatch:
        updates, self._updates = list(self._updates.values()), {}
        skipped, self._skipped = self._skipped, 0
        news, self._news = self._news, False
        batch = PushBatch(
            updates=updates,
            # Said when it changed only: the feed reports health on each state it is told.
            service_state=self._service if news else None,
            rehandshook=self._rehandshook,
            skipped=skipped,
            interrupted=self._interrupted,
            upstream=self._upstream,
        )
        self._rehandshook = False
        self._interrupted = False
        return batch

    async def close(self) -> None:
        """Stop listening (bounded, never raises)."""
        self._link.detach(self)
        subscriptions = list(self._subscriptions.values())
        if self._status_subscription is not None:
            subscriptions.append(self._status_subscription)
        self._subscriptions.clear()
        self._status_subscription = None
        for subscription in subscriptions:
            with contextlib.suppress(*NATS_ERRORS):
                await subscription.unsubscribe()

    # --- what NATS delivers (on the event loop) ---------------------------------------------

    async def _on_status(self, message: Msg) -> None:
        try:
            status = protocol.decode(message.data, protocol.Status)
        except protocol.HubProtocolError as error:
            log.info("ignored a hub heartbeat: %s", error)
            return
        if self._hub is not None and status.hub != self._hub:
            # A restarted hub knows none of our leases: the controller peeks, learns so
            # (404) and declares again.
            log.info("the hub restarted")
            self._rehandshook = True
        self._hub = status.hub
        service = SERVICE_AVAILABLE if status.available else UNAVAILABLE
        if service == UNAVAILABLE and self._service != UNAVAILABLE:
            self._interrupted = True
        upstream = protocol_text(status.upstream)[:80]
        self._news = self._news or service != self._service or upstream != self._upstream
        self._service = service
        self._upstream = upstream
        self._heard = self._clock()
        self._arrived.set()

    async def _on_changes(self, message: Msg) -> None:
        try:
            changes = protocol.decode(message.data, protocol.Changes)
        except protocol.HubProtocolError:
            self._skipped += 1
            self._arrived.set()
            return
        for value in self._link.translate(changes.values):
            self._updates[value.statistic_id] = PushUpdate(
                value.statistic_id, value.value, value.timestamp, subscription_id=None
            )
        self._arrived.set()
