"""The live session against every fault the simulator can inject, over real loopback HTTP.

Each test drives a LiveController (the app's data side) with the production client settings
(no client-side retries: the session retries on its own schedule) and checks what a
supervisor would see: the phase, the retry time, the error count and message, the values
kept while the server misbehaves, and live, correct values soon after it recovers. Every
test also checks that no subscription is left open on the server.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from statdash.api.auth import ClientCredentials, StaticToken
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.live.session import DEFAULT_MAX_BACKOFF, Phase, Session, SessionStatus
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.live.fakes import VirtualClock
from tests.reliability.support import API_KEY, INTERVAL, ITEMS, LiveRun, item, server_values
from tests.support.sim import (
    SIM_START,
    new_simulator,
    open_subscriptions,
    serve,
    shared_simulator,
)
from tests.support.wait import CEILING, until_async

CONFIG = SimConfig(agents=20, queues=3, seed=11, clock="manual", start_time=SIM_START)


# One simulator for the tests that only inject faults (each test clears them after).
shared_sim = shared_simulator(CONFIG)


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> Iterator[RunningSimulator]:
    """The shared simulator, with no faults before or after the test and nothing left open."""
    shared_sim.clear_faults()
    yield shared_sim
    shared_sim.clear_faults()
    assert open_subscriptions(shared_sim) == {}


# --- 5xx bursts, timeouts, latency, refused connections --------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (503, "Service Unavailable (injected fault)"),
        (504, "Backend timeout (injected fault)"),
        (500, "Internal server error (injected fault)"),
    ],
)
async def test_error_burst_is_retried_and_live_again_with_current_values(
    sim: RunningSimulator, status: int, message: str
) -> None:
    """A burst of HTTP 5xx keeps the last values while retrying, then is live with current ones
    within two intervals of the burst's end."""
    async with LiveRun(sim) as run:
        await run.live_with(polls=2)
        kept = run.values()
        assert kept == server_values(sim)
        sim.set_faults(fail_next={"peek": 3}, error_status=status)
        sim.advance(900)  # the figures move on while the dashboard cannot see them
        await run.until(lambda: run.status.error_count == 3 and run.status.phase is Phase.LIVE)
        retrying = [s for s in run.seen if s.status.phase is Phase.RETRYING]
        # After each failure the status says when the next attempt comes.
        scheduled = {s.status.error_count: s for s in retrying}
        assert sorted(scheduled) == [1, 2, 3]
        assert all(
            s.status.retry_at is not None and s.status.retry_at > s.at for s in scheduled.values()
        )
        assert all(
            s.status.last_error == f"the server answered HTTP {status}: {message}" for s in retrying
        )
        assert all(s.values == kept for s in retrying)
        last_failure = run.first(lambda s: s.status.error_count == 3)
        recovered = run.first(lambda s: s.status.phase is Phase.LIVE, after=last_failure.at)
        assert recovered.at - last_failure.at <= 2 * INTERVAL
        assert run.values() == server_values(sim) != kept


async def test_timeouts_are_retried_and_live_again_once_answers_are_fast(
    sim: RunningSimulator,
) -> None:
    """Peeks that outlast the read timeout say the server did not answer in time and retry;
    once it answers promptly again the session is live within two intervals plus one timeout."""
    timeout = 0.3
    async with LiveRun(sim, read_timeout=timeout) as run:
        await run.live_with(polls=1)
        kept = run.values()
        sim.set_faults(latency_ms={"peek": 1000})
        await run.until(lambda: run.status.error_count >= 2)
        assert run.status.phase is Phase.RETRYING
        assert run.status.last_error == "the server did not answer in time"
        assert run.values() == kept
        sim.clear_faults()
        cleared = time.monotonic()
        recovered = await run.until(lambda: run.status.phase is Phase.LIVE)
        assert recovered - cleared <= 2 * INTERVAL + timeout + 0.2
        assert run.values() == server_values(sim)


async def test_latency_above_the_interval_slows_polls_without_piling_up(
    sim: RunningSimulator,
) -> None:
    """With every peek taking two intervals the session stays live, error-free, and never has
    more than one request in flight (so polls do not pile up on a slow server)."""
    latency = 2 * INTERVAL
    async with LiveRun(sim) as run:
        await run.live_with(polls=1)
        sim.set_faults(latency_ms={"peek": latency * 1000})
        before = sim.state()["requests"].get("peek", 0)
        started = time.monotonic()
        await asyncio.sleep(6 * INTERVAL)
        peeks = sim.state()["requests"].get("peek", 0) - before
        # One at a time: at most one peek per `latency` (plus the one in flight at the start).
        assert 2 <= peeks <= int(6 * INTERVAL / latency) + 1
        slow = [s for s in run.seen if s.at >= started]
        assert all(s.status.phase is Phase.LIVE for s in slow)
        assert run.status.error_count == 0
        assert run.status.last_poll_duration is not None
        assert run.status.last_poll_duration >= latency * 0.9


async def test_connection_refused_then_server_back_resubscribes_and_is_live(
    tmp_path: Path,
) -> None:
    """While nothing listens the session says it cannot reach the server and keeps its values;
    when the server is back (restarted, so it forgot the subscription) it subscribes again and
    is live within two intervals, with current values and one subscription open."""
    records = SubscriptionRecords(tmp_path / "open.json")
    first = new_simulator(CONFIG).start()
    port = first.port
    try:
        async with LiveRun(first, records=records) as run:
            await run.live_with(polls=1)
            old_id = run.status.subscription_id
            kept = run.values()
            await asyncio.to_thread(first.stop)
            await run.until(lambda: run.status.error_count >= 2)
            assert run.status.phase is Phase.RETRYING
            assert run.status.last_error == (
                "cannot reach the server: All connection attempts failed"
            )
            assert run.values() == kept
            second = new_simulator(CONFIG, port=port)
            await asyncio.to_thread(second.start)
            try:
                back = time.monotonic()
                run.sim = second
                recovered = await run.until(
                    lambda: (
                        run.status.phase is Phase.LIVE
                        and run.status.subscription_id not in (None, old_id)
                    )
                )
                assert recovered - back <= 2 * INTERVAL + 0.1
                assert list(open_subscriptions(second)) == [run.status.subscription_id]
                assert run.values() == server_values(second)
                # The old id was deleted on the restarted server (harmless there) and crossed
                # off the records; only the new one is recorded.
                assert [e.subscription_id for e in records.entries()] == [
                    run.status.subscription_id
                ]
            finally:
                await run.controller.close()
                assert open_subscriptions(second) == {}
                await asyncio.to_thread(second.stop)
    finally:
        first.stop()


async def test_long_outage_backs_off_to_the_cap_and_recovers_within_it() -> None:
    """Through ten minutes without a server (on a virtual clock) retries never wait more than
    the 30 s cap nor hammer, and the session is live within the cap once the server is back."""
    clock = VirtualClock()
    first = new_simulator(CONFIG).start()
    port = first.port
    second = new_simulator(CONFIG, port=port)
    outage: dict[str, float] = {}
    statuses: list[tuple[float, SessionStatus]] = []

    async def sleep(delay: float) -> None:
        clock.now += delay
        if "start" in outage and "end" not in outage and clock.now - outage["start"] >= 600:
            await asyncio.to_thread(second.start)
            outage["end"] = clock.now
        await asyncio.sleep(0)

    client = StatisticsClient(first.base_url, API_KEY, retry=RetryPolicy(attempts=1))
    session = Session(
        client,
        ITEMS,
        2.0,
        on_values=lambda values: None,
        on_status=lambda status: statuses.append((clock.now, status)),
        clock=clock,
        sleep=sleep,
        rng=random.Random(5),
    )
    task = asyncio.create_task(session.run())
    try:
        await until_async(lambda: session.status.polls >= 1, what="the first poll")
        await asyncio.to_thread(first.stop)
        outage["start"] = clock.now
        await until_async(
            lambda: "end" in outage and session.status.phase is Phase.LIVE,
            what="live again after the outage",
            interval=0.002,
        )
        # One failed attempt per error count (each failure publishes twice).
        first_seen = {s.error_count: at for at, s in reversed(statuses) if s.error_count}
        attempts = sorted(first_seen.values())
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert max(gaps) <= DEFAULT_MAX_BACKOFF + 0.01
        assert max(gaps) >= DEFAULT_MAX_BACKOFF / 2  # it did back off
        assert len(attempts) <= 60  # ~25 over ten minutes, not one per interval (300)
        live_at = next(at for at, s in statuses if at >= outage["end"] and s.phase is Phase.LIVE)
        assert live_at - outage["end"] <= DEFAULT_MAX_BACKOFF
    finally:
        session.stop()
        await asyncio.wait_for(task, CEILING)
        await client.aclose()
        assert open_subscriptions(second) == {}
        second.stop()


# --- The server forgets the subscription ----------------------------------------------------


@pytest.mark.parametrize("style", ["http404", "envelope"])
async def test_forgotten_subscription_is_replaced_and_the_old_one_not_left_behind(
    sim: RunningSimulator, tmp_path: Path, style: str
) -> None:
    """After a Stat Server restart (peek answers 404, or 200 with an envelope 404) the session
    opens a new subscription for the same statistics and carries on without an error; the
    old id is deleted and crossed off the crash records."""
    records = SubscriptionRecords(tmp_path / "open.json")
    async with LiveRun(sim, records=records) as run:
        await run.live_with(polls=2)
        old_id = run.status.subscription_id
        assert [e.subscription_id for e in records.entries()] == [old_id]
        deletes = sim.state()["requests"].get("delete", 0)
        sim.set_faults(drop_subscriptions=True, unknown_subscription_style=style)
        sim.advance(300)
        await run.until(lambda: run.status.subscription_id not in (None, old_id))
        new_id = run.status.subscription_id
        assert new_id is not None
        await run.live_with(polls=run.status.polls + 2)
        assert sim.state()["requests"]["delete"] == deletes + 1
        assert list(open_subscriptions(sim)) == [new_id]
        assert sorted(open_subscriptions(sim)[new_id]) == sorted(i.statistic_id for i in ITEMS)
        assert [e.subscription_id for e in records.entries()] == [new_id]
        assert run.status.error_count == 0
        assert run.values() == server_values(sim)
    assert records.entries() == []


async def test_restart_that_refuses_new_subscriptions_for_a_while_leaks_nothing(
    sim: RunningSimulator,
) -> None:
    """When the restarted server refuses new subscriptions at first, the session retries the
    same operationId, so once it accepts exactly one subscription is open."""
    async with LiveRun(sim) as run:
        await run.live_with(polls=1)
        old_id = run.status.subscription_id
        sim.set_faults(drop_subscriptions=True, refuse_subscriptions="envelope")
        await run.until(lambda: run.status.error_count >= 3)
        assert run.status.phase is Phase.RETRYING
        assert run.status.subscription_id is None
        sim.set_faults(refuse_subscriptions=False)
        await run.until(
            lambda: (
                run.status.phase is Phase.LIVE and run.status.subscription_id not in (None, old_id)
            )
        )
        assert list(open_subscriptions(sim)) == [run.status.subscription_id]
        assert sim.state()["open_subscriptions"] == 1


# --- Malformed replies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        ("invalid_json", "the server sent a malformed reply: response body is not JSON"),
        ("wrong_shape", "the server sent a malformed reply: unexpected envelope: status:"),
        ("missing_fields", "the server sent a malformed reply: statistics came without values"),
        ("bad_values", "the server sent a malformed reply: data.statistics[0].timestamp"),
        ("plain_error", "the server answered HTTP 500: "),
    ],
)
async def test_malformed_peeks_count_as_failed_polls_and_keep_the_values(
    sim: RunningSimulator, kind: str, shown: str
) -> None:
    """A garbled peek is counted, named on the status line and treated as a failed poll: the
    last values stay, and the session is live again once replies are sound."""
    async with LiveRun(sim) as run:
        await run.live_with(polls=1)
        kept = run.values()
        errors_before = run.status.error_count
        sim.set_faults(malformed={"peek": {"kind": kind, "count": 2}})
        await run.until(lambda: run.status.error_count == errors_before + 2)
        failed = [s for s in run.seen if s.status.phase is Phase.RETRYING]
        assert failed and all(s.values == kept for s in failed)
        assert all((s.status.last_error or "").startswith(shown) for s in failed)
        await run.until(lambda: run.status.phase is Phase.LIVE)
        assert run.values() == server_values(sim)


async def test_huge_reply_is_read_and_shown(sim: RunningSimulator) -> None:
    """A valid reply padded to megabytes is an answer like any other: no error, right values."""
    async with LiveRun(sim) as run:
        await run.live_with(polls=1)
        sim.advance(120)
        sim.set_faults(malformed={"peek": {"kind": "huge", "count": 2}})
        polls = run.status.polls
        await run.live_with(polls=polls + 3)
        assert run.status.error_count == 0
        assert run.values() == server_values(sim)


@pytest.mark.parametrize(
    "kind", ["invalid_json", "wrong_shape", "missing_fields", "bad_values", "plain_error"]
)
async def test_garbled_subscribe_reply_leaves_one_subscription(
    sim: RunningSimulator, kind: str
) -> None:
    """A garbled answer to opening the subscription (which may still have opened it) is retried
    with the same operationId, so exactly one subscription ends up open."""
    sim.set_faults(malformed={"subscribe": {"kind": kind, "count": 1}})
    async with LiveRun(sim) as run:
        await run.live_with(polls=2)
        assert list(open_subscriptions(sim)) == [run.status.subscription_id]
        assert run.values() == server_values(sim)


# --- Credentials ----------------------------------------------------------------------------


@pytest.fixture
def oauth_sim() -> Iterator[RunningSimulator]:
    """A simulator that wants an API key and a client-credentials bearer token."""
    config = replace(CONFIG, api_key=API_KEY, client_id="dash", client_secret="right-secret")
    with serve(config) as simulator:
        yield simulator
        assert open_subscriptions(simulator) == {}


async def test_revoked_token_is_fetched_again_once_without_a_failed_poll(
    oauth_sim: RunningSimulator,
) -> None:
    """When every token is revoked, the next request's 401 fetches one new token and the poll
    succeeds: the session never leaves 'live' and counts no error."""
    grant = ClientCredentials("dash", "right-secret")
    async with LiveRun(oauth_sim, auth=grant) as run:
        await run.live_with(polls=2)
        issued = oauth_sim.state()["tokens_issued"]
        started = time.monotonic()
        oauth_sim.set_faults(revoke_tokens=True)
        await run.live_with(polls=run.status.polls + 3)
        assert oauth_sim.state()["tokens_issued"] == issued + 1
        assert run.status.error_count == 0
        assert all(s.status.phase is Phase.LIVE for s in run.seen if s.at >= started)


@pytest.mark.parametrize(
    ("credentials", "shown"),
    [
        (
            {"auth": StaticToken("not-a-valid-token")},
            "the server refused the credentials (HTTP 401: Missing, invalid or expired"
            " bearer token)",
        ),
        (
            {"auth": ClientCredentials("dash", "wrong-secret")},
            "the server refused the credentials (token request (client_credentials grant) refused:"
            " HTTP 401",
        ),
        (
            {"auth": ClientCredentials("dash", "right-secret"), "api_key": "wrong-key"},
            "the server refused the credentials (",
        ),
    ],
    ids=["bad-token", "bad-client-secret", "bad-api-key"],
)
async def test_refused_credentials_stop_polling_with_a_clear_message(
    oauth_sim: RunningSimulator, credentials: dict[str, object], shown: str
) -> None:
    """Persistent 401/403 (a bad token, client secret or API key) ends in 'failed' with a
    message that names the problem and no secret, and no further request is made."""
    async with LiveRun(oauth_sim, **credentials) as run:  # type: ignore[arg-type]
        await run.until(lambda: run.status.phase is Phase.FAILED)
        message = run.status.last_error or ""
        assert message.startswith(shown)
        assert message.endswith("polling stopped, press r to retry")
        for secret in ("not-a-valid-token", "wrong-secret", "right-secret", "wrong-key"):
            assert secret not in message
        requests = oauth_sim.state()["requests"]
        await asyncio.sleep(4 * INTERVAL)
        assert oauth_sim.state()["requests"] == requests
        assert run.status.phase is Phase.FAILED


# --- Partial success ------------------------------------------------------------------------


async def test_partial_subscribe_shows_the_refused_items_and_the_rest_works(
    sim: RunningSimulator,
) -> None:
    """Statistics the server refuses are listed with their reason; the others are polled."""
    items = (
        *ITEMS,
        item("bad1", "ana.silva", "Agent", "NoSuchStatistic"),
        item("bad2", "nobody.here", "Agent", "InboundCalls"),
    )
    async with LiveRun(sim, items=items) as run:
        await run.live_with(polls=2)
        problems = {p.statistic_id: p for p in run.status.item_problems}
        assert set(problems) == {"bad1", "bad2"}
        assert problems["bad1"].message == "Unknown statistic 'NoSuchStatistic'"
        assert problems["bad2"].message == "Unknown object 'Agent:nobody.here'"
        assert run.values() == server_values(sim)
        assert run.status.error_count == 0
