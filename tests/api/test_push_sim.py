"""The push channel against the real simulator over loopback HTTP: the wire, 402s, tokens, exits."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statdash.api.auth import ClientCredentials
from statdash.api.client import StatisticsClient
from statdash.api.errors import PushUnavailable, ServiceUnavailableError, ShapeError
from statdash.api.push import PushBatch, PushChannel
from statdash.sim import ids
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.api.support import Sleeps
from tests.support.sim import new_simulator, serve

API_KEY = "simulator-apikey-SECRET-51f0"
CLIENT_ID = "statdash"
CLIENT_SECRET = "simulator-clientsecret-SECRET-77a2"
HOLD = 0.5


def item(statistic_id: str, object_id: str, object_type: str, name: str) -> dict[str, str]:
    """One predefined subscription item in wire form."""
    return {
        "statisticId": statistic_id,
        "objectId": object_id,
        "objectType": object_type,
        "name": name,
    }


# Statistics that move as simulated time passes (a growing login time among them).
ITEMS = [
    item("team-login", ids.agent_group_id(0), "GroupAgents", "LoginDuration"),
    item("team-talk", ids.agent_group_id(0), "GroupAgents", "TalkDuration"),
    item("agent-state", ids.agent_id(0), "Agent", "CurrentAgentState"),
    item("queue-waiting", ids.queue_id(0), "Queue", "CurrentNumberWaitingCalls"),
]
ITEM_IDS = {i["statisticId"] for i in ITEMS}


@pytest.fixture
def simulator(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """The small manual-clock simulator, holding an idle connect for half a second."""
    with serve(dataclasses.replace(sim_config, notification_hold=HOLD)) as running:
        yield running


@pytest.fixture
def client_api_key() -> str:
    """The root `client` fixture sends this module's key."""
    return API_KEY


async def state(simulator: RunningSimulator) -> dict[str, Any]:
    """GET /simulator/state without blocking the event loop."""
    return await asyncio.to_thread(simulator.state)


async def set_faults(simulator: RunningSimulator, **faults: Any) -> None:
    """POST /simulator/faults without blocking the event loop."""
    await asyncio.to_thread(simulator.set_faults, **faults)


async def advance(simulator: RunningSimulator, seconds: float) -> None:
    """Move the simulator's manual clock without blocking the event loop."""
    await asyncio.to_thread(simulator.advance, seconds)


async def connect_as_stranger(simulator: RunningSimulator, client_id: str) -> dict[str, Any]:
    """The reply to a connect for `client_id` from another HTTP client (another cookie jar)."""
    async with httpx.AsyncClient(
        base_url=simulator.api_url, headers={"x-api-key": API_KEY}, trust_env=False
    ) as other:
        response = await other.post(
            "/notifications/connect",
            json=[
                {
                    "channel": "/meta/connect",
                    "clientId": client_id,
                    "connectionType": "long-polling",
                    "advice": {"timeout": 0},
                }
            ],
        )
    reply: dict[str, Any] = response.json()[-1]
    return reply


async def disconnect_as_stranger(simulator: RunningSimulator, client_id: str) -> None:
    """Make the simulator forget `client_id`, as an idle expiry would."""
    async with httpx.AsyncClient(
        base_url=simulator.api_url, headers={"x-api-key": API_KEY}, trust_env=False
    ) as other:
        response = await other.post(
            "/notifications/disconnect",
            json=[{"channel": "/meta/disconnect", "clientId": client_id}],
        )
    assert response.json()[0]["successful"] is True


def ids_in(batch: PushBatch) -> set[str]:
    return {u.statistic_id for u in batch.updates}


async def test_open_then_subscription_then_first_connect_brings_every_value(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Channel first, REST subscription second: the service state comes with the subscribe
    reply, and the first connect brings every value."""
    channel = PushChannel(client)
    opened_channel = await channel.open()
    assert opened_channel.updates == []
    assert opened_channel.service_state == "Available"
    assert channel.connected and channel.hold == HOLD
    opened = await client.open_subscription(ITEMS)
    began = time.perf_counter()
    first = await channel.next_batch()
    assert time.perf_counter() - began < HOLD  # asked with timeout 0: not held
    assert ids_in(first) == ITEM_IDS
    assert {u.subscription_id for u in first.updates} == {opened.subscription_id}
    requests = (await state(simulator))["requests"]
    # handshake, subscribe (both channels in one POST), connect: all on the notifications path
    assert requests["notifications"] == 3 and requests["subscribe"] == 1
    await channel.close()


async def test_values_that_change_arrive_in_connect_replies_and_match_a_peek(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """After time passes, a connect brings the changed values, equal to what a peek says now."""
    channel = PushChannel(client)
    await channel.open()
    opened = await client.open_subscription(ITEMS)
    await channel.next_batch()
    began = time.perf_counter()
    idle = await channel.next_batch()
    assert idle.updates == [] and time.perf_counter() - began >= HOLD * 0.9  # held: no change
    await advance(simulator, 900)
    changed = await channel.next_batch()
    assert "team-login" in ids_in(changed)
    peeked = await client.peek_subscription(opened.subscription_id, verbose="INFO")
    now = {s.statistic_id: s.value for s in peeked.statistics}
    for pushed in changed.updates:
        assert pushed.value == now[pushed.statistic_id]
    await channel.close()


async def test_a_forgotten_client_is_rehandshaken_and_updates_keep_coming(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """The server forgets the client (402): new session, rehandshook, values flow again."""
    channel = PushChannel(client)
    await channel.open()
    await client.open_subscription(ITEMS)
    await channel.next_batch()
    old = channel.client_id
    assert old is not None
    await disconnect_as_stranger(simulator, old)
    renewed = await channel.next_batch()
    assert renewed.rehandshook and channel.connected
    assert channel.client_id not in (None, old)
    # The same session cookie still ties the subscription to the new Bayeux client: its
    # values come with the new client's channel subscribe (a data message in that reply).
    assert ids_in(renewed) == ITEM_IDS
    await channel.close()


async def test_an_http_402_on_connect_is_rehandshaken(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A connect answered with HTTP 402 starts a new session like the Bayeux 402 does."""
    channel = PushChannel(client)
    await channel.open()
    await set_faults(simulator, fail_next={"notifications": 1}, error_status=402)
    assert (await channel.next_batch()).rehandshook
    assert channel.connected
    await channel.close()


async def test_server_failures_reach_the_caller_and_the_next_round_recovers(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A 503 and a garbled reply on connect are raised; the following connect works."""
    channel = PushChannel(client)
    await channel.open()
    await set_faults(simulator, fail_next={"notifications": 1}, error_status=503)
    with pytest.raises(ServiceUnavailableError):
        await channel.next_batch()
    assert not channel.connected
    await set_faults(simulator, malformed={"notifications": {"kind": "invalid_json", "count": 1}})
    with pytest.raises(ShapeError):
        await channel.next_batch()
    await set_faults(simulator, malformed={"notifications": {"kind": "wrong_shape", "count": 1}})
    with pytest.raises(ShapeError):
        await channel.next_batch()
    await channel.next_batch()
    assert channel.connected
    await channel.close()


async def test_a_token_revoked_during_the_session_is_renewed_on_the_connect(
    sim_config: SimConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Against a simulator that wants bearer tokens, a revoked one is renewed and the connect
    replayed: no error reaches the caller, and no secret reaches the debug log."""
    caplog.set_level(logging.DEBUG, logger="statdash")
    config = dataclasses.replace(
        sim_config,
        notification_hold=HOLD,
        api_key=API_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    with serve(config) as secured:
        async with StatisticsClient(
            secured.base_url, API_KEY, auth=ClientCredentials(CLIENT_ID, CLIENT_SECRET)
        ) as client:
            channel = PushChannel(client)
            await channel.open()
            await client.open_subscription(ITEMS)
            await set_faults(secured, revoke_tokens=True)
            batch = await channel.next_batch()
            assert ids_in(batch) == ITEM_IDS and channel.connected
            current = await state(secured)
            assert current["tokens_issued"] == 2
            await channel.close()
        assert "/notifications/connect" in caplog.text  # the log did record the session
        for secret in (API_KEY, CLIENT_SECRET, "Bearer"):
            assert secret not in caplog.text


async def test_close_disconnects_and_leaves_no_cometd_client(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """After close() the simulator no longer knows the client id: a connect with it gets 402."""
    channel = PushChannel(client)
    await channel.open()
    await channel.next_batch()
    client_id = channel.client_id
    assert client_id is not None
    before = (await state(simulator))["requests"]["notifications"]
    await channel.close()
    await channel.close()
    assert (await state(simulator))["requests"]["notifications"] == before + 1
    stranger = await connect_as_stranger(simulator, client_id)
    assert stranger["successful"] is False and stranger["error"].startswith("402::")


async def test_close_never_raises_when_the_server_is_gone(sim_config: SimConfig) -> None:
    """The simulator stopped under an open channel: close() returns quietly and promptly."""
    running = await asyncio.to_thread(new_simulator(sim_config).start)
    try:
        async with StatisticsClient(running.base_url, API_KEY) as client:
            channel = PushChannel(client, sleep=Sleeps())
            await channel.open()
            await asyncio.to_thread(running.stop)
            began = time.perf_counter()
            await channel.close()
            assert time.perf_counter() - began < 3
            assert channel.client_id is None and not channel.connected
    finally:
        await asyncio.to_thread(running.stop)


async def test_a_server_without_the_endpoint_is_push_unavailable(
    simulator: RunningSimulator,
) -> None:
    """Under a path prefix the simulator does not serve, the handshake's 404 is PushUnavailable."""
    async with StatisticsClient(simulator.base_url + "/elsewhere", API_KEY) as client:
        with pytest.raises(PushUnavailable, match="HTTP 404"):
            await PushChannel(client).open()
