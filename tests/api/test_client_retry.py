"""Retries: which failures, how many attempts, which delays, and what is re-sent."""

from __future__ import annotations

import httpx
import pytest

from statdash.api import errors
from statdash.api.auth import ClientCredentials
from statdash.api.client import RetryPolicy
from tests.api.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    ITEM,
    OPERATIONS,
    PEEKED,
    FakeServer,
    Sleeps,
    body_of,
    envelope,
    make_client,
    respond,
)

OK_ANSWERS = {
    "open": envelope({"statistics": []}),
    "peek": envelope({"statistics": []}),
    "delete": envelope(),
    "ex": envelope({"statistics": []}),
    "single": envelope({"statistic": PEEKED}),
}


def unavailable(status: int = 503, headers: dict[str, str] | None = None) -> httpx.Response:
    """A failure answer with an envelope body (and `headers`)."""
    return respond(status, envelope(code=status, message="busy"), headers=headers or {})


def policy(sleeps: Sleeps, **kwargs: float | int | bool) -> RetryPolicy:
    """A retry policy that records its waits and draws 0.5 from the random source."""
    return RetryPolicy(sleep=sleeps, random=lambda: 0.5, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", list(OPERATIONS))
@pytest.mark.parametrize("status", [503, 504])
async def test_every_operation_is_retried_after_503_and_504(op: str, status: int) -> None:
    """A 503/504 then a 200 succeeds on the second attempt for each of the five operations."""
    server = FakeServer([unavailable(status), respond(200, OK_ANSWERS[op])])
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps)) as client:
        await OPERATIONS[op](client)
    assert len(server.api_requests) == 2
    assert sleeps.delays == [0.25]  # base 0.5 * 2**0, full jitter drew 0.5


async def test_backoff_doubles_with_full_jitter_until_attempts_run_out() -> None:
    """Always 503: `attempts` requests, then ServiceUnavailableError; waits r*base*2**n."""
    server = FakeServer([unavailable()])
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps, attempts=4, base_delay=1.0)) as client:
        with pytest.raises(errors.ServiceUnavailableError):
            await client.peek_subscription("s")
    assert len(server.api_requests) == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


async def test_backoff_is_capped_at_max_delay() -> None:
    """Without jitter the waits grow 10, 20 but never pass max_delay (15)."""
    server = FakeServer([unavailable()])
    sleeps = Sleeps()
    retry = policy(sleeps, attempts=5, base_delay=10.0, max_delay=15.0, jitter=False)
    async with make_client(server, retry=retry) as client:
        with pytest.raises(errors.ServiceUnavailableError):
            await client.peek_subscription("s")
    assert sleeps.delays == [10.0, 15.0, 15.0, 15.0]


def test_default_cap_is_30_seconds_and_jitter_stays_below_it() -> None:
    """The default policy never waits more than 30 s, however many attempts came before."""
    eager = RetryPolicy(random=lambda: 1.0)
    assert eager.max_delay == 30.0
    assert eager.delay(50) == 30.0 and eager.delay(10_000) == 30.0
    assert RetryPolicy(random=lambda: 0.0).delay(3) == 0.0


async def test_retry_after_seconds_is_honoured() -> None:
    """A Retry-After of 7 s replaces the computed backoff."""
    server = FakeServer(
        [unavailable(headers={"Retry-After": "7"}), respond(200, OK_ANSWERS["peek"])]
    )
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps)) as client:
        await client.peek_subscription("s")
    assert sleeps.delays == [7.0]


async def test_retry_after_is_capped() -> None:
    """A Retry-After of an hour is capped at max_delay."""
    server = FakeServer(
        [unavailable(headers={"Retry-After": "3600"}), respond(200, OK_ANSWERS["peek"])]
    )
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps, max_delay=12.0)) as client:
        await client.peek_subscription("s")
    assert sleeps.delays == [12.0]


@pytest.mark.parametrize("value", ["Wed, 21 Oct 2015 07:28:00 GMT", "-5", "soon", "nan"])
async def test_unusable_retry_after_falls_back_to_backoff(value: str) -> None:
    """A Retry-After that is not a non-negative number of seconds is ignored."""
    server = FakeServer(
        [unavailable(headers={"Retry-After": value}), respond(200, OK_ANSWERS["peek"])]
    )
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps)) as client:
        await client.peek_subscription("s")
    assert sleeps.delays == [0.25]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 418])
async def test_other_statuses_are_not_retried(status: int) -> None:
    """400/401/403/404/500/418 fail at once: one request, no wait."""
    server = FakeServer([respond(status, envelope(code=status))])
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps)) as client:
        with pytest.raises(errors.HTTPStatusError):
            await client.peek_subscription("s")
    assert len(server.api_requests) == 1 and sleeps.delays == []


@pytest.mark.parametrize(
    "body",
    [envelope(code=3), b"<html>", envelope({"statistics": 5})],
    ids=["envelope", "html", "shape"],
)
async def test_bad_2xx_bodies_are_not_retried(body: object) -> None:
    """EnvelopeError and ShapeError are answers, not outages: no retry."""
    server = FakeServer([respond(200, body)])
    sleeps = Sleeps()
    async with make_client(server, retry=policy(sleeps)) as client:
        with pytest.raises((errors.EnvelopeError, errors.ShapeError)):
            await client.peek_subscription("s")
    assert len(server.api_requests) == 1 and sleeps.delays == []


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone")],
    ids=["connect", "timeout", "dropped"],
)
async def test_no_answer_is_retried(failure: Exception) -> None:
    """Connection failures, timeouts and dropped answers are retried, then succeed (a dropped
    answer is first sent once more at once: a kept-alive connection closed under it)."""
    attempts: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise failure
        return respond(200, OK_ANSWERS["peek"])

    sleeps = Sleeps()
    async with make_client(FakeServer(answer), retry=policy(sleeps)) as client:
        result = await client.peek_subscription("s")
    immediate = isinstance(failure, httpx.RemoteProtocolError)
    assert result.statistics == () and len(attempts) == 3
    assert sleeps.delays == ([0.25] if immediate else [0.25, 0.5])


async def test_retried_subscription_resends_the_same_operation_id() -> None:
    """open_subscription re-sent after a 503 and a timeout carries the same body and operationId."""
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return unavailable()
        if len(calls) == 2:
            raise httpx.ReadTimeout("slow")
        op = body_of(request)["operationId"]
        return respond(200, envelope({"operationId": op, "subscriptionId": op, "statistics": []}))

    async with make_client(FakeServer(answer), retry=policy(Sleeps())) as client:
        result = await client.open_subscription([ITEM])
    ids = {body_of(request)["operationId"] for request in calls}
    assert len(calls) == 3 and ids == {result.subscription_id}
    assert calls[0].content == calls[2].content


async def test_single_attempt_policy_never_retries() -> None:
    """RetryPolicy(attempts=1) gives up after the first 503."""
    server = FakeServer([unavailable()])
    sleeps = Sleeps()
    async with make_client(server, retry=RetryPolicy(attempts=1, sleep=sleeps)) as client:
        with pytest.raises(errors.ServiceUnavailableError):
            await client.delete_subscription("s")
    assert len(server.api_requests) == 1 and sleeps.delays == []


async def test_token_endpoint_refusal_is_not_retried() -> None:
    """An AuthError from the token endpoint is final: no API request, no retry."""
    server = FakeServer([respond(200, OK_ANSWERS["peek"])])
    server.tokens.answer = lambda request: httpx.Response(401, json={"error": "invalid_client"})
    sleeps = Sleeps()
    auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    async with make_client(server, auth=auth, retry=policy(sleeps)) as client:
        with pytest.raises(errors.AuthError):
            await client.peek_subscription("s")
    assert len(server.token_requests) == 1 and server.api_requests == [] and sleeps.delays == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"base_delay": -1.0},
        {"max_delay": float("inf")},
        {"base_delay": float("nan")},
    ],
)
def test_unusable_policy_is_a_config_error(kwargs: dict[str, float]) -> None:
    """A policy with no attempts or a negative/non-finite delay is refused."""
    with pytest.raises(errors.ConfigError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


async def test_unavailable_token_endpoint_is_retried() -> None:
    """A 503 from the token endpoint is retried; the call then succeeds with the new token."""
    server = FakeServer([respond(200, OK_ANSWERS["peek"])], require_token=True)
    server.tokens.script = [httpx.Response(503, json={"error": "temporarily_unavailable"})]
    sleeps = Sleeps()
    auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    async with make_client(server, auth=auth, retry=policy(sleeps)) as client:
        await client.peek_subscription("s")
    assert len(server.token_requests) == 2 and sleeps.delays == [0.25]
    assert len(server.api_requests) == 1
