"""Simulated gateway security: x-api-key, OAuth tokens (issue, refresh, revoke), session cookies."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from statdash.sim.config import SimConfig

SESSION_COOKIE = "STATISTICS_SESSIONID"
API_KEY_MESSAGE = "Missing or invalid x-api-key"
BEARER_MESSAGE = "Missing, invalid or expired bearer token"
GRANTS = ("client_credentials", "password", "refresh_token")


@dataclass
class _Token:
    client_id: str
    subject: str
    expires_at: float  # monotonic seconds


@dataclass(frozen=True)
class TokenReply:
    """What the token endpoint answers: HTTP status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def _same(a: str, b: str) -> bool:
    # Constant-time, so the simulator is no worse an example than the real thing.
    return hmac.compare_digest(a.encode(), b.encode())


class Gatekeeper:
    """Checks x-api-key and bearer tokens and runs the OAuth token endpoint.

    Token lifetimes run on a monotonic wall clock, not simulated time: a client's refresh logic
    lives in real time even when the simulated floor is frozen or fast-forwarded. Secrets and
    tokens are never put in a message.
    """

    def __init__(self, config: SimConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self.issued = 0

    def api_key_ok(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries an acceptable x-api-key."""
        key = headers.get("x-api-key", "").strip()
        if not key:
            return False
        return self.config.api_key is None or _same(key, self.config.api_key)

    def bearer_ok(self, headers: Mapping[str, str]) -> bool:
        """Whether the request is authorised: always when tokens are not required."""
        if not self.config.auth_required:
            return True
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        found = self._access.get(token.strip())
        if found is None:
            return False
        if found.expires_at <= self.clock():
            del self._access[token.strip()]
            return False
        return True

    def revoke_all(self) -> int:
        """Forget every access and refresh token; returns how many access tokens there were."""
        count = len(self._access)
        self._access.clear()
        self._refresh.clear()
        return count

    # ------------------------------------------------------------------- token endpoint

    def token(self, headers: Mapping[str, str], body: bytes) -> TokenReply:
        """Answer POST /auth/v3/oauth/token (form-encoded, HTTP Basic client auth)."""
        if not self.api_key_ok(headers):
            return _oauth_error(403, "invalid_request", API_KEY_MESSAGE)
        client_id = self._client(headers)
        if client_id is None:
            reply = _oauth_error(401, "invalid_client", "Client authentication failed")
            reply.headers["WWW-Authenticate"] = 'Basic realm="statdash-sim"'
            return reply
        try:
            form = {
                k: v[-1]
                for k, v in parse_qs(
                    body.decode("utf-8"), keep_blank_values=True, strict_parsing=False
                ).items()
            }
        except (UnicodeDecodeError, ValueError):
            return _oauth_error(400, "invalid_request", "Body must be form-encoded UTF-8")
        grant = form.get("grant_type", "")
        if not grant:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        if grant == "client_credentials":
            return self._issue(client_id, client_id, refresh=None)
        if grant == "password":
            return self._password(client_id, form)
        if grant == "refresh_token":
            old = self._refresh.get(form.get("refresh_token", ""))
            if old is None or old.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "Invalid or revoked refresh token")
            return self._issue(client_id, old.subject, refresh=form["refresh_token"])
        return _oauth_error(
            400, "unsupported_grant_type", f"Supported grant types: {', '.join(GRANTS)}"
        )

    def _client(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, encoded = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, colon, secret = decoded.partition(":")
        if not colon or not client_id:
            return None
        if self.config.client_id is None:
            return client_id  # open simulator: any client may get (unneeded) tokens
        assert self.config.client_secret is not None
        if _same(client_id, self.config.client_id) and _same(secret, self.config.client_secret):
            return client_id
        return None

    def _password(self, client_id: str, form: Mapping[str, str]) -> TokenReply:
        username, password = form.get("username", ""), form.get("password", "")
        tenant, backslash, name = username.partition("\\")
        if not backslash or not tenant or not name:
            return _oauth_error(400, "invalid_grant", "username must look like TENANT\\name")
        if self.config.client_id is None:
            return self._issue(client_id, username, refresh=None)
        expected = self.config.users.get(username)
        if expected is None or not _same(password, expected):
            return _oauth_error(400, "invalid_grant", "Bad username or password")
        return self._issue(client_id, username, refresh=None)

    def _issue(self, client_id: str, subject: str, refresh: str | None) -> TokenReply:
        ttl = self.config.token_ttl
        access = secrets.token_urlsafe(32)
        self._access[access] = _Token(client_id, subject, self.clock() + ttl)
        if refresh is None:
            refresh = secrets.token_urlsafe(32)
            # Refresh tokens do not expire and stay valid after use, until revoked.
            self._refresh[refresh] = _Token(client_id, subject, float("inf"))
        self.issued += 1
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": max(1, round(ttl)),
            "refresh_token": refresh,
            "scope": "*",
        }
        return TokenReply(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _oauth_error(status: int, error: str, description: str) -> TokenReply:
    return TokenReply(
        status, {"error": error, "error_description": description}, {"Cache-Control": "no-store"}
    )


class Sessions:
    """Issues STATISTICS_SESSIONID cookies and remembers which ones it issued."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    def resolve(self, cookie_header: str) -> tuple[str, bool]:
        """The session of a request and whether it is new (so the response must set it)."""
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value in self._known:
                return value, False
        session = secrets.token_hex(16)
        self._known.add(session)
        return session, True

    @property
    def issued(self) -> int:
        """How many distinct sessions have been issued."""
        return len(self._known)


def set_cookie_header(session: str) -> bytes:
    """The Set-Cookie value for a new session."""
    return f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax".encode("latin-1")
