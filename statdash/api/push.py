"""PushChannel: the Bayeux (CometD) long-polling client of the push channel, on the REST client.

    channel = PushChannel(client)
    first = await channel.open()                      # handshake; both channels confirmed
    opened = await client.open_subscription(items)    # only now, so no update is missed
    while running:
        batch = await channel.next_batch()            # one /meta/connect, held by the server
        if batch.rehandshook:
            ...                                       # a new Bayeux session: re-open it
    await channel.close()                             # /meta/disconnect, never raises

Every request goes through `StatisticsClient.request`, so the channel shares the client's one
httpx client: its auth (x-api-key, bearer token renewed and the request replayed once on a
401), its cookie jar (the STATISTICS_SESSIONID cookie ties the REST subscription to this
channel), its body limit and its error tree. Paths are those of Genesys's JS client (the
cometd library): handshake, connect and disconnect POST to `/notifications/<kind>`, subscribe
to `/notifications/` (trailing slash), each body a JSON array of messages.

The server's `advice` is followed: `interval` before the next connect, `timeout` as the
connect's hold (the read timeout is the hold plus `CONNECT_SLACK`), `reconnect: handshake`
(and `402::Unknown client`, in a Bayeux reply or as HTTP 402) starts a new session whose
batch says `rehandshook`, `reconnect: none` raises `PushLost`. Nothing loops inside one call:
a refused connect with `retry` advice returns an empty batch and the next call waits; a
run of refusals, or of sessions the server forgets at once, ends in `PushLost`. Transport
and HTTP failures are raised as they are: falling back to polling is the caller's choice.

Everything a server sends is untrusted: malformed update items are skipped and counted, and
server text reaches messages only clipped and scrubbed of the client's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

import msgspec

from statdash.api.client import API_PATH, StatisticsClient
from statdash.api.errors import (
    HTTPStatusError,
    PushLost,
    PushUnavailable,
    ShapeError,
    StatisticsError,
    clip,
)
from statdash.api.responses import loads_tolerant
from statdash.api.retry import Backoff

__all__ = [
    "CONNECT_SLACK",
    "SERVICE_CHANNEL",
    "UPDATES_CHANNEL",
    "PushBatch",
    "PushChannel",
    "PushLost",
    "PushUnavailable",
    "PushUpdate",
]

_log = logging.getLogger("statdash.api.push")

NOTIFICATIONS_PATH = "/notifications"
SERVICE_CHANNEL = "/statistics/v3/service"
UPDATES_CHANNEL = "/statistics/v3/updates"
CHANNELS = (SERVICE_CHANNEL, UPDATES_CHANNEL)
SERVICE_AVAILABLE = "Available"

# The reply of a held connect comes after the hold: the read timeout allows this much more.
CONNECT_SLACK = 10.0
# The hold assumed until the server advises one: the CometD server's default.
DEFAULT_HOLD = 30.0
# Advice is capped, so a broken or hostile server cannot park the client for hours.
MAX_INTERVAL = 60.0
MAX_HOLD = 300.0
# /meta/disconnect is a courtesy on the way out: never worth holding an exit for longer.
CLOSE_TIMEOUT = 2.0
# How many refusals in a row (handshakes, connects, sessions forgotten at once) mean lost.
MAX_REFUSALS = 3
# Waits after a refused connect that came with `retry` advice but no interval.
_REFUSED_CONNECT = Backoff(base=1.0, cap=30.0, jitter="half")
# Server text in messages: enough to say what happened, not enough to flood a line.
_ERROR_TEXT = 120

Message = dict[str, Any]


class PushUpdate(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    """One statistic's new value as the updates channel delivered it (raw wire fields).

    A frozen struct rather than a dataclass (same fields, constructor, equality): the fast
    path decodes update items straight into it, and the garbage collector does not track it.
    """

    statistic_id: Annotated[str, msgspec.Meta(min_length=1)]
    value: object = None
    timestamp: object = None
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class PushBatch:
    """What one exchange with the channel brought.

    `updates` are in arrival order, duplicates kept (the store ignores a value it has).
    `service_state` is the last `serviceState` seen ("Available"/"Unavailable"), else None.
    `rehandshook`: a new Bayeux session began since the previous batch, so the REST
    subscription may be gone and the caller should open it again. `skipped` counts update
    items that were not usable (not an object, no statisticId) and data that was not a list.
    `interrupted`: the service said `Unavailable` at some point in this batch, even when a
    later `Available` in the same batch ends it (a short outage still loses changes).
    """

    updates: Sequence[PushUpdate]
    service_state: str | None
    rehandshook: bool
    skipped: int = 0
    interrupted: bool = False
    upstream: str | None = None
    """Through a hub: how values reach the hub, in the status line's words (else None)."""


@dataclass(slots=True)
class _Pending:
    """The data messages of one call, gathered across every reply it read."""

    updates: list[PushUpdate] = field(default_factory=list)
    service_state: str | None = None
    skipped: int = 0
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class _Advice:
    """The server's advice as it stands: seconds before the next connect, seconds of hold."""

    interval: float = 0.0
    hold: float = DEFAULT_HOLD


class PushChannel:
    """A CometD long-polling channel on `client`'s HTTP stack, subscribed to both channels.

    `sleep` waits out the server's advised intervals (tests pass one that records them).
    Not safe for concurrent `open`/`next_batch` calls: one caller drives it, round by round;
    `close` may be called at any time, from anywhere, any number of times.
    """

    def __init__(
        self,
        client: StatisticsClient,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._advice = _Advice()
        self._client_id: str | None = None
        # Both channels confirmed on the current client id: connects may go out.
        self._ready = False
        self._connected = False
        self._first_connect = False
        self._sessions = 0
        self._rehandshook = False
        self._wait = 0.0
        self._refused_connects = 0
        self._sessions_without_connect = 0
        self._lost: str | None = None
        self._closed = False
        # Client ids whose /meta/disconnect did not get through: the server still has them.
        self._leftovers: list[str] = []

    def __repr__(self) -> str:
        # The client id is left out: it is what another party would need to read the channel.
        state = "closed" if self._closed else "connected" if self._connected else "idle"
        return f"PushChannel({self._client.server!r}, {state})"

    @property
    def connected(self) -> bool:
        """The channel is subscribed and its last round with the server succeeded."""
        return self._connected and not self._closed

    @property
    def hold(self) -> float:
        """Seconds the server holds a connect with nothing to deliver (its `advice.timeout`)."""
        return self._advice.hold

    @property
    def client_id(self) -> str | None:
        """The current Bayeux client id (None before a handshake and after close)."""
        return self._client_id

    # --- The interface ----------------------------------------------------------------------

    async def open(self) -> PushBatch:
        """Handshake and subscribe both channels; returns once both are confirmed.

        Data messages in these replies come back in the batch. Raises PushUnavailable when
        the server offers no CometD here, other StatisticsErrors as the REST calls do.
        """
        self._check_usable()
        if self._sessions:
            raise StatisticsError("the push channel is already open")
        pending = _Pending()
        await self._establish(pending)
        return self._batch(pending)

    async def next_batch(self) -> PushBatch:
        """One /meta/connect round, following the server's advice; the data it brought.

        Waits first if the last advice asked for an interval. A reply that asks for a new
        handshake (or a 402) is followed at once: the batch holds whatever those replies
        brought and `rehandshook` is True. Raises PushLost for `reconnect: none` and after
        `MAX_REFUSALS` refusals in a row, other StatisticsErrors for transport and HTTP
        failures (the channel is then not `connected`; calling again tries again).
        """
        self._check_usable()
        if not self._sessions:
            raise StatisticsError("the push channel is not open")
        pending = _Pending()
        if not self._ready:
            await self._establish(pending)
            return self._batch(pending)
        await self._pause()
        client_id = self._client_id
        assert client_id is not None  # ready implies a client id
        message: Message = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
            "id": self._next_id(),
        }
        if self._first_connect:
            # Bayeux: the first connect of a session is answered at once, not held.
            message["advice"] = {"timeout": 0}
        try:
            replies = await self._exchange(
                "connect", [message], pending, read_timeout=self._advice.hold + CONNECT_SLACK
            )
        except HTTPStatusError as exc:
            self._connected = False
            if exc.http_status != 402:
                raise
            _log.debug("connect answered HTTP 402: handshaking again")
            self._wait = self._advice.interval
            await self._rehandshake(pending)
            return self._batch(pending)
        except StatisticsError:
            self._connected = False
            raise
        self._first_connect = False
        reply = _reply_to(replies, message)
        if reply is None:
            self._connected = False
            raise ShapeError(f"{self._where('connect')}: the reply holds no /meta/connect answer")
        reconnect = self._advise(reply)
        error = self._error_text(reply)
        if reconnect == "none":
            self._lose(f"the server ended the session ({error or 'advice: reconnect none'})")
        successful = reply.get("successful") is True
        if reconnect == "handshake" or (not successful and _error_code(error) == 402):
            self._connected = False
            self._wait = self._advice.interval
            _log.debug("connect refused (%s): handshaking again", error or "handshake advice")
            await self._rehandshake(pending)
            return self._batch(pending)
        if successful:
            self._connected = True
            self._refused_connects = 0
            self._sessions_without_connect = 0
            self._wait = self._advice.interval
            return self._batch(pending)
        self._connected = False
        self._refused_connects += 1
        if self._refused_connects >= MAX_REFUSALS:
            self._lose(f"{self._refused_connects} connects in a row refused ({error})")
        self._wait = max(self._advice.interval, _REFUSED_CONNECT.delay(self._refused_connects))
        _log.debug("connect refused (%s); next in %.1f s", error, self._wait)
        return self._batch(pending)

    @property
    def undisconnected(self) -> bool:
        """Closed, but a client id it handshook never got its /meta/disconnect through
        (the network or the server failed it); `close()` again tries once more."""
        return self._closed and bool(self._leftovers)

    async def close(self) -> None:
        """Send /meta/disconnect for every client id of this channel not known dead
        (bounded by `CLOSE_TIMEOUT`); never raises. Called again, it retries the ones whose
        disconnect did not get through, and otherwise does nothing."""
        self._closed = True
        self._connected = False
        self._ready = False
        client_id, self._client_id = self._client_id, None
        if client_id is not None:
            self._leftovers.append(client_id)
        leftovers, self._leftovers = self._leftovers, []
        for leftover in leftovers:
            if not await self._disconnect(leftover):
                self._leftovers.append(leftover)

    async def _disconnect(self, client_id: str) -> bool:
        """/meta/disconnect for `client_id`, bounded by `CLOSE_TIMEOUT`; never raises.

        True when the server answered it (whatever it said: an unknown client is gone too).
        """
        message = {"channel": "/meta/disconnect", "clientId": client_id, "id": self._next_id()}
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._exchange("disconnect", [message], None, read_timeout=CLOSE_TIMEOUT)
        except HTTPStatusError as exc:
            # 4xx: the server read it and refuses it (it does not know the client); a 5xx
            # or a 408/429 may not have reached the CometD server at all.
            if 400 <= exc.http_status < 500 and exc.http_status not in (408, 429):
                return True
            _log.debug("disconnect failed: HTTP %d", exc.http_status)
            return False
        except Exception as exc:
            # The server forgets an idle client anyway; an exit must not wait or fail for it.
            _log.debug("disconnect failed: %s", type(exc).__name__)
            return False
        return True

    # --- Sessions -------------------------------------------------------------------------

    async def _rehandshake(self, pending: _Pending) -> None:
        """A new session after the server forgot this one; too many in a row mean lost."""
        self._ready = False
        self._sessions_without_connect += 1
        if self._sessions_without_connect >= MAX_REFUSALS:
            self._lose(f"the server forgot the session {self._sessions_without_connect} times")
        await self._establish(pending)

    async def _establish(self, pending: _Pending) -> None:
        """Handshake (retrying as advised, a few times) and subscribe both channels."""
        self._ready = False
        self._connected = False
        refusals = 0
        while True:
            self._check_usable()
            await self._pause()
            self._check_usable()
            client_id = await self._handshake_to_the_end(pending)
            if client_id is not None and self._closed:
                # close() ran while the handshake was on the wire: leave no client behind.
                if not await self._disconnect(client_id):
                    self._leftovers.append(client_id)
                self._check_usable()
            self._client_id = client_id
            if client_id is not None and await self._subscribe(client_id, pending):
                break
            refusals += 1
            if refusals >= MAX_REFUSALS:
                self._lose(f"{refusals} handshakes in a row refused")
        self._sessions += 1
        self._rehandshook = self._rehandshook or self._sessions > 1
        self._ready = True
        self._connected = True
        self._first_connect = True
        self._refused_connects = 0

    async def _handshake_to_the_end(self, pending: _Pending) -> str | None:
        """`_handshake`, which a cancel (a quit, a stopped round) does not cut off mid-air.

        A handshake the server has read makes a client there; cancelled before its reply,
        we would never learn the id, and the client would outlive us. So the reply is let
        come (bounded by CLOSE_TIMEOUT) and its id left for `close()` to disconnect.
        """
        handshake = asyncio.ensure_future(self._handshake(pending))
        try:
            return await asyncio.shield(handshake)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    late = await handshake
                if late is not None:
                    self._leftovers.append(late)
            raise

    async def _handshake(self, pending: _Pending) -> str | None:
        """A new client id, or None when refused with advice to try again (after `_wait`)."""
        message: Message = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "id": self._next_id(),
        }
        where = self._where("handshake")
        try:
            replies = await self._exchange("handshake", [message], pending)
        except HTTPStatusError as exc:
            if exc.http_status in (404, 405):
                raise PushUnavailable(
                    f"{where}: HTTP {exc.http_status}", reason=f"HTTP {exc.http_status}"
                ) from exc
            raise
        except _NotBayeux as exc:
            raise PushUnavailable(f"{where}: {exc}", reason="the reply is not Bayeux") from None
        reply = _reply_to(replies, message)
        if reply is None:
            raise PushUnavailable(
                f"{where}: the reply holds no /meta/handshake answer", reason="no handshake answer"
            )
        reconnect = self._advise(reply)
        if reply.get("successful") is True:
            client_id = reply.get("clientId")
            if not isinstance(client_id, str) or not client_id or not client_id.isprintable():
                raise PushUnavailable(
                    f"{where}: the handshake answer has no clientId", reason="no clientId"
                )
            offered = reply.get("supportedConnectionTypes")
            if isinstance(offered, list) and "long-polling" not in offered:
                raise PushUnavailable(
                    f"{where}: the server does not offer long-polling", reason="no long-polling"
                )
            return client_id
        error = self._error_text(reply) or "no reason given"
        if reconnect in ("retry", "handshake"):
            self._wait = self._advice.interval
            _log.debug("handshake refused (%s); again in %.1f s", error, self._wait)
            return None
        raise PushUnavailable(f"{where}: handshake refused: {error}", reason=f"refused: {error}")

    async def _subscribe(self, client_id: str, pending: _Pending) -> bool:
        """Subscribe both channels; False when the server no longer knows `client_id`.

        A channel refused with `reconnect: retry` advice is subscribed again after the
        advised interval (or a short backoff); `MAX_REFUSALS` refusals in a row mean lost,
        which the caller retries sooner than a server with no push at all.
        """
        wanted = list(CHANNELS)
        refusals = 0
        where = self._where("")
        while True:
            messages = [
                {
                    "channel": "/meta/subscribe",
                    "clientId": client_id,
                    "subscription": channel,
                    "id": self._next_id(),
                }
                for channel in wanted
            ]
            replies = await self._exchange("", messages, pending)
            again: list[str] = []
            refused = ""
            for message in messages:
                channel = message["subscription"]
                reply = _reply_to(replies, message)
                if reply is None:
                    raise ShapeError(f"{where}: no answer to the subscription of {channel}")
                reconnect = self._advise(reply)
                if reply.get("successful") is True:
                    continue
                error = self._error_text(reply) or "no reason given"
                if reconnect == "handshake" or _error_code(error) == 402:
                    self._wait = self._advice.interval
                    return False
                if reconnect == "retry":
                    again.append(channel)
                    refused = f"subscribing {channel} refused: {error}"
                    continue
                raise PushUnavailable(
                    f"{where}: subscribing {channel} refused: {error}",
                    reason=f"{channel} refused: {error}",
                )
            if not again:
                return True
            refusals += 1
            if refusals >= MAX_REFUSALS:
                self._lose(f"{refused} ({refusals} times)")
            self._wait = max(self._advice.interval, _REFUSED_CONNECT.delay(refusals))
            _log.debug("%s; again in %.1f s", refused, self._wait)
            await self._pause()
            self._check_usable()
            wanted = again

    # --- One exchange ---------------------------------------------------------------------

    async def _exchange(
        self,
        kind: str,
        messages: list[Message],
        pending: _Pending | None,
        *,
        read_timeout: float | None = None,
    ) -> list[Message]:
        """POST `messages` to `/notifications/<kind>`; the replies, data gathered in `pending`."""
        response = await self._client.request(
            "POST",
            f"{NOTIFICATIONS_PATH}/{kind}",
            json=messages,
            read_timeout=read_timeout,
            once=True,
        )
        return _read_reply(
            response.content, self._where(kind), pending if pending is not None else _Pending()
        )

    def _advise(self, reply: Message) -> str | None:
        """Take the reply's advice (interval, hold); its `reconnect`, if it gave a known one."""
        advice = reply.get("advice")
        if not isinstance(advice, dict):
            return None
        interval = _milliseconds(advice.get("interval"), MAX_INTERVAL)
        hold = _milliseconds(advice.get("timeout"), MAX_HOLD)
        self._advice = _Advice(
            interval=self._advice.interval if interval is None else interval,
            hold=self._advice.hold if hold is None else hold,
        )
        reconnect = advice.get("reconnect")
        return reconnect if reconnect in ("retry", "handshake", "none") else None

    async def _pause(self) -> None:
        wait, self._wait = self._wait, 0.0
        if wait > 0:
            await self._sleep(wait)

    def _batch(self, pending: _Pending) -> PushBatch:
        batch = PushBatch(
            updates=pending.updates,
            service_state=pending.service_state,
            rehandshook=self._rehandshook,
            skipped=pending.skipped,
            interrupted=pending.interrupted,
        )
        self._rehandshook = False
        if pending.skipped:
            _log.debug("push: skipped %d malformed update items", pending.skipped)
        return batch

    def _check_usable(self) -> None:
        if self._closed:
            raise PushLost("the push channel is closed", reason="closed")
        if self._lost is not None:
            raise PushLost(f"the push channel is lost: {self._lost}", reason=self._lost)

    def _lose(self, reason: str) -> NoReturn:
        """Mark the channel lost for good and raise PushLost (close() still disconnects)."""
        self._lost = reason
        self._ready = False
        self._connected = False
        raise PushLost(f"{self._where('connect')}: {reason}", reason=reason)

    def _error_text(self, reply: Message) -> str:
        """The reply's Bayeux `error` ("402::Unknown client"), clipped and scrubbed; or ""."""
        error = reply.get("error")
        if not isinstance(error, str):
            return ""
        return clip(self._client.redact(error), _ERROR_TEXT)

    def _next_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def _where(kind: str) -> str:
        return f"{API_PATH}{NOTIFICATIONS_PATH}/{kind}"


# --- Reading replies ----------------------------------------------------------------------


class _NotBayeux(ShapeError):
    """JSON, but not a Bayeux reply (not an array of messages)."""


class _Message(msgspec.Struct, gc=False):
    """One message of a reply, as the fast path reads it: `data` left raw for its channel."""

    channel: object = None
    id: object = None
    successful: object = None
    error: object = None
    advice: object = None
    clientId: object = None
    subscription: object = None
    supportedConnectionTypes: object = None
    data: msgspec.Raw = msgspec.Raw()


class _UpdatesPayload(msgspec.Struct, gc=False):
    """`data` of the updates channel: the statistics, or the same one level down."""

    statistics: list[PushUpdate] | None = None
    data: msgspec.Raw = msgspec.Raw()


_JSON = msgspec.json.Decoder()
_MESSAGES = msgspec.json.Decoder(list[_Message])
_UPDATES = msgspec.json.Decoder(_UpdatesPayload)
_META_FIELDS = tuple(name for name in _Message.__struct_fields__ if name != "data")


def _read_reply(body: bytes, where: str, pending: _Pending) -> list[Message]:
    """The meta replies of a reply body, its data messages gathered into `pending`.

    The fast path decodes the body straight into `PushUpdate`s (structs the garbage
    collector does not track), about a third cheaper than building dicts first (figures in
    docs/push.md, from `benchmarks/push_vs_poll.py decode`). Anything it refuses (a message that is
    not an object, an item without a usable statisticId...) goes down the general path,
    whose verdict stands.
    """
    if not body or body.isspace():
        raise ShapeError(f"{where}: empty reply")
    try:
        messages = _MESSAGES.decode(body)
    except msgspec.ValidationError:
        return _read_reply_generally(body, where, pending)
    except (msgspec.DecodeError, ValueError, RecursionError):
        # No chaining: the decoder's message quotes the body, which is untrusted.
        raise ShapeError(f"{where}: the reply is not JSON") from None
    meta: list[Message] = []
    for message in messages:
        channel = message.channel
        if isinstance(channel, str) and channel.startswith("/meta/"):
            meta.append({name: getattr(message, name) for name in _META_FIELDS})
        elif message.data:
            _gather_raw(channel, message.data, pending)
    return meta


def _read_reply_generally(body: bytes, where: str, pending: _Pending) -> list[Message]:
    """`_read_reply` for any JSON: entries that are not messages are skipped and counted."""
    try:
        decoded = _JSON.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise ShapeError(f"{where}: the reply is not JSON") from None
    if not isinstance(decoded, list):
        raise _NotBayeux(f"{where}: the reply is not an array of Bayeux messages")
    meta: list[Message] = []
    for message in decoded:
        if not isinstance(message, dict):
            pending.skipped += 1
            continue
        channel = message.get("channel")
        if isinstance(channel, str) and channel.startswith("/meta/"):
            meta.append(message)
        elif "data" in message:
            _gather(channel, message["data"], pending)
    return meta


def _gather_raw(channel: object, raw: msgspec.Raw, pending: _Pending) -> None:
    """`_gather` for a data message still in JSON: updates decoded straight into structs."""
    if channel == UPDATES_CHANNEL:
        try:
            payload = _UPDATES.decode(raw)
            if payload.statistics is None and payload.data:
                payload = _UPDATES.decode(payload.data)
        except msgspec.ValidationError:
            payload = None
        if payload is not None and payload.statistics is not None:
            pending.updates.extend(payload.statistics)
            return
    try:
        data = _JSON.decode(raw)
    except msgspec.ValidationError:
        # Valid JSON holding an integer no Python int can be (4,301+ digits): only the
        # value holding it is spoiled, and counted (which asks for a reconciliation).
        try:
            data, unreadable = loads_tolerant(bytes(raw))
        except (ValueError, RecursionError):
            pending.skipped += 1
            return
        pending.skipped += unreadable
    _gather(channel, data, pending)


def _reply_to(replies: list[Message], message: Message) -> Message | None:
    """The reply to `message`: same channel, and same id when the server echoes ids."""
    channel = message["channel"]
    same = [reply for reply in replies if reply.get("channel") == channel]
    for reply in same:
        if reply.get("id") == message["id"]:
            return reply
    unnamed = [reply for reply in same if reply.get("id") is None]
    if channel == "/meta/subscribe":
        wanted = message["subscription"]
        return next((reply for reply in unnamed if reply.get("subscription") == wanted), None)
    return unnamed[0] if unnamed else None


_PAYLOAD_KEYS = {UPDATES_CHANNEL: "statistics", SERVICE_CHANNEL: "serviceState"}


def _gather(channel: object, data: object, pending: _Pending) -> None:
    """Add one data message's content to `pending` (payload under `data` or `data.data`)."""
    key = _PAYLOAD_KEYS.get(channel) if isinstance(channel, str) else None
    if isinstance(data, dict) and key not in data and isinstance(data.get("data"), dict):
        data = data["data"]
    if channel == UPDATES_CHANNEL:
        items = data.get("statistics") if isinstance(data, dict) else None
        if not isinstance(items, list):
            pending.skipped += 1
            return
        updates = pending.updates
        for item in items:
            statistic_id = item.get("statisticId") if isinstance(item, dict) else None
            if not isinstance(statistic_id, str) or not statistic_id:
                pending.skipped += 1
                continue
            subscription_id = item.get("subscriptionId")
            updates.append(
                PushUpdate(
                    statistic_id,
                    item.get("value"),
                    item.get("timestamp"),
                    subscription_id if isinstance(subscription_id, str) else None,
                )
            )
    elif channel == SERVICE_CHANNEL:
        state = data.get("serviceState") if isinstance(data, dict) else None
        if isinstance(state, str):
            pending.service_state = clip(state, _ERROR_TEXT)
            # Kept even when a later message in the same batch says Available again.
            pending.interrupted = pending.interrupted or state != SERVICE_AVAILABLE
    else:
        _log.debug("push: ignored a message on another channel")


def _error_code(error: str) -> int | None:
    """The number of a Bayeux error ("402::Unknown client" -> 402), or None."""
    head, separator, _ = error.partition("::")
    return int(head) if separator and head.isdigit() and len(head) <= 4 else None


def _milliseconds(raw: object, cap: float) -> float | None:
    """Advice milliseconds as seconds (capped), or None when absent or nonsense."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if not math.isfinite(raw) or raw < 0:
        return None
    return min(raw / 1000.0, cap)
