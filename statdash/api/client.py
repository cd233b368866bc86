"""StatisticsClient: one httpx.AsyncClient, the five Statistics API v3 operations, retries.

    grant = ClientCredentials(client_id, client_secret)
    async with StatisticsClient("https://gcx.example.com", api_key, auth=grant) as c:
        opened = await c.open_subscription(items)
        peeked = await c.peek_subscription(opened.subscription_id, verbose="OFF")
        await c.delete_subscription(opened.subscription_id)

Every call returns a typed result or raises a `StatisticsError` subclass, nothing else:
requests are validated locally first (`RequestValidationError`, nothing sent), transport
failures and HTTP statuses map onto the tree in `errors.py`, and bodies are read by
`responses.py`. A partial success (some statistics failed) is a result with `errors`, not an
exception. Given a `RetryPolicy` (`retry.py`: capped exponential backoff, full jitter,
`Retry-After` honoured), a call that failed transiently (no answer, 503, 504) is sent again;
without one, each call is a single attempt and the caller retries at its own level, as the
live session does. Repeating is safe for all five operations: reads, DELETE, and opening a
subscription, because the request carries the same operationId every time and the server
treats a re-send as the same subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from statdash import __version__
from statdash.api import bodies, models, responses
from statdash.api.auth import ApiAuth, AuthSource, ClientCredentials, PasswordGrant, StaticToken
from statdash.api.errors import (
    ConfigError,
    ConnectError,
    RequestTimeoutError,
    RequestValidationError,
    ShapeError,
    StatisticsError,
    TransportError,
    clip,
)
from statdash.api.responses import (
    ItemError,
    PeekedResult,
    PeekResult,
    SubscriptionResult,
)
from statdash.api.retry import RetryPolicy, transient

__all__ = [
    "API_PATH",
    "TOKEN_PATH",
    "AuthSource",
    "ClientCredentials",
    "ItemError",
    "PasswordGrant",
    "PeekResult",
    "PeekedResult",
    "RetryPolicy",
    "StaticToken",
    "StatisticsClient",
    "SubscriptionResult",
]

_log = logging.getLogger("statdash.api")

API_PATH = "/statistics/v3"
TOKEN_PATH = "/auth/v3/oauth/token"

DEFAULT_CONNECT_TIMEOUT = 5.0
# Generous: a 50,000-statistic peek is ~12 MB, and the read timeout is per socket read anyway.
DEFAULT_READ_TIMEOUT = 30.0
# A 50,000-statistic peek is ~12 MB; anything past this is a broken or hostile server, and
# reading it whole would only exhaust memory. It bounds the body as decoded (after gzip).
MAX_BODY_BYTES = 256 * 1024 * 1024

_M = TypeVar("_M", bound=BaseModel)
Verify = bool | str | os.PathLike[str] | ssl.SSLContext


class StatisticsClient:
    """An async client of one Statistics API v3 server; use it as an async context manager.

    `server` is the base URL (`https://host[:port][/prefix]`); the API lives under
    `/statistics/v3` and the token endpoint at `/auth/v3/oauth/token` below it. `auth` is
    where bearer tokens come from (None: the API key alone). `verify` is True (verify TLS
    against the system store), False, a CA-bundle path, or an `ssl.SSLContext`. `transport`
    replaces the network (tests), and `clock` is the monotonic clock tokens expire on.
    `retry` repeats calls that failed transiently; None: one attempt per call.
    `total_timeout` bounds each attempt from connect to the body's last byte (default: the
    connect plus the read timeout): httpx's timeouts are per socket operation, so a server
    that drips a byte now and then would otherwise hold a call for ever.
    """

    def __init__(
        self,
        server: str,
        api_key: str | SecretStr,
        *,
        auth: AuthSource | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        total_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        verify: Verify = True,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._server = _normalise_server(server)
        self._auth = ApiAuth(api_key, auth, token_url=self._server + TOKEN_PATH, clock=clock)
        self._retry = retry if retry is not None else RetryPolicy(attempts=1)
        if total_timeout is None:
            total_timeout = connect_timeout + read_timeout
        for name, value in (
            ("connect_timeout", connect_timeout),
            ("read_timeout", read_timeout),
            ("total_timeout", total_timeout),
        ):
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value}")
        self._total_timeout = total_timeout
        if verify is False:
            _log.warning("TLS certificate verification is disabled")
        self._http = httpx.AsyncClient(
            auth=self._auth,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            verify=_ssl_verify(verify, self._server),
            transport=transport,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": bodies.ACCEPT_ENCODING,
                "User-Agent": f"statdash/{__version__}",
            },
            follow_redirects=False,
        )
        self._closed = False
        self._max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        return f"StatisticsClient(server={self._server!r}, auth={self._auth!r})"

    @property
    def server(self) -> str:
        """The normalised server base URL (no trailing slash, no API path)."""
        return self._server

    def redact(self, text: str) -> str:
        """`text` with every secret of this client masked (for server strings in messages)."""
        return self._auth.redact(text)

    async def __aenter__(self) -> StatisticsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; calling it again does nothing."""
        self._closed = True
        await self._http.aclose()

    # --- The five operations --------------------------------------------------------------

    async def open_subscription(
        self,
        items: Sequence[models.SubscriptionItem | Mapping[str, Any]],
        *,
        operation_id: str | None = None,
        verbose: models.Verbose = "INFO",
    ) -> SubscriptionResult:
        """POST /subscriptions: open the statistics; the operationId becomes the subscription id.

        A fresh UUID4 is the operationId unless one is given. The request is validated
        first (exactly one of name/definition, unique statisticIds): a bad one raises
        RequestValidationError and nothing is sent.
        """
        _check_verbose(verbose)
        op_id = str(uuid.uuid4()) if operation_id is None else operation_id
        body = _build(
            models.SubscriptionRequest,
            {"operationId": op_id, "data": {"statistics": _payloads(items, "items")}},
            "subscription request",
        )
        path = "/subscriptions"
        response = await self.request(
            "POST", path, params={"verbose": verbose}, json=body.to_wire()
        )
        return responses.parse_subscription(
            response.content,
            operation_id=op_id,
            where=API_PATH + path,
            scrub=self._auth.redact,
        )

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: models.Verbose = "OFF",
    ) -> PeekResult:
        """GET /subscriptions/{id}/statistic-values: current values (all, or `statistic_ids`)."""
        _check_verbose(verbose)
        params: dict[str, str] = {"verbose": verbose}
        if statistic_ids is not None:
            params["statisticIds"] = _joined_ids(statistic_ids)
        path = f"/subscriptions/{_segment(subscription_id, 'subscription_id')}/statistic-values"
        response = await self.request("GET", path, params=params)
        return responses.parse_peek(
            response.content,
            where=API_PATH + path,
            scrub=self._auth.redact,
        )

    async def delete_subscription(self, subscription_id: str) -> None:
        """DELETE /subscriptions/{id}: close the subscription (the server always agrees)."""
        path = f"/subscriptions/{_segment(subscription_id, 'subscription_id')}"
        response = await self.request("DELETE", path)
        responses.parse_ack(response.content, where=API_PATH + path, scrub=self._auth.redact)

    async def get_statistic_ex(
        self, refs: Sequence[models.PredefinedStatisticRef | Mapping[str, Any]]
    ) -> PeekedResult:
        """POST /operations/get-statistic-ex: predefined statistics' values, no subscription."""
        body = _build(
            models.StatisticExRequest,
            {"data": {"statistics": _payloads(refs, "refs")}},
            "get-statistic-ex request",
        )
        path = "/operations/get-statistic-ex"
        response = await self.request("POST", path, json=body.to_wire())
        return responses.parse_peeked(
            response.content, where=API_PATH + path, scrub=self._auth.redact
        )

    async def get_statistic_value(
        self, name: str, object_id: str, object_type: str
    ) -> models.PeekedStatisticValue:
        """GET /statistic-values/{name}: one predefined statistic of one object."""
        ref = _build(
            models.PredefinedStatisticRef,
            {"name": name, "objectId": object_id, "objectType": object_type},
            "statistic reference",
        )
        path = f"/statistic-values/{_segment(ref.name, 'name')}"
        response = await self.request(
            "GET", path, params={"objectId": ref.object_id, "objectType": ref.object_type}
        )
        return responses.parse_single(
            response.content, where=API_PATH + path, scrub=self._auth.redact
        )

    # --- One call, with retries -----------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        read_timeout: float | None = None,
        once: bool = False,
    ) -> httpx.Response:
        """Send until a 2xx answer (returned) or a final failure (raised as StatisticsError).

        `path` is below `/statistics/v3`. The five operations are built on this, and callers
        should use them; it is public so that benchmarks can time the fetch of a poll apart
        from its parse, and so that the push channel (`push.py`) shares this one HTTP stack,
        its auth and its cookie jar. Every operation of this API is safe to repeat (see the
        module docstring), so every call gets the retry policy; the body is built once, so a
        re-sent subscription keeps its operationId. `once` sends a single attempt whatever
        the policy (a Bayeux exchange follows the server's advice instead), and
        `read_timeout` replaces the client's for this call (a long-poll held open by the
        server for longer than that).
        """
        if self._closed:
            raise StatisticsError("the client is closed")
        where = API_PATH + path
        timeout = None if read_timeout is None else self._timeout_with_read(read_timeout)
        total = self._total_timeout
        if timeout is not None and timeout.connect is not None and timeout.read is not None:
            # A long-poll's own read timeout is longer than the usual total: allow for it.
            total = max(total, timeout.connect + timeout.read)
        attempts = 1 if once else self._retry.attempts
        attempt = 0
        while True:
            attempt += 1
            outcome, retry_after = await self._attempt(method, where, params, json, timeout, total)
            if isinstance(outcome, httpx.Response):
                return outcome
            if not transient(outcome) or attempt >= attempts:
                raise outcome
            delay = self._retry.delay(attempt, retry_after)
            _log.debug(
                "%s %s: %s; retry %d of %d in %.2f s",
                method,
                where,
                type(outcome).__name__,
                attempt,
                attempts - 1,
                delay,
            )
            await self._retry.sleep(delay)

    def _timeout_with_read(self, read_timeout: float) -> httpx.Timeout:
        """The client's timeouts with the read timeout replaced."""
        if not math.isfinite(read_timeout) or read_timeout <= 0:
            raise ConfigError(
                f"read_timeout must be a positive number of seconds, got {read_timeout}"
            )
        base = self._http.timeout
        return httpx.Timeout(
            connect=base.connect, read=read_timeout, write=base.write, pool=base.pool
        )

    async def _attempt(
        self,
        method: str,
        where: str,
        params: Mapping[str, str] | None,
        json: Any,
        timeout: httpx.Timeout | None,
        total: float,
    ) -> tuple[httpx.Response | StatisticsError, float | None]:
        """One try: the 2xx response, or the error with the server's Retry-After (if any).

        The whole try, from connect to the body's last byte, gets `total` seconds.
        """
        started = time.perf_counter()
        url = self._server + where
        try:
            # httpx's own default is the client's timeout, which None would switch off.
            request = (
                self._http.build_request(method, url, params=params, json=json)
                if timeout is None
                else self._http.build_request(
                    method, url, params=params, json=json, timeout=timeout
                )
            )
            async with asyncio.timeout(total):
                try:
                    response = await self._read_limited(request)
                except httpx.RemoteProtocolError:
                    # The server closed a kept-alive connection just as it was reused (idle
                    # timeouts of a few seconds are common: uvicorn's and httpx's are both
                    # 5 s, so a 5 s refresh races them). Nothing was answered, and every
                    # operation here is safe to repeat: send it once more, on a fresh one.
                    _log.debug("%s %s: connection closed under us; sending again", method, where)
                    response = await self._read_limited(request)
        except ShapeError as too_large:
            return too_large, None
        except TimeoutError:
            # A server dripping bytes defeats every per-read timeout; this is the one that
            # holds. Transient like any other unanswered call, so it is retried the same way.
            late = RequestTimeoutError(f"{method} {where}: no complete answer within {total:g} s")
            return late, None
        except Exception as exc:
            error = _no_answer(exc, f"{method} {where}", self._server)
            elapsed = (time.perf_counter() - started) * 1000
            _log.debug("%s %s failed in %.1f ms: %s", method, where, elapsed, type(error).__name__)
            return error, None
        elapsed = (time.perf_counter() - started) * 1000
        _log.debug("%s %s -> %d in %.1f ms", method, where, response.status_code, elapsed)
        if response.is_success:
            return response, None
        error = responses.error_from_response(
            response.status_code,
            response.content,
            where=where,
            reason=response.reason_phrase,
            scrub=self._auth.redact,
        )
        return error, _retry_after(response.headers.get("Retry-After"))

    async def _read_limited(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its body, refusing one larger than `max_body_bytes`
        (declared, streamed or inflated: see `bodies.read_limited`)."""
        response = await self._http.send(request, stream=True)
        return await bodies.read_limited(response, self._max_body_bytes)


# --- Helpers ------------------------------------------------------------------------------


def _normalise_server(server: str) -> str:
    if not isinstance(server, str):
        raise ConfigError("server must be a URL string")
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"not a server URL (want http(s)://host[:port]): {clip(server.strip(), 80)!r}"
        )
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL leak into reprs and logs; they belong in api_key/auth.
        raise ConfigError("the server URL must not contain a user or password")
    if parts.query or parts.fragment:
        raise ConfigError("the server URL must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError("the server URL has an invalid port") from None
    path = parts.path.rstrip("/")
    # Tolerate a URL copied with the API path on it: the client appends it itself.
    path = path.removesuffix(API_PATH)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _ssl_verify(verify: Verify, server: str) -> bool | ssl.SSLContext:
    if verify is True and server.startswith("http://"):
        # A plain-HTTP server is never reached over TLS (no redirects are followed, and the
        # token endpoint is on the same server), so the system trust store, which httpx
        # loads when the client is built (~50 ms of a start), would never be used.
        return False
    if isinstance(verify, bool | ssl.SSLContext):
        return verify
    path = os.fspath(verify)
    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot load CA bundle {path!r}: {reason}") from None


def _no_answer(exc: Exception, what: str, server: str) -> StatisticsError:
    """The StatisticsError for an exception raised while sending (no usable answer came)."""
    error: StatisticsError
    if isinstance(exc, StatisticsError):  # e.g. AuthError from the token endpoint
        return exc
    if isinstance(exc, httpx.TimeoutException):
        error = RequestTimeoutError(f"{what}: no answer in time ({type(exc).__name__})")
    elif isinstance(exc, httpx.ConnectError):
        reason = clip(str(exc), 120)
        error = ConnectError(f"cannot connect to {server}: {reason}", reason=reason)
    elif isinstance(exc, httpx.TransportError):
        # Dropped mid-answer, protocol errors...: still "no answer".
        error = TransportError(f"{what}: {type(exc).__name__}", reason=type(exc).__name__)
    elif isinstance(exc, httpx.DecodingError):
        error = ShapeError(f"{what}: the response could not be decoded")
    else:
        # The contract is "only StatisticsError escapes". Keep the type, not the text (which
        # could quote a header value), and do not chain it for the same reason.
        return StatisticsError(f"{what}: request failed ({type(exc).__name__})")
    # As `raise error from exc` would, for a traceback that shows the httpx error.
    error.__cause__ = exc
    error.__suppress_context__ = True
    return error


def _retry_after(raw: str | None) -> float | None:
    """`Retry-After` in seconds; the HTTP-date form is ignored (backoff applies instead)."""
    if raw is None:
        return None
    try:
        seconds = float(raw.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _check_verbose(verbose: object) -> None:
    if verbose not in ("INFO", "OFF"):
        raise RequestValidationError(
            "request", [f"verbose: must be 'INFO' or 'OFF', got {verbose!r}"]
        )


def _segment(value: object, name: str) -> str:
    """A non-empty string, percent-encoded as one path segment (a '/' cannot escape it)."""
    if not isinstance(value, str) or not value:
        raise RequestValidationError("request", [f"{name}: must be a non-empty string"])
    return quote(value, safe="")


def _joined_ids(statistic_ids: Iterable[str]) -> str:
    if isinstance(statistic_ids, str | bytes):
        raise RequestValidationError(
            "request", ["statistic_ids: must be a list of ids, not one string"]
        )
    ids = list(statistic_ids)
    problems = [
        f"statistic_ids[{index}]: must be a non-empty string without commas"
        for index, item in enumerate(ids)
        if not isinstance(item, str) or not item or "," in item
    ]
    if not ids:
        problems.append("statistic_ids: empty (pass None to peek every statistic)")
    if problems:
        raise RequestValidationError("request", problems)
    return ",".join(ids)


def _payloads(items: Iterable[BaseModel | Mapping[str, Any]], name: str) -> list[Any]:
    """Items as plain data, so the request model re-validates every one of them.

    Model instances are dumped first: pydantic would otherwise accept them as they are,
    including one built with `model_construct` or changed after construction.
    """
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise RequestValidationError("request", [f"{name}: must be a list of statistics"])
    items = list(items)
    kinds = {type(item) for item in items}
    if len(kinds) == 1 and issubclass(model := kinds.pop(), BaseModel):
        # A layout's items, all of one model: dumped in one call (a floor's 10,000 one by
        # one were ~3 times slower); one that cannot be is found by the loop below.
        with contextlib.suppress(Exception):
            dumped: list[Any] = _list_of(model).dump_python(
                items, exclude_none=True, warnings=False
            )
            return dumped
    out: list[Any] = []
    for index, item in enumerate(items):
        if isinstance(item, BaseModel):
            try:
                out.append(item.model_dump(exclude_none=True, warnings=False))
            except Exception:
                raise RequestValidationError(
                    "request", [f"{name}[{index}]: cannot be read as a statistic"]
                ) from None
        else:
            out.append(item)
    return out


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """The adapter that dumps a list of `model` in one call."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _build(model: type[_M], payload: Any, what: str) -> _M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(what, _problems(exc)) from None


def _problems(exc: ValidationError) -> list[str]:
    """Each validation error as `wire.location: reason`, without echoing the input."""
    out: list[str] = []
    for problem in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        out.append(f"{loc.lstrip('.') or 'body'}: {message}")
    return out
