"""Shared pieces of the client tests: envelopes, a scripted fake server, a client factory."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import httpx

from statdash.api.auth import AuthSource
from statdash.api.client import RetryPolicy, StatisticsClient

SERVER = "http://127.0.0.1:8080"
API = SERVER + "/statistics/v3"
TOKEN_URL = SERVER + "/auth/v3/oauth/token"

# Distinctive values, so a leak anywhere is found by a plain substring search.
API_KEY = "apikey-SECRET-4f1c9a"
CLIENT_ID = "statdash-client"
CLIENT_SECRET = "clientsecret-SECRET-8e2b7d"
USERNAME = "ACME\\supervisor"
PASSWORD = "password-SECRET-3a6c1f"
STATIC_TOKEN = "statictoken-SECRET-9d4e2a"
ALL_SECRETS = (API_KEY, CLIENT_SECRET, PASSWORD, STATIC_TOKEN)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]

ITEM = {
    "statisticId": "a1",
    "objectId": "jsmith",
    "objectType": "Agent",
    "name": "CurrentAgentState",
}
REF = {"objectId": "jsmith", "objectType": "Agent", "name": "CurrentAgentState"}
PEEKED = {
    "name": "CurrentAgentState",
    "objectId": "jsmith",
    "objectType": "Agent",
    "timestamp": 1_700_000_000_000,
    "value": {"intValue": 3},
}

Operation = Callable[[StatisticsClient], Awaitable[Any]]
# One call of each of the five operations, for tests that must hold for all of them.
OPERATIONS: dict[str, Operation] = {
    "open": lambda c: c.open_subscription([ITEM], operation_id="op-1"),
    "peek": lambda c: c.peek_subscription("op-1"),
    "delete": lambda c: c.delete_subscription("op-1"),
    "ex": lambda c: c.get_statistic_ex([REF]),
    "single": lambda c: c.get_statistic_value("CurrentAgentState", "jsmith", "Agent"),
}
# The operations whose answer must carry data (DELETE's need not).


def envelope(
    data: Any = None,
    *,
    code: int = 0,
    message: str | None = None,
    errors: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Statistics API envelope (keys left out when None)."""
    body: dict[str, Any] = {"status": {"code": code}}
    if message is not None:
        body["status"]["message"] = message
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = list(errors)
    return body


def stat(statistic_id: str, number: int = 1, **extra: Any) -> dict[str, Any]:
    """One StatisticValue as the server sends it (verbose=OFF unless extra fields are given)."""
    return {
        "statisticId": statistic_id,
        "timestamp": 1_700_000_000_000,
        "value": {"intValue": number, "stringValue": str(number), "timestamp": 1_700_000_000_000},
        **extra,
    }


def item_error(code: int, message: str | None = None, **detail: Any) -> dict[str, Any]:
    """One entry of `errors[]`."""
    status: dict[str, Any] = {"code": code}
    if message is not None:
        status["message"] = message
    if detail:
        status["detail"] = detail
    return {"status": status}


def respond(status: int = 200, body: Any = None, **kwargs: Any) -> httpx.Response:
    """A response whose body is `body` as JSON, or raw when bytes."""
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, **kwargs)
    return httpx.Response(status, json=body if body is not None else envelope(), **kwargs)


def form(request: httpx.Request) -> dict[str, str]:
    """The form fields of a token request."""
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def basic(client_id: str, secret: str) -> str:
    """The Basic authorization header value for a client id and secret."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class TokenIssuer:
    """The OAuth endpoint of the fake server: numbered tokens, revocable, grants recorded."""

    def __init__(self, *, expires_in: float | None = 3600, refresh: bool = True) -> None:
        self.expires_in = expires_in
        self.refresh = refresh
        self.issued = 0
        self.valid: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.grants: list[dict[str, str]] = []
        # `script` answers come first, one per request; `answer`, when set, answers every other.
        self.script: list[httpx.Response] = []
        self.answer: Callable[[httpx.Request], httpx.Response] | None = None

    def revoke_all(self) -> None:
        """Invalidate every access and refresh token issued so far."""
        self.valid.clear()
        self.refresh_tokens.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fields = form(request)
        self.grants.append(fields)
        if self.script:
            return self.script.pop(0)
        if self.answer is not None:
            return self.answer(request)
        if request.headers.get("authorization") != basic(CLIENT_ID, CLIENT_SECRET):
            return httpx.Response(401, json={"error": "invalid_client"})
        if (
            fields.get("grant_type") == "refresh_token"
            and fields.get("refresh_token") not in self.refresh_tokens
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.issued += 1
        token = f"access-{self.issued}"
        self.valid.add(token)
        body: dict[str, Any] = {"access_token": token, "token_type": "bearer", "scope": "*"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.refresh:
            body["refresh_token"] = f"refresh-{self.issued}"
            self.refresh_tokens.add(body["refresh_token"])
        return httpx.Response(200, json=body)


class FakeServer:
    """A MockTransport handler that records every request and routes token requests apart.

    `api` answers API requests: a handler, or a list of responses served in order (the last
    one repeats). With `require_token`, an API request without a currently valid bearer
    token gets a 401 before `api` sees it.
    """

    def __init__(
        self,
        api: Handler | list[httpx.Response] | None = None,
        *,
        tokens: TokenIssuer | None = None,
        require_token: bool = False,
    ) -> None:
        self.requests: list[httpx.Request] = []
        self.tokens = tokens if tokens is not None else TokenIssuer()
        self.require_token = require_token
        if api is None:
            api = [respond()]
        self._api = api

    @property
    def api_requests(self) -> list[httpx.Request]:
        """Requests to the Statistics API (token requests left out)."""
        return [r for r in self.requests if r.url.path.startswith("/statistics/v3")]

    @property
    def token_requests(self) -> list[httpx.Request]:
        """Requests to the token endpoint."""
        return [r for r in self.requests if r.url.path == "/auth/v3/oauth/token"]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: the auth flow replays a request by changing its headers in place.
        request = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.content
        )
        self.requests.append(request)
        # Yield to the loop as a network round trip would, so concurrent callers interleave.
        await asyncio.sleep(0)
        if request.url.path == "/auth/v3/oauth/token":
            return self.tokens(request)
        if self.require_token:
            header = request.headers.get("authorization", "")
            if header.removeprefix("Bearer ") not in self.tokens.valid:
                return httpx.Response(401, json=envelope(code=401, message="token expired"))
        if isinstance(self._api, list):
            index = min(len(self.api_requests) - 1, len(self._api) - 1)
            return self._api[index]
        answer = self._api(request)
        if isinstance(answer, httpx.Response):
            return answer
        return await answer


class Sleeps:
    """An injectable `sleep` that records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(
    server: FakeServer | Handler,
    *,
    auth: AuthSource | None = None,
    retry: RetryPolicy | None = None,
    sleeps: Sleeps | None = None,
    **kwargs: Any,
) -> StatisticsClient:
    """A client on a MockTransport, with retries that record their delays instead of sleeping."""
    if retry is None:
        retry = RetryPolicy(sleep=sleeps if sleeps is not None else Sleeps(), random=lambda: 0.5)

    async def handle(request: httpx.Request) -> httpx.Response:
        answer = server(request)
        return answer if isinstance(answer, httpx.Response) else await answer

    return StatisticsClient(
        SERVER,
        API_KEY,
        auth=auth,
        retry=retry,
        transport=httpx.MockTransport(handle),
        **kwargs,
    )


def body_of(request: httpx.Request) -> Any:
    """The JSON body of a recorded request."""
    return json.loads(request.content)
