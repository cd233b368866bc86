"""Auth: the API key, bearer tokens from the OAuth endpoint, refresh, 401 replay, no leaks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from statdash.api import errors
from statdash.api.auth import ApiAuth, AuthSource, ClientCredentials, PasswordGrant, StaticToken
from statdash.api.client import RetryPolicy
from tests.api.support import (
    ALL_SECRETS,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    STATIC_TOKEN,
    TOKEN_URL,
    USERNAME,
    FakeServer,
    Sleeps,
    TokenIssuer,
    basic,
    envelope,
    form,
    make_client,
    respond,
)

PEEK_OK = respond(200, envelope({"statistics": []}))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def credentials() -> ClientCredentials:
    """The client-credentials grant the fake token endpoint accepts."""
    return ClientCredentials(CLIENT_ID, CLIENT_SECRET)


def bearer(request: httpx.Request) -> str | None:
    """The bearer token a request carried, if any."""
    header = request.headers.get("authorization")
    return header.removeprefix("Bearer ") if header else None


# --- Grants and headers ------------------------------------------------------------------


async def test_client_credentials_grant_is_fetched_once_and_reused() -> None:
    """The first call fetches a token (form + Basic + x-api-key); later calls reuse it."""
    server = FakeServer([PEEK_OK], require_token=True)
    async with make_client(server, auth=credentials()) as client:
        for _ in range(3):
            await client.peek_subscription("s")
    (token_request,) = server.token_requests
    assert str(token_request.url) == TOKEN_URL and token_request.method == "POST"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_request.headers["authorization"] == basic(CLIENT_ID, CLIENT_SECRET)
    assert token_request.headers["x-api-key"] == API_KEY
    assert form(token_request) == {"grant_type": "client_credentials", "scope": "*"}
    assert [bearer(r) for r in server.api_requests] == ["access-1"] * 3
    assert all(r.headers["x-api-key"] == API_KEY for r in server.api_requests)


async def test_password_grant_sends_tenant_user_and_password() -> None:
    """The password grant posts username as TENANT\\user, the password and scope=*."""
    server = FakeServer([PEEK_OK], require_token=True)
    grant = PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD)
    async with make_client(server, auth=grant) as client:
        await client.peek_subscription("s")
    assert form(server.token_requests[0]) == {
        "grant_type": "password",
        "username": "ACME\\supervisor",
        "password": PASSWORD,
        "scope": "*",
    }
    assert bearer(server.api_requests[0]) == "access-1"


async def test_static_token_is_sent_without_token_requests() -> None:
    """A static token goes out as the bearer token; the token endpoint is never called."""
    server = FakeServer([PEEK_OK])
    async with make_client(server, auth=StaticToken(STATIC_TOKEN)) as client:
        await client.peek_subscription("s")
    assert server.token_requests == [] and bearer(server.api_requests[0]) == STATIC_TOKEN


async def test_static_token_rejected_is_an_authentication_error_at_once() -> None:
    """A 401 to a static token raises AuthenticationError after a single request."""
    server = FakeServer([respond(401, envelope(code=401, message="token expired"))])
    async with make_client(server, auth=StaticToken(STATIC_TOKEN)) as client:
        with pytest.raises(errors.AuthenticationError, match="token expired"):
            await client.peek_subscription("s")
    assert len(server.api_requests) == 1


# --- Expiry and refresh ------------------------------------------------------------------


async def test_token_is_refreshed_a_minute_before_expiry_with_the_refresh_token() -> None:
    """An hour-long token is renewed (refresh_token grant) once less than 60 s remain."""
    clock = Clock()
    server = FakeServer([PEEK_OK], require_token=True)
    async with make_client(server, auth=credentials(), clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 3539
        await client.peek_subscription("s")
        assert len(server.token_requests) == 1
        clock.now += 2
        await client.peek_subscription("s")
    assert len(server.token_requests) == 2
    assert form(server.token_requests[1]) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "scope": "*",
    }
    assert [bearer(r) for r in server.api_requests] == ["access-1", "access-1", "access-2"]


async def test_short_token_is_refreshed_at_nine_tenths_of_its_life() -> None:
    """A 30 s token is renewed after 27 s (10% margin), not 60 s before expiry."""
    clock = Clock()
    server = FakeServer([PEEK_OK], tokens=TokenIssuer(expires_in=30), require_token=True)
    async with make_client(server, auth=credentials(), clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 26.9
        await client.peek_subscription("s")
        assert len(server.token_requests) == 1
        clock.now += 0.2
        await client.peek_subscription("s")
    assert len(server.token_requests) == 2


async def test_refused_refresh_falls_back_to_the_original_grant() -> None:
    """When the refresh token is refused, the client credentials grant is used again."""
    clock = Clock()
    server = FakeServer([PEEK_OK], require_token=True)
    async with make_client(server, auth=credentials(), clock=clock) as client:
        await client.peek_subscription("s")
        server.tokens.refresh_tokens.clear()
        clock.now += 4000
        await client.peek_subscription("s")
    grants = [form(r)["grant_type"] for r in server.token_requests]
    assert grants == ["client_credentials", "refresh_token", "client_credentials"]
    assert bearer(server.api_requests[-1]) == "access-2"


async def test_without_refresh_token_the_original_grant_renews() -> None:
    """A token endpoint that issues no refresh token is asked with the original grant again."""
    clock = Clock()
    server = FakeServer([PEEK_OK], tokens=TokenIssuer(refresh=False), require_token=True)
    grant = PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD)
    async with make_client(server, auth=grant, clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 4000
        await client.peek_subscription("s")
    assert [form(r)["grant_type"] for r in server.token_requests] == ["password", "password"]


async def test_token_without_expires_in_is_kept_until_a_401() -> None:
    """With no expires_in, the token is used until the API rejects it, then renewed once."""
    clock = Clock()
    server = FakeServer([PEEK_OK], tokens=TokenIssuer(expires_in=None), require_token=True)
    async with make_client(server, auth=credentials(), clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 10**6
        await client.peek_subscription("s")
        assert len(server.token_requests) == 1
        server.tokens.revoke_all()
        await client.peek_subscription("s")
    assert len(server.token_requests) == 3  # refused refresh, then the original grant


# --- 401: renew once, replay once ---------------------------------------------------------


async def test_401_renews_the_token_and_replays_the_request_once() -> None:
    """A revoked token makes the client fetch a new one and replay; the caller sees success."""
    server = FakeServer([PEEK_OK], require_token=True)
    async with make_client(server, auth=credentials()) as client:
        await client.peek_subscription("s")
        server.tokens.revoke_all()
        result = await client.peek_subscription("s")
    assert result.statistics == ()
    assert [bearer(r) for r in server.api_requests] == ["access-1", "access-1", "access-2"]
    assert len(server.token_requests) == 3  # initial, refused refresh, fresh grant


async def test_401_replay_resends_the_same_post_body() -> None:
    """A POST rejected with 401 is replayed with the same body (and operationId)."""
    server = FakeServer([respond(200, envelope({"statistics": []}))], require_token=True)
    item = {"statisticId": "a1", "objectId": "jsmith", "objectType": "Agent", "name": "N"}
    async with make_client(server, auth=credentials()) as client:
        await client.peek_subscription("s")
        server.tokens.revoke_all()
        await client.open_subscription([item], operation_id="op-7")
    rejected, replayed = server.api_requests[1:]
    assert (bearer(rejected), bearer(replayed)) == ("access-1", "access-2")
    assert rejected.content == replayed.content and b'"operationId":"op-7"' in replayed.content


async def test_second_401_is_an_authentication_error() -> None:
    """If the replay with a fresh token is rejected too, AuthenticationError is raised."""
    server = FakeServer([respond(401, envelope(code=401, message="no access to this tenant"))])
    async with make_client(server, auth=credentials()) as client:
        with pytest.raises(errors.AuthenticationError, match="no access to this tenant"):
            await client.peek_subscription("s")
    # The initial grant, then the renewal (by refresh token) before the one replay.
    assert len(server.api_requests) == 2 and len(server.token_requests) == 2


async def test_concurrent_requests_fetch_one_token() -> None:
    """Ten calls started together share a single token request."""
    server = FakeServer([PEEK_OK], require_token=True)
    original = server.tokens.__call__

    async def slow_tokens(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # lets every caller reach the lock while the fetch runs
        return original(request)

    transport_server = _Routed(server, slow_tokens)
    async with make_client(transport_server, auth=credentials()) as client:
        await asyncio.gather(*(client.peek_subscription("s") for _ in range(10)))
    assert len(server.token_requests) == 1 and len(server.api_requests) == 10


async def test_concurrent_401s_renew_the_token_once() -> None:
    """Ten calls rejected together after a revocation trigger one renewal between them."""
    server = FakeServer([PEEK_OK], tokens=TokenIssuer(refresh=False), require_token=True)
    async with make_client(server, auth=credentials()) as client:
        await client.peek_subscription("s")
        server.tokens.revoke_all()
        await asyncio.gather(*(client.peek_subscription("s") for _ in range(10)))
    assert len(server.token_requests) == 2


class _Routed:
    """A FakeServer whose token requests go to an async handler instead."""

    def __init__(self, server: FakeServer, tokens: Any) -> None:
        self.server = server
        self.tokens = tokens

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/v3/oauth/token":
            self.server.requests.append(request)
            response: httpx.Response = await self.tokens(request)
            return response
        return await self.server(request)


# --- Token endpoint failures --------------------------------------------------------------

TOKEN_FAILURES = {
    "oauth error": (
        httpx.Response(401, json={"error": "invalid_client", "error_description": "Bad client"}),
        "HTTP 401: invalid_client: Bad client",
    ),
    "html": (httpx.Response(502, content=b"<html>bad gateway</html>"), "HTTP 502"),
    "not json": (httpx.Response(200, content=b"access_token=abc"), "not JSON"),
    "no access_token": (httpx.Response(200, json={"token_type": "bearer"}), "access_token"),
    "numeric access_token": (httpx.Response(200, json={"access_token": 12}), "access_token"),
    "header-breaking token": (
        httpx.Response(200, json={"access_token": "abc\r\nX-Evil: 1"}),
        "access_token",
    ),
    "json array": (httpx.Response(200, json=[1]), "access_token"),
}


@pytest.mark.parametrize("case", list(TOKEN_FAILURES), ids=list(TOKEN_FAILURES))
async def test_token_endpoint_failure_is_an_auth_error(case: str) -> None:
    """A refusal or unusable answer from the token endpoint raises AuthError; no API call."""
    answer, expected = TOKEN_FAILURES[case]
    server = FakeServer([PEEK_OK])
    server.tokens.answer = lambda request: answer
    async with make_client(server, auth=credentials()) as client:
        with pytest.raises(errors.AuthError) as caught:
            await client.peek_subscription("s")
    assert expected in str(caught.value)
    assert server.api_requests == []


async def test_unreachable_token_endpoint_is_a_connect_error_and_retried() -> None:
    """A connection failure on the token request is a ConnectError, retried like any other."""
    attempts: list[int] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/v3/oauth/token":
            attempts.append(1)
            raise httpx.ConnectError("refused")
        return PEEK_OK

    sleeps = Sleeps()
    async with make_client(answer, auth=credentials(), sleeps=sleeps) as client:
        with pytest.raises(errors.ConnectError):
            await client.peek_subscription("s")
    assert len(attempts) == 3 and len(sleeps.delays) == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda: ClientCredentials("", "secret"),
        lambda: ClientCredentials("id", ""),
        lambda: PasswordGrant("id", "secret", "", "pw"),
        lambda: PasswordGrant("id", "secret", "T\\u", ""),
        lambda: StaticToken(""),
        lambda: StaticToken("tok\nen"),
        lambda: ApiAuth("", token_url=TOKEN_URL),
        lambda: ApiAuth("kéy", token_url=TOKEN_URL),
    ],
)
def test_unusable_credentials_are_config_errors(build: Any) -> None:
    """Empty credentials, or ones that cannot travel in a header, raise ConfigError."""
    with pytest.raises(errors.ConfigError):
        build()


# --- Secrets stay secret ------------------------------------------------------------------


def assert_no_secret(text: str, *extra: str) -> None:
    """Fails when any known secret (or an extra one) appears in `text`."""
    for secret in (*ALL_SECRETS, *extra):
        assert secret not in text, f"secret leaked: {text!r}"


def test_reprs_mask_every_secret() -> None:
    """repr/str of grants, auth and client show no API key, secret, password or token."""
    grants: list[AuthSource] = [
        StaticToken(STATIC_TOKEN),
        ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD),
    ]
    for grant in grants:
        auth = ApiAuth(API_KEY, grant, token_url=TOKEN_URL)
        client = make_client(FakeServer(), auth=grant)
        for text in (repr(grant), str(grant), repr(auth), str(auth), repr(client), str(client)):
            assert_no_secret(text)
        assert "***" in repr(client)


async def test_a_server_echoing_secrets_has_them_scrubbed_from_errors() -> None:
    """Secrets a hostile server echoes in error messages are masked in every raised error."""
    grant = PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD)
    seen: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        message = f"bad key {API_KEY} with {request.headers.get('authorization')}"
        seen.append(message)
        return respond(403, envelope(code=403, message=message, errors=[]))

    server = FakeServer(echo)
    async with make_client(server, auth=grant) as client:
        with pytest.raises(errors.PermissionDeniedError) as caught:
            await client.peek_subscription("s")
    assert "access-1" in seen[0]  # the echo did contain the token
    assert_no_secret(str(caught.value), "access-1")
    assert "bad key *** with Bearer ***" in str(caught.value)


async def test_replaced_token_is_still_scrubbed() -> None:
    """A token replaced by a refresh is still masked when a server echoes it later."""
    clock = Clock()

    def answer(request: httpx.Request) -> httpx.Response:
        if bearer(request) == "access-2":
            return respond(400, envelope(code=400, message="stale token access-1 seen"))
        return respond(200, envelope({"statistics": []}))

    server = FakeServer(answer, require_token=True)
    async with make_client(server, auth=credentials(), clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 4000
        with pytest.raises(errors.BadRequestError) as caught:
            await client.peek_subscription("s")
    assert caught.value.server_message == "stale token *** seen"


async def test_token_endpoint_echoing_secrets_has_them_scrubbed() -> None:
    """An OAuth error description quoting the password does not reach the AuthError."""
    grant = PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD)
    server = FakeServer([PEEK_OK])
    server.tokens.answer = lambda request: httpx.Response(
        400,
        json={"error": "invalid_grant", "error_description": f"wrong password {PASSWORD}"},
    )
    async with make_client(server, auth=grant) as client:
        with pytest.raises(errors.AuthError) as caught:
            await client.peek_subscription("s")
    assert_no_secret(str(caught.value))
    assert "wrong password ***" in str(caught.value)


async def test_item_errors_are_scrubbed_too() -> None:
    """Per-item error messages of a partial success have echoed secrets masked."""
    answer = envelope(
        {"statistics": []},
        code=2,
        errors=[{"status": {"code": 400, "message": f"key {API_KEY} not allowed"}}],
    )
    async with make_client(FakeServer([respond(200, answer)])) as client:
        result = await client.peek_subscription("s")
    assert result.errors[0].message == "key *** not allowed"


async def test_no_secret_in_any_log_record_or_raised_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session with token fetch, refresh, 401 replay and failures logs (DEBUG, all loggers)
    and raises nothing that contains a secret or token."""
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    raised: list[str] = []
    server = FakeServer([PEEK_OK], require_token=True)
    grant = PasswordGrant(CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD)
    async with make_client(server, auth=grant, clock=clock) as client:
        await client.peek_subscription("s")
        clock.now += 4000
        await client.peek_subscription("s")
        server.tokens.revoke_all()
        await client.peek_subscription("s")
        server.tokens.answer = lambda request: httpx.Response(
            401, json={"error": "invalid_grant", "error_description": "nope"}
        )
        server.tokens.revoke_all()
        for call in (client.peek_subscription("s"), client.open_subscription([{"x": 1}])):
            try:
                await call
            except errors.StatisticsError as exc:
                raised.append(f"{exc!s} {exc!r}")
    tokens = [f"access-{n}" for n in range(1, 5)] + [f"refresh-{n}" for n in range(1, 5)]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "GET /statistics/v3/subscriptions/s/statistic-values -> 200" in logged
    assert "token request" in logged
    assert len(raised) == 2
    assert_no_secret(logged, *tokens, basic(CLIENT_ID, CLIENT_SECRET).removeprefix("Basic "))
    assert_no_secret("\n".join(raised), *tokens)


def test_sync_use_is_refused() -> None:
    """ApiAuth is async-only: a sync httpx client cannot silently send without a token."""
    auth = ApiAuth(API_KEY, token_url=TOKEN_URL)
    with pytest.raises(RuntimeError):
        next(auth.sync_auth_flow(httpx.Request("GET", "http://x")))


def test_retry_policy_import_is_shared() -> None:
    """RetryPolicy is the same class whichever module it is imported from."""
    from statdash.api import client

    assert client.RetryPolicy is RetryPolicy
