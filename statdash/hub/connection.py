"""A NATS connection from the hub settings, and NATS failures in the Statistics API's terms.

Both sides of the hub (the collector and a dashboard's client) connect here, so credentials,
TLS, reconnection and logging are set once: reconnect for ever once connected (a restarted
nats-server loses no hub and no dashboard), one quiet log line per connection event (nats-py's
default prints a traceback), and no secret in any message. A failure of a NATS operation
becomes the `StatisticsError` a server fault would (`ConnectError`, `RequestTimeoutError`),
so the live session retries and the status line words it the way it words any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NatsClient

from statdash.api import errors
from statdash.api.settings import HubSettings, host_label

log = logging.getLogger("statdash.hub")

CONNECT_TIMEOUT = 2.0
# Reconnect attempts are spaced by this; -1 attempts: for ever (a dashboard runs all shift).
RECONNECT_WAIT = 1.0
# Requests the hub answers from memory; a declare may wait for an upstream subscribe.
REQUEST_TIMEOUT = 5.0
# The first connect is tried twice, this far apart: nats-py itself would try a server that
# refuses for ever (max_reconnect_attempts -1 holds for the first connect too), so a dead
# NATS URL would hang the command instead of failing it. Bounding the attempts (rather than
# cancelling a connect in its loop) leaves no half-made client behind.
FIRST_CONNECT_RETRY = 0.1


def _tls(settings: HubSettings) -> ssl.SSLContext | None:
    if settings.ca_bundle is None and not settings.url.lower().startswith("tls://"):
        return None
    context = ssl.create_default_context(cafile=settings.ca_bundle)
    return context


class _Errors:
    """nats-py's error callback: one quiet line per error once connected (its default logs
    each with a traceback: a restarted server, dozens); before that, the last one is kept
    for the first connect's failure to name."""

    def __init__(self) -> None:
        self.connected = False
        self.last: Exception | None = None

    async def report(self, error: Exception) -> None:
        """Keep `error`; log it once connected."""
        self.last = error
        if self.connected:
            log.info("nats: %s", describe_nats(error))


async def connect(
    settings: HubSettings,
    *,
    name: str,
    on_reconnected: Callable[[], Awaitable[None]] | None = None,
    on_disconnected: Callable[[], Awaitable[None]] | None = None,
) -> NatsClient:
    """A connected NATS client for `settings`; ConnectError when the server cannot be reached.

    `name` shows in the NATS server's monitoring (`statdash hub`, `statdash run`).
    """
    seen = _Errors()
    options: dict[str, Any] = {
        "servers": [settings.url],
        "name": name,
        "connect_timeout": CONNECT_TIMEOUT,
        "reconnect_time_wait": FIRST_CONNECT_RETRY,
        "max_reconnect_attempts": 1,
        "allow_reconnect": False,
        "error_cb": seen.report,
    }
    if on_reconnected is not None:
        options["reconnected_cb"] = on_reconnected
    if on_disconnected is not None:
        options["disconnected_cb"] = on_disconnected
    if settings.token is not None:
        options["token"] = settings.token.get_secret_value()
    if settings.user is not None:
        options["user"] = settings.user
        if settings.password is not None:
            options["password"] = settings.password.get_secret_value()
    if settings.creds is not None:
        options["user_credentials"] = settings.creds
    tls = _tls(settings)
    if tls is not None:
        options["tls"] = tls
    try:
        # The caller's session retries a failed first connect on its own schedule.
        client = await nats.connect(**options)
    except (nats.errors.Error, OSError, TimeoutError) as error:
        raise errors.ConnectError(
            f"cannot reach NATS at {host_label(settings.url)}",
            reason=describe_nats(seen.last or error),
        ) from None
    seen.connected = True
    # Connected: reconnect for ever from now on (nats-py reads these at each disconnection).
    client.options["allow_reconnect"] = True
    client.options["max_reconnect_attempts"] = -1
    client.options["reconnect_time_wait"] = RECONNECT_WAIT
    return client


def describe_nats(error: BaseException) -> str:
    """A few words for a NATS failure (never a credential: nats-py's messages carry none)."""
    if isinstance(error, nats.errors.NoRespondersError):
        return "no hub answers on this namespace"
    if isinstance(error, nats.errors.TimeoutError | TimeoutError):
        return "no answer in time"
    if isinstance(error, nats.errors.NoServersError):
        return "no NATS server reachable"
    if isinstance(error, nats.errors.AuthorizationError) or "authorization violation" in (
        str(error).lower()
    ):
        # nats-py raises a plain Error for the server's "Authorization Violation".
        return "NATS refused the credentials"
    if isinstance(error, nats.errors.ConnectionClosedError):
        return "the NATS connection is closed"
    if isinstance(error, nats.errors.ConnectionReconnectingError):
        return "reconnecting to NATS"
    if isinstance(error, nats.errors.MaxPayloadError):
        return "message larger than the NATS server's max_payload"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    text = str(error).strip() or type(error).__name__
    return text[:200]


def as_statistics_error(error: BaseException, what: str) -> errors.StatisticsError:
    """A NATS failure of `what` (a request to the hub) as the error a server fault would be."""
    reason = describe_nats(error)
    if isinstance(error, nats.errors.TimeoutError | TimeoutError):
        return errors.RequestTimeoutError(f"{what}: {reason}", reason=reason)
    if isinstance(error, nats.errors.AuthorizationError):
        return errors.PermissionDeniedError(403, reason, path="hub")
    return errors.ConnectError(f"{what}: {reason}", reason=reason)


NATS_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, OSError, TimeoutError)
"""What a NATS operation may raise for a fault of the network or the server."""


async def confirm(client: NatsClient, timeout: float = REQUEST_TIMEOUT) -> None:
    """Return once the server has read all that `client` sent so far: its new subscriptions
    are in force, and a message published after this, by anyone, reaches them.

    A flush, twice. nats-py (2.16.0) writes a flush's PING to the socket at once, but a SUB
    just made waits in its buffer for the flusher task's next turn: the server could answer
    the PING before it read the SUB, and a heartbeat or a change published right after was
    lost (seen in the hub's tests about one run in four on a busy machine). By the first
    PONG the flusher has written the SUB, so the second PING goes out behind it.

    Each flush is shielded: nats-py leaves the PONG's future of a cancelled flush in its
    queue, and the PONG then ends the connection's read loop (an InvalidStateError it only
    logs), a connection that says it is connected and never reads again. A flush that
    was cancelled (a layout reload, a stop) runs on to its PONG instead.
    """
    for _ in range(2):
        await asyncio.shield(client.flush(timeout=math.ceil(timeout)))


@contextlib.asynccontextmanager
async def connected(settings: HubSettings, *, name: str) -> AsyncIterator[NatsClient]:
    """A connection for the `async with` block, drained (or closed) on the way out."""
    client = await connect(settings, name=name)
    try:
        yield client
    finally:
        await close(client)


async def close(client: NatsClient) -> None:
    """Close `client` (bounded, never raises): what is published is flushed first."""
    with contextlib.suppress(*NATS_ERRORS):
        if client.is_connected:
            await client.flush(timeout=1)
    with contextlib.suppress(*NATS_ERRORS):
        await client.close()
