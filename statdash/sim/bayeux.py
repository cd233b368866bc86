"""A CometD (Bayeux 1.0 long-polling) endpoint: the push channel official clients open."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from statdash.sim.catalog import Notification
from statdash.sim.faults import Faults

SERVICE_CHANNEL = "/statistics/v3/service"
UPDATES_CHANNEL = "/statistics/v3/updates"
# How often a held /meta/connect advances the model to look for events. Pins, manual clock
# advances and shutdown wake held connects at once.
_POLL_SECONDS = 0.25

Message = dict[str, Any]
Record = dict[str, Any]
_META_KINDS = frozenset({"handshake", "connect", "subscribe", "unsubscribe", "disconnect"})


def _unknown_client(reply: Message) -> Message:
    reply.update(
        successful=False,
        error="402::Unknown client",
        advice={"reconnect": "handshake", "interval": 0},
    )
    return reply


@dataclass(eq=False, slots=True)
class Watched:
    """One statistic of an open subscription, as the push channel follows it.

    `render` gives its current StatisticValue with `subscriptionId` (verbose); `sources` are
    the model keys whose events can change it (`catalog.sources`).
    """

    subscription_id: str
    session: str
    sources: tuple[int, ...]
    notify: Notification
    render: Callable[[], Record]


@dataclass(eq=False)
class _Client:
    session: str
    channels: set[str] = field(default_factory=set)
    pending: list[Message] = field(default_factory=list)
    # Immediate statistics an event touched since this client was last answered.
    dirty: set[Watched] = field(default_factory=set)
    # The record last pushed per statistic: what a change is measured against, and what an
    # out-of-order fault delivers late.
    sent: dict[Watched, Record] = field(default_factory=dict)
    # Periodical frequency -> the simulated time its statistics are next due.
    due: dict[float, float] = field(default_factory=dict)
    # Monotonic time of the last message; a client idle for longer than the expiry is gone.
    seen: float = 0.0
    connecting: bool = False
    gone: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Batch:
    """One answered batch: the messages, and `truncate` when the body must be cut short."""

    messages: list[Any]
    truncate: bool = False


def _changed(before: Any, after: Any, insensitivity: float) -> bool:
    """Whether `after` differs from `before` enough to push; timestamps never count."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return bool(before != after)
    if "stringValue" in after:
        old, new = before.get("stringValue"), after["stringValue"]
        if old == new:
            return False
        if insensitivity <= 0:
            return True
        try:
            was, now = float(str(old)), float(str(new))
        except ValueError:
            return True
        # Stat Server's insensitivity is a percentage of the value last reported.
        return abs(now - was) * 100 > insensitivity * abs(was)
    return bool(before.get("stateValue") != after.get("stateValue"))


def _records(messages: list[Any]) -> list[Record]:
    """The statistic records of the updates messages among `messages`."""
    return [
        record
        for m in messages
        if isinstance(m, dict) and m.get("channel") == UPDATES_CHANNEL
        for record in m["data"]["statistics"]
        if isinstance(record, dict)
    ]


class Notifier:
    """Answers Bayeux handshake, subscribe, connect, unsubscribe and disconnect.

    Subscribing to /statistics/v3/service brings one {"serviceState": "Available"}; a client
    on /statistics/v3/updates gets the values of the subscriptions opened with the same
    STATISTICS_SESSIONID: all of them first, then what changed, per each statistic's
    notification settings. Data rides on connect replies and on subscribe replies. A connect
    with nothing to deliver is held up to `hold` seconds; a client that sends nothing for
    `expiry` seconds (between connects) is forgotten and told to handshake again.

    `sync` advances the model and returns the source keys events touched since its last call;
    `now` is simulated time (Periodical frequencies count simulated seconds).
    """

    def __init__(
        self,
        *,
        sync: Callable[[], set[int]],
        now: Callable[[], float],
        hold: float,
        expiry: float,
        faults: Faults,
        requests: Counter[str],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sync = sync
        self.now = now
        self.hold = hold
        self.expiry = expiry
        self.faults = faults
        self.requests = requests
        self.monotonic = monotonic
        self.clients: dict[str, _Client] = {}
        self.closed = False
        # subscription id -> its statistics; session -> its statistics; source key -> them.
        self._by_subscription: dict[str, list[Watched]] = {}
        self._by_session: dict[str, set[Watched]] = {}
        self._by_source: dict[int, list[Watched]] = {}
        self._last_sync = -1e18
        self.dropped_updates = 0
        # (subscriptionId, statisticId) -> the value its session last received (push or
        # REST), and those whose latest value a fault kept from it.
        self._known: dict[tuple[str, str], Any] = {}
        self._lost: set[tuple[str, str]] = set()
        """Statistic values the push faults kept from clients and neither a later push nor
        a peek replaced first: what a client's reconciliation should find and correct."""

    # ------------------------------------------------------------ subscriptions come and go

    def opened(self, subscription_id: str, watched: list[Watched]) -> None:
        """A REST subscription opened: follow its statistics (clients get them all once)."""
        self.closed_subscription(subscription_id)
        self._by_subscription[subscription_id] = watched
        for w in watched:
            self._by_session.setdefault(w.session, set()).add(w)
            for key in w.sources:
                self._by_source.setdefault(key, []).append(w)
        for client in self.clients.values():
            if watched and client.session == watched[0].session:
                self._start(client, watched)

    def closed_subscription(self, subscription_id: str) -> None:
        """A REST subscription closed: stop following its statistics."""
        watched = self._by_subscription.pop(subscription_id, None)
        if not watched:
            return
        gone = set(watched)
        session = watched[0].session
        for known in [known for known in self._known if known[0] == subscription_id]:
            del self._known[known]
        self._lost = {lost for lost in self._lost if lost[0] != subscription_id}
        mine = self._by_session.get(session)
        if mine is not None:
            mine -= gone
            if not mine:
                del self._by_session[session]
        keys = {key for w in watched for key in w.sources}
        for key in keys:
            kept = [w for w in self._by_source.get(key, ()) if w not in gone]
            if kept:
                self._by_source[key] = kept
            else:
                self._by_source.pop(key, None)
        for client in self.clients.values():
            if client.session == session:
                client.dirty -= gone
                for w in gone:
                    client.sent.pop(w, None)

    def drop_session(self, session: str | None) -> int:
        """Forget the Bayeux clients of a session (None: of every session); how many."""
        doomed = [cid for cid, c in self.clients.items() if session in (None, c.session)]
        for client_id in doomed:
            self._forget(client_id)
        return len(doomed)

    def touched(self, sources: Iterable[int]) -> None:
        """Mark the statistics of these source keys changed and wake their held connects."""
        self._fan_out(set(sources))

    def poke(self) -> None:
        """Something changed outside the clock (a pin, an advance): look at once, wake all."""
        self._refresh(force=True)
        for client in self.clients.values():
            client.wake.set()

    def close(self) -> None:
        """The server is stopping: answer every held connect now, hold none from here on."""
        self.closed = True
        for client in self.clients.values():
            client.wake.set()

    # -------------------------------------------------------------------------- batches

    async def handle(self, messages: list[Any], session: str) -> Batch:
        """Replies to one POSTed batch of Bayeux messages."""
        self.expire()
        replies: list[Any] = []
        data: list[Message] = []
        connect: tuple[Message, _Client, float] | None = None
        receiver: _Client | None = None
        for message in messages:
            if not isinstance(message, dict):
                replies.append({"successful": False, "error": "400::message must be an object"})
                continue
            channel = message.get("channel")
            reply: Message = {"channel": channel}
            if not isinstance(channel, str):
                reply.update(successful=False, error="400::channel is required")
                replies.append(reply)
                continue
            self._count(channel)
            if "id" in message:
                reply["id"] = message["id"]
            if channel == "/meta/handshake":
                replies.append(self._handshake(reply, session))
                continue
            raw_client_id = message.get("clientId")
            client_id = raw_client_id if isinstance(raw_client_id, str) else ""
            client = self.clients.get(client_id)
            if (
                client is not None
                and channel == "/meta/connect"
                and self.faults.channel_fault("unknown_client")
            ):
                self._forget(client_id)
                client = None
            if client is None:
                replies.append(_unknown_client(reply))
                continue
            client.seen = self.monotonic()
            reply["clientId"] = client_id
            if channel == "/meta/connect":
                # The first connect after a handshake asks for timeout 0: answer at once.
                advice = message.get("advice")
                no_wait = isinstance(advice, dict) and advice.get("timeout") == 0
                connect = (reply, client, 0.0 if no_wait else self.hold)
                continue
            if channel in ("/meta/subscribe", "/meta/unsubscribe"):
                self._subscribe(reply, client, message.get("subscription"), channel)
                if reply["successful"] and channel == "/meta/subscribe":
                    # Real servers deliver what is pending in the subscribe reply too.
                    data.extend(self._collect(client))
                    receiver = client
            elif channel == "/meta/disconnect":
                self._forget(client_id)
                reply["successful"] = True
            else:
                reply.update(successful=False, error="403::Publishing is not supported")
            replies.append(reply)
        if connect is not None:
            reply, client, wait = connect
            data.extend(await self._held(client, wait))
            if self.faults.channel_fault("service_blip"):
                data = self._blip(data, client)
            delay = self.faults.slow_connect_ms / 1000.0
            if delay > 0 and not self.closed:
                await asyncio.sleep(delay)
            client.seen = self.monotonic()
            if client.gone and not self.closed:
                # Dropped while held (a fault, a disconnect): say so now, not at the next one.
                return self._damaged(data + replies + [_unknown_client(reply)], client)
            reply.update(successful=True, advice=self._advice())
            return self._damaged(data + replies + [reply], client)
        return self._damaged(replies + data, receiver) if data else Batch(replies)

    def _blip(self, data: list[Message], client: _Client) -> list[Message]:
        """A Stat Server outage shorter than a connect: Unavailable, then Available, in one
        reply; the changes of that moment are lost (counted as dropped)."""
        kept = [m for m in data if m.get("channel") != UPDATES_CHANNEL]
        self._lose(data, client)
        down = {"channel": SERVICE_CHANNEL, "data": {"serviceState": "Unavailable"}}
        up = {"channel": SERVICE_CHANNEL, "data": {"serviceState": "Available"}}
        return [down, *kept, up]

    def _count(self, channel: str) -> None:
        kind = channel.removeprefix("/meta/")
        # Counter keys come from a fixed set: a client's channel names must not grow it.
        if kind not in _META_KINDS:
            kind = "other" if channel.startswith("/meta/") else "publish"
        self.requests[f"notifications.{kind}"] += 1

    def _advice(self) -> dict[str, Any]:
        return {"reconnect": "retry", "interval": 0, "timeout": int(self.hold * 1000)}

    def _handshake(self, reply: Message, session: str) -> Message:
        client_id = secrets.token_hex(12)
        self.clients[client_id] = _Client(session, seen=self.monotonic())
        reply.update(
            successful=True,
            version="1.0",
            minimumVersion="1.0",
            clientId=client_id,
            supportedConnectionTypes=["long-polling"],
            advice=self._advice(),
        )
        return reply

    def _subscribe(self, reply: Message, client: _Client, wanted: Any, channel: str) -> None:
        raw_names = wanted if isinstance(wanted, list) else [wanted]
        names = [n for n in raw_names if isinstance(n, str) and n]
        if not names or len(names) != len(raw_names):
            reply.update(successful=False, error="400::subscription is required")
            return
        if channel == "/meta/subscribe" and self.faults.channel_fault("refuse_channel_subscribe"):
            # A server busy for a moment: refused, with advice to try the subscribe again.
            reply.update(
                successful=False,
                error="503::channel temporarily unavailable",
                advice={"reconnect": "retry", "interval": 200},
            )
            return
        for name in names:
            if channel == "/meta/subscribe":
                if name == SERVICE_CHANNEL and name not in client.channels:
                    client.pending.append(
                        {"channel": SERVICE_CHANNEL, "data": {"serviceState": "Available"}}
                    )
                if name == UPDATES_CHANNEL and name not in client.channels:
                    client.channels.add(name)
                    self._start(client, self._by_session.get(client.session, ()))
                client.channels.add(name)
            else:
                client.channels.discard(name)
        reply.update(successful=True, subscription=wanted)

    def _forget(self, client_id: str) -> None:
        client = self.clients.pop(client_id, None)
        if client is not None:
            client.gone = True
            client.wake.set()

    def expire(self) -> None:
        """Forget clients silent for longer than the expiry (swept on every batch)."""
        # A forgotten client's values must not stay in memory.
        limit = self.monotonic() - self.expiry
        for client_id in [
            cid for cid, c in self.clients.items() if not c.connecting and c.seen < limit
        ]:
            self._forget(client_id)

    # ------------------------------------------------------------------- what to deliver

    def _start(self, client: _Client, watched: Iterable[Watched]) -> None:
        """Deliver these statistics' values to `client` once, then their changes."""
        if UPDATES_CHANNEL not in client.channels:
            return
        now = self.now()
        for w in watched:
            if w.notify.mode == "Immediate":
                client.dirty.add(w)
            elif w.notify.mode == "Periodical":
                client.due[w.notify.frequency] = now
        client.wake.set()

    def _refresh(self, *, force: bool = False) -> None:
        """Advance the model (at most every _POLL_SECONDS unless forced) and fan events out."""
        now = self.monotonic()
        if not force and now - self._last_sync < _POLL_SECONDS:
            return
        self._last_sync = now
        self._fan_out(self.sync())

    def _fan_out(self, keys: set[int]) -> None:
        if not keys or not self.clients:
            return
        touched: dict[str, set[Watched]] = {}
        for key in keys:
            for w in self._by_source.get(key, ()):
                if w.notify.mode == "Immediate":
                    touched.setdefault(w.session, set()).add(w)
        for client in self.clients.values():
            mine = touched.get(client.session)
            if mine and UPDATES_CHANNEL in client.channels:
                client.dirty |= mine
                client.wake.set()

    async def _held(self, client: _Client, wait: float) -> list[Message]:
        deadline = self.monotonic() + wait
        client.connecting = True
        try:
            while True:
                self._refresh()
                client.wake.clear()
                events = self._collect(client)
                left = deadline - self.monotonic()
                if events or left <= 0 or self.closed or client.gone:
                    return events
                # Periodical statistics fall due in simulated time: look again by then.
                with_due = min(client.due.values(), default=None)
                if with_due is not None and self.now() >= with_due:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wake.wait(), timeout=min(_POLL_SECONDS, left))
        finally:
            client.connecting = False

    def _collect(self, client: _Client) -> list[Message]:
        events = client.pending
        client.pending = []
        if UPDATES_CHANNEL not in client.channels:
            return events
        records: list[Record] = []
        older: list[Record] = []
        sent = client.sent
        for w in client.dirty:
            self._consider(w, sent, records, older)
        client.dirty = set()
        if client.due:
            now = self.now()
            due_now = [f for f, at in client.due.items() if at <= now]
            if due_now:
                for w in self._by_session.get(client.session, ()):
                    if w.notify.mode == "Periodical" and w.notify.frequency in due_now:
                        self._consider(w, sent, records, older)
                for frequency in due_now:
                    client.due[frequency] = now + frequency
        if records:
            events.append({"channel": UPDATES_CHANNEL, "data": {"statistics": records}})
            if self.faults.channel_fault("duplicate_updates"):
                events.append({"channel": UPDATES_CHANNEL, "data": {"statistics": records}})
            if older and self.faults.channel_fault("reorder_updates"):
                # The values these replaced, with their older timestamps, after the new ones.
                events.append({"channel": UPDATES_CHANNEL, "data": {"statistics": older}})
        return events

    @staticmethod
    def _consider(
        w: Watched, sent: dict[Watched, Record], records: list[Record], older: list[Record]
    ) -> None:
        record = w.render()
        before = sent.get(w)
        if before is not None and not _changed(
            before.get("value"), record.get("value"), w.notify.insensitivity
        ):
            return
        sent[w] = record
        records.append(record)
        if before is not None:
            older.append(before)

    def _lose(self, messages: list[Any], client: _Client | None) -> None:
        """These messages never reach the client: count the values it does not have."""
        if client is None:
            return
        for record in _records(messages):
            key = (str(record.get("subscriptionId")), str(record.get("statisticId")))
            known = self._known.get(key)
            if known is not None and not _changed(known, record.get("value"), 0.0):
                continue  # the client has this figure already (from a peek or a push)
            if key not in self._lost:
                self._lost.add(key)
                self.dropped_updates += 1

    def _delivered(self, messages: list[Any], client: _Client | None) -> None:
        """These values reached the client: a drop they replace needs no correction any more."""
        if client is None:
            return
        for record in _records(messages):
            key = (str(record.get("subscriptionId")), str(record.get("statisticId")))
            self._known[key] = record.get("value")
            if key in self._lost:
                self._lost.discard(key)
                self.dropped_updates -= 1

    def peeked(self, subscription_id: str, records: list[Record]) -> None:
        """A REST reply (subscribe, peek) gave the client these current values: they are known,
        and what was dropped of them is corrected (no longer counted as missing)."""
        for record in records:
            key = (subscription_id, str(record.get("statisticId")))
            self._known[key] = record.get("value")
            self._lost.discard(key)

    def _damaged(self, messages: list[Any], client: _Client | None) -> Batch:
        has_updates = any(
            isinstance(m, dict) and m.get("channel") == UPDATES_CHANNEL for m in messages
        )
        kind = self.faults.push_malformed_kind(has_updates=has_updates)
        if kind in ("invalid_json", "bad_statistics"):
            # Every value this reply carried is lost to the client (it cannot read them).
            self._lose(messages, client)
        else:
            self._delivered(messages, client)
        if kind == "invalid_json":
            return Batch(messages, truncate=True)
        if kind == "not_object":
            return Batch(["not a message", 42, [messages[0]], *messages])
        if kind == "bad_statistics":
            out: list[Any] = []
            for m in messages:
                if isinstance(m, dict) and m.get("channel") == UPDATES_CHANNEL:
                    m = {
                        "channel": UPDATES_CHANNEL,
                        "data": {"statistics": [42, "x", {"statisticId": 7, "value": "12"}]},
                    }
                out.append(m)
            return Batch(out)
        return Batch(messages)
