"""The client against a hostile server on loopback: drips, lies about sizes, gzip bombs."""

from __future__ import annotations

import asyncio
import json
import random
import tracemalloc

import pytest

from statdash.api import errors
from statdash.api.auth import ClientCredentials
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.models import SubscriptionItem
from statdash.api.responses import UNREADABLE_NUMBER
from statdash.api.values import NumberValue, UnknownValue, parse_value
from statdash.live.session import Phase, Session, SessionStatus
from tests.api.support import Sleeps
from tests.support.hostile import drip, gzip_bomb, gzipped, hostile, plain, sized
from tests.support.wait import until_async

PEEK_PATH = "/statistics/v3/subscriptions/s1/statistic-values"
EMPTY_PEEK = json.dumps({"status": {"code": 0}, "data": {"statistics": []}}).encode()
# Far longer than any deadline below: a call still waiting when this runs out never ended.
PATIENCE = 10.0


async def test_a_dripping_reply_times_out_as_a_whole_naming_the_path() -> None:
    """A server that sends a byte every 50 ms (well inside the read timeout) still gets no
    more than the call's total deadline, reported as a timeout naming the URL path."""
    async with (
        hostile(drip(EMPTY_PEEK, every=0.05)) as server,
        StatisticsClient(server.url, "key", connect_timeout=0.2, read_timeout=0.3) as client,
    ):
        async with asyncio.timeout(PATIENCE):
            with pytest.raises(errors.RequestTimeoutError) as caught:
                await client.peek_subscription("s1")
    assert PEEK_PATH in str(caught.value)
    assert "0.5 s" in str(caught.value)


async def test_a_dripping_reply_is_retried_like_any_unanswered_call() -> None:
    """The deadline's timeout is transient: a retry policy sends the call again."""
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, sleep=sleeps)
    async with hostile(drip(EMPTY_PEEK, every=0.05)) as server:
        async with StatisticsClient(
            server.url, "key", connect_timeout=0.1, read_timeout=0.1, retry=policy
        ) as client:
            async with asyncio.timeout(PATIENCE):
                with pytest.raises(errors.RequestTimeoutError):
                    await client.peek_subscription("s1")
        assert server.requests == 3


async def test_the_dashboard_counts_a_dripping_server_as_an_error_and_retries() -> None:
    """The live session under a dripping server leaves `connecting`: an error counted, and
    a retry scheduled."""
    statuses: list[SessionStatus] = []
    item = SubscriptionItem.model_validate(
        {"statisticId": "a", "objectId": "q", "objectType": "Queue", "name": "Current_In_Queue"}
    )
    async with (
        hostile(drip(EMPTY_PEEK, every=0.05)) as server,
        StatisticsClient(server.url, "key", connect_timeout=0.1, read_timeout=0.2) as client,
    ):
        session = Session(
            client,
            [item],
            2.0,
            on_values=lambda values: None,
            on_status=statuses.append,
            delete_timeout=0.5,
            rng=random.Random(1),
        )
        task = asyncio.create_task(session.run())
        try:
            await until_async(lambda: session.status.error_count >= 1, what="an error counted")
        finally:
            session.stop()
            await task
    failed = next(status for status in statuses if status.error_count == 1)
    assert failed.last_error == "the server did not answer in time"
    assert "POST /statistics/v3/subscriptions: no complete answer" in str(session.last_failure)
    assert any(status.phase is Phase.RETRYING for status in statuses)


async def test_a_declared_length_past_the_limit_is_refused_before_the_body() -> None:
    """A Content-Length of 300 MB is refused at once, whatever the body would be."""
    async with (
        hostile(sized(300_000_000, declared=True)) as server,
        StatisticsClient(server.url, "key", max_body_bytes=1 << 20) as client,
        asyncio.timeout(PATIENCE),
    ):
        with pytest.raises(errors.ShapeError, match="300000000 bytes is larger"):
            await client.peek_subscription("s1")


async def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    """A small gzip body that would inflate to 16 MB is cut at a 1 MB limit, and the call
    never holds more than a few MB while refusing it (httpx inflates a whole network chunk
    at once, ~1000 times its size)."""
    async with (
        hostile(gzip_bomb(16 << 20)) as server,
        StatisticsClient(server.url, "key", max_body_bytes=1 << 20) as client,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(errors.ShapeError, match="larger than 1048576 bytes"):
                await client.peek_subscription("s1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak / 1e6:.1f} MB"


async def test_a_gzipped_reply_is_read() -> None:
    """A gzip-encoded reply (a proxy may compress) is decoded once and parsed."""
    async with (
        hostile(gzipped(EMPTY_PEEK)) as server,
        StatisticsClient(server.url, "key") as client,
    ):
        result = await client.peek_subscription("s1")
    assert list(result.statistics) == []


async def test_a_peek_holding_an_integer_too_long_for_python_marks_only_that_statistic() -> None:
    """A 5,000-digit integer (past Python's 4,300-digit int/str limit) in one value spoils
    that value only: it reads as of unknown shape, and the other statistics are read."""
    huge = b"9" * 5000
    body = (
        b'{"status": {"code": 0}, "data": {"statistics": ['
        b'{"statisticId": "a", "timestamp": 1700000000000, "value": {"intValue": ' + huge + b"}},"
        b'{"statisticId": "b", "timestamp": 1700000000000, "value": {"intValue": 3}}]}}'
    )
    async with hostile(plain(body)) as server, StatisticsClient(server.url, "key") as client:
        result = await client.peek_subscription("s1")
    spoiled, sound = result.statistics
    assert spoiled.value == {"intValue": UNREADABLE_NUMBER}
    assert isinstance(parse_value(spoiled.value, spoiled.timestamp), UnknownValue)
    assert parse_value(sound.value, sound.timestamp) == NumberValue(3.0, "3")


async def test_the_token_endpoint_is_held_to_a_limit_too() -> None:
    """A token endpoint answering a gzip bomb is refused before it is inflated (the token
    reply was read whole, inflated by httpx)."""
    async with (
        hostile(gzip_bomb(16 << 20)) as server,
        StatisticsClient(server.url, "key", auth=ClientCredentials("statdash", "secret")) as client,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(errors.ShapeError, match="encoding not asked for"):
                await client.peek_subscription("s1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak / 1e6:.1f} MB"
    assert server.requests == 1


async def test_a_large_token_reply_is_refused_as_it_streams() -> None:
    """A token reply past the limit, its length not declared, is cut at the limit."""
    async with (
        hostile(sized(8 << 20, declared=False)) as server,
        StatisticsClient(server.url, "key", auth=ClientCredentials("statdash", "secret")) as client,
    ):
        with pytest.raises(errors.ShapeError, match="larger than 1048576 bytes"):
            await client.peek_subscription("s1")
