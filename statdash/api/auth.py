"""Credentials on every request: the `x-api-key` header and an OAuth bearer token.

`ApiAuth` is an `httpx.Auth`: it stamps the API key on every request (the token request too),
adds `Authorization: Bearer ...` from a static token or from the OAuth token endpoint
(`POST {server}/auth/v3/oauth/token`, client-credentials or password grant), refreshes the
token shortly before it expires (with the refresh token when one was issued, else the
original grant), and on a 401 fetches a new token once and replays the request once.
Token requests go through the same httpx client (yielded from the auth flow), so they share
its transport, timeouts and cookie jar; an `asyncio.Lock` keeps concurrent requests from
fetching tokens in parallel.

Secrets (API key, client secret, password, tokens) are held as `SecretStr`, masked in every
`repr`, never logged, and scrubbed from any server message by `redact()`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from statdash.api import bodies
from statdash.api.errors import AuthError, ConfigError, clip

_log = logging.getLogger("statdash.api")

# Refresh this long before expiry: the smaller of a minute and a tenth of the token's life,
# so a 1 h token renews a minute early and a 30 s test token still gets 27 s of use.
DEFAULT_REFRESH_MARGIN = 60.0
_MARGIN_FRACTION = 0.1
# Secrets shorter than this are not scrubbed from messages: replacing "ab" everywhere would
# mangle text without protecting anything worth protecting.
_MIN_REDACTED_LENGTH = 4
_MASK = "***"
_RETIRED_TOKENS = 8
# A token reply is a few hundred bytes (a few KB for a JWT); a megabyte is a broken or
# hostile endpoint, refused before it is held.
MAX_TOKEN_BYTES = 1 << 20


def _secret(field: str, value: str | SecretStr) -> SecretStr:
    secret = value if isinstance(value, SecretStr) else SecretStr(value)
    raw = secret.get_secret_value()
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{field} must be a non-empty string")
    return secret


def _header_safe(value: str) -> bool:
    """Printable ASCII only: anything else cannot travel in an HTTP header (or would split it)."""
    return value.isascii() and value.isprintable()


class StaticToken:
    """A bearer token obtained elsewhere; it is sent as is and never refreshed."""

    __slots__ = ("token",)

    def __init__(self, token: str | SecretStr) -> None:
        self.token = _secret("token", token)
        if not _header_safe(self.token.get_secret_value()):
            raise ConfigError("token must be printable ASCII")

    def __repr__(self) -> str:
        return f"StaticToken(token='{_MASK}')"


class ClientCredentials:
    """OAuth client-credentials grant: the dashboard's own service account."""

    __slots__ = ("client_id", "client_secret", "scope")
    grant_type = "client_credentials"

    def __init__(self, client_id: str, client_secret: str | SecretStr, *, scope: str = "*") -> None:
        if not client_id:
            raise ConfigError("client_id must be a non-empty string")
        self.client_id = client_id
        self.client_secret = _secret("client_secret", client_secret)
        self.scope = scope

    def form(self) -> dict[str, str]:
        """The grant's form fields (client authentication goes in the Basic header)."""
        return {"grant_type": self.grant_type, "scope": self.scope}

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret='{_MASK}')"


class PasswordGrant:
    """OAuth password grant for a supervisor's own login; `username` is `TENANT\\user`."""

    __slots__ = ("client_id", "client_secret", "password", "scope", "username")
    grant_type = "password"

    def __init__(
        self,
        client_id: str,
        client_secret: str | SecretStr,
        username: str,
        password: str | SecretStr,
        *,
        scope: str = "*",
    ) -> None:
        if not client_id:
            raise ConfigError("client_id must be a non-empty string")
        if not username:
            raise ConfigError("username must be a non-empty string (TENANT\\user)")
        self.client_id = client_id
        self.client_secret = _secret("client_secret", client_secret)
        self.username = username
        self.password = _secret("password", password)
        self.scope = scope

    def form(self) -> dict[str, str]:
        """The grant's form fields (client authentication goes in the Basic header)."""
        return {
            "grant_type": self.grant_type,
            "username": self.username,
            "password": self.password.get_secret_value(),
            "scope": self.scope,
        }

    def __repr__(self) -> str:
        return (
            f"PasswordGrant(client_id={self.client_id!r}, client_secret='{_MASK}', "
            f"username={self.username!r}, password='{_MASK}')"
        )


OAuthGrant = ClientCredentials | PasswordGrant
AuthSource = StaticToken | ClientCredentials | PasswordGrant


@dataclass(frozen=True, slots=True)
class _Token:
    access: SecretStr
    refresh: SecretStr | None
    refresh_at: float | None  # on the auth's monotonic clock; None: lifetime unknown, rely on 401


class ApiAuth(httpx.Auth):
    """`x-api-key` on every request plus a bearer token from `source` (none, static or OAuth)."""

    def __init__(
        self,
        api_key: str | SecretStr,
        source: AuthSource | None = None,
        *,
        token_url: str,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self._api_key = _secret("api_key", api_key)
        if not _header_safe(self._api_key.get_secret_value()):
            raise ConfigError("api_key must be printable ASCII")
        self._source = source
        self._token_url = token_url
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._token: _Token | None = None
        # Replaced tokens are still scrubbed from messages for a while (a late echo).
        self._retired: deque[SecretStr] = deque(maxlen=_RETIRED_TOKENS)
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ApiAuth(api_key='{_MASK}', source={self._source!r})"

    @property
    def source(self) -> AuthSource | None:
        """Where bearer tokens come from (None: API key only)."""
        return self._source

    def redact(self, text: str) -> str:
        """`text` with every secret this auth knows replaced by a mask (for server messages)."""
        for secret in self._secrets():
            if len(secret) >= _MIN_REDACTED_LENGTH and secret in text:
                text = text.replace(secret, _MASK)
        return text

    def _secrets(self) -> list[str]:
        found = [self._api_key.get_secret_value()]
        source = self._source
        if isinstance(source, StaticToken):
            found.append(source.token.get_secret_value())
        elif source is not None:
            found.append(source.client_secret.get_secret_value())
            found.append(self._basic(source).removeprefix("Basic "))
            if isinstance(source, PasswordGrant):
                found.append(source.password.get_secret_value())
        token = self._token
        if token is not None:
            found.append(token.access.get_secret_value())
            if token.refresh is not None:
                found.append(token.refresh.get_secret_value())
        found.extend(old.get_secret_value() for old in self._retired)
        return found

    def _store(self, token: _Token) -> None:
        old = self._token
        if old is not None:
            self._retired.append(old.access)
            if old.refresh is not None and old.refresh is not token.refresh:
                self._retired.append(old.refresh)
        self._token = token

    # --- The flow -------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Not supported: the token lock and refresh are asyncio-only."""
        raise RuntimeError("ApiAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Stamp the key and token, send, and on a 401 renew the token and replay once."""
        request.headers["x-api-key"] = self._api_key.get_secret_value()
        source = self._source
        if source is None:
            yield request
            return
        if isinstance(source, StaticToken):
            # Nothing to renew: a 401 reaches the caller as AuthenticationError.
            request.headers["Authorization"] = f"Bearer {source.token.get_secret_value()}"
            yield request
            return
        used: _Token | None = None
        for replay in (False, True):
            async with self._lock:
                current = self._token
                # On the replay, renew only if no other request renewed it while this one waited.
                stale = current is used if replay else current is None or self._due(current)
                if stale:
                    # Delegate to the token steps (`yield from`, which async generators lack).
                    steps = self._fetch(source, current)
                    try:
                        token_request = await anext(steps)
                        while True:
                            token_response = yield token_request
                            try:
                                token_request = await steps.asend(token_response)
                            except StopAsyncIteration:
                                break
                    finally:
                        await steps.aclose()
                used = self._token
            if used is None:  # unreachable: a fetch either stored a token or raised
                raise AuthError("no bearer token available")
            request.headers["Authorization"] = f"Bearer {used.access.get_secret_value()}"
            response = yield request
            if response.status_code != httpx.codes.UNAUTHORIZED or replay:
                return
            _log.debug("HTTP 401 with a bearer token; renewing it and replaying once")

    def _due(self, token: _Token) -> bool:
        return token.refresh_at is not None and self._clock() >= token.refresh_at

    async def _fetch(
        self, grant: OAuthGrant, current: _Token | None
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Token requests to send (yielded) until one succeeds; stores the token or raises."""
        if current is not None and current.refresh is not None:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": current.refresh.get_secret_value(),
                "scope": grant.scope,
            }
            response = yield self._token_request(grant, form)
            await bodies.read_small(response, MAX_TOKEN_BYTES)
            try:
                self._store(self._read_token(response, "refresh_token", previous=current))
                return
            except AuthError as exc:
                # A revoked or expired refresh token is routine: start over with the grant.
                _log.debug("refresh grant failed (%s); using the %s grant", exc, grant.grant_type)
        response = yield self._token_request(grant, grant.form())
        await bodies.read_small(response, MAX_TOKEN_BYTES)
        self._store(self._read_token(response, grant.grant_type, previous=None))

    @staticmethod
    def _basic(grant: OAuthGrant) -> str:
        pair = f"{grant.client_id}:{grant.client_secret.get_secret_value()}"
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def _token_request(self, grant: OAuthGrant, form: dict[str, str]) -> httpx.Request:
        _log.debug(
            "token request: POST %s (%s grant)", httpx.URL(self._token_url).path, form["grant_type"]
        )
        return httpx.Request(
            "POST",
            self._token_url,
            headers={
                "x-api-key": self._api_key.get_secret_value(),
                "Authorization": self._basic(grant),
                "Accept": "application/json",
                "Accept-Encoding": "identity",
            },
            data=form,
        )

    def _read_token(
        self, response: httpx.Response, grant: str, *, previous: _Token | None
    ) -> _Token:
        status = response.status_code
        if not 200 <= status < 300:
            raise AuthError(
                self.redact(f"token request ({grant} grant) refused: HTTP {status}")
                + self.redact(_oauth_error(response.content)),
                http_status=status,
            )
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):
            raise AuthError(
                f"token endpoint answered HTTP {status} with a body that is not JSON",
                http_status=status,
            ) from None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access or not _header_safe(access):
            raise AuthError(
                f"token endpoint answered HTTP {status} without a usable access_token",
                http_status=status,
            )
        refresh_raw = body.get("refresh_token")
        if isinstance(refresh_raw, str) and refresh_raw:
            refresh: SecretStr | None = SecretStr(refresh_raw)
        else:
            # RFC 6749 6: when no new refresh token comes, the previous one stays valid.
            refresh = previous.refresh if previous is not None else None
        ttl = _ttl(body.get("expires_in"))
        now = self._clock()
        refresh_at = None
        if ttl is not None:
            refresh_at = now + ttl - min(self._refresh_margin, ttl * _MARGIN_FRACTION)
        _log.debug(
            "token request (%s grant) -> HTTP %d, valid for %s",
            grant,
            status,
            "an unknown time" if ttl is None else f"{ttl:.0f} s",
        )
        return _Token(access=SecretStr(access), refresh=refresh, refresh_at=refresh_at)


def _ttl(raw: object) -> float | None:
    """`expires_in` as positive finite seconds, or None when absent or nonsense."""
    if isinstance(raw, bool):
        return None
    if not isinstance(raw, int | float | str):
        return None
    try:
        number = float(raw)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _oauth_error(content: bytes) -> str:
    """`: error: description` from an OAuth error body, or "" when there is none."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [
        text
        for text in (body.get("error"), body.get("error_description"))
        if isinstance(text, str) and text
    ]
    return clip(": " + ": ".join(parts)) if parts else ""
