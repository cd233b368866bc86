"""Faults of the CometD channel: dropped sessions, 402 storms, slow, garbled, doubled, reordered."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, request, stat
from tests.sim.test_sim_bayeux import (
    UPDATES,
    connect,
    connect_in_thread,
    handshake,
    open_on_channel,
    pushed,
)
from tests.support.sim import serve
from tests.support.wait import CEILING

ITEMS = (
    stat("q1", "8001@SIP_Switch", "Queue", name="Total_Entered"),
    stat("g1", "Team_01", "GroupAgents", name="LoginDuration"),
)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator that holds an idle connect for 0.1 s."""
    with serve(dataclasses.replace(sim_config, notification_hold=0.1)) as running:
        yield running


@pytest.fixture
def channel(sim: RunningSimulator) -> Iterator[tuple[httpx.Client, str]]:
    """A client with subscription "op" open and followed on the updates channel."""
    with client(sim) as api:
        yield api, open_on_channel(api, *ITEMS)


def test_drop_session_forgets_the_client_and_its_subscriptions(
    sim: RunningSimulator, channel: tuple[httpx.Client, str]
) -> None:
    """Like a Stat Server restart: 402 on the channel and the REST subscription is gone."""
    api, client_id = channel
    with client(sim) as other:
        open_on_channel(other, *ITEMS[:1], operation_id="theirs")
        session = api.cookies["STATISTICS_SESSIONID"]
        sim.set_faults(drop_session=session)
        [lost] = connect(api, client_id, timeout=0)
        assert lost["error"] == "402::Unknown client"
        assert lost["advice"]["reconnect"] == "handshake"
        assert api.get("/subscriptions/op/statistic-values").status_code == 404
        state = sim.state()
        assert state["cometd_clients"] == 1 and state["open_subscriptions"] == 1
        sim.set_faults(drop_session=True)
        state = sim.state()
        assert state["cometd_clients"] == 0 and state["open_subscriptions"] == 0


def test_a_402_storm_answers_connects_until_it_is_spent(
    sim: RunningSimulator, channel: tuple[httpx.Client, str]
) -> None:
    """`unknown_client: N` answers the next N connects 402, forgetting the client each time."""
    api, client_id = channel
    sim.set_faults(unknown_client=2)
    assert connect(api, client_id, timeout=0)[0]["error"] == "402::Unknown client"
    again = handshake(api)
    assert connect(api, again, timeout=0)[0]["error"] == "402::Unknown client"
    assert connect(api, handshake(api), timeout=0)[-1]["successful"] is True
    assert sim.set_faults()["unknown_client"] is False


def test_slow_connects_wait_before_answering(
    sim: RunningSimulator, channel: tuple[httpx.Client, str]
) -> None:
    """`slow_connect_ms` delays every connect reply, even one with data to deliver."""
    api, client_id = channel
    sim.set_faults(slow_connect_ms=300)
    sim.advance(600)
    began = time.perf_counter()
    replies = connect(api, client_id, timeout=0)
    assert time.perf_counter() - began >= 0.3
    assert pushed(replies)


def test_malformed_push_bodies(sim: RunningSimulator, channel: tuple[httpx.Client, str]) -> None:
    """invalid_json cuts the body, not_object adds non-objects, bad_statistics garbles a list."""
    api, client_id = channel
    message = {"channel": "/meta/connect", "clientId": client_id, "advice": {"timeout": 0}}
    sim.set_faults(malformed_push={"kind": "invalid_json", "count": 1})
    body = api.post("/notifications/connect", json=[message]).content
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    sim.set_faults(malformed_push={"kind": "not_object", "count": 1})
    replies = api.post("/notifications/connect", json=[message]).json()
    assert any(not isinstance(m, dict) for m in replies)
    assert replies[-1]["channel"] == "/meta/connect"
    sim.set_faults(malformed_push={"kind": "bad_statistics", "count": 1})
    # Nothing changed yet: the fault waits for a reply that carries updates.
    assert connect(api, client_id, timeout=0) == [connect(api, client_id, timeout=0)[0]]
    sim.advance(600)
    replies = connect(api, client_id, timeout=0)
    [garbled] = [m for m in replies if m["channel"] == UPDATES]
    assert not all(isinstance(v, dict) for v in garbled["data"]["statistics"])
    assert sim.set_faults()["malformed_push"] is False


def test_duplicated_updates(sim: RunningSimulator, channel: tuple[httpx.Client, str]) -> None:
    """`duplicate_updates` delivers the same updates message twice in one reply."""
    api, client_id = channel
    sim.set_faults(duplicate_updates=1)
    sim.advance(600)
    updates = [m for m in connect(api, client_id, timeout=0) if m["channel"] == UPDATES]
    assert len(updates) == 2 and updates[0] == updates[1]
    sim.advance(600)
    assert len([m for m in connect(api, client_id, timeout=0) if m["channel"] == UPDATES]) == 1


def test_out_of_order_updates(sim: RunningSimulator, channel: tuple[httpx.Client, str]) -> None:
    """`reorder_updates` follows new values with the ones they replaced, older timestamps kept."""
    api, client_id = channel
    sim.advance(300)
    connect(api, client_id, timeout=0)
    sim.set_faults(reorder_updates=True)
    sim.advance(300)
    newer, older = (m for m in connect(api, client_id, timeout=0) if m["channel"] == UPDATES)
    late = {v["statisticId"]: v for v in older["data"]["statistics"]}
    assert late
    for value in newer["data"]["statistics"]:
        if value["statisticId"] in late:
            assert late[value["statisticId"]]["timestamp"] < value["timestamp"]
            assert late[value["statisticId"]]["value"] != value["value"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"unknown_client": "lots"}, "unknown_client must be a number"),
        ({"duplicate_updates": 1.5}, "duplicate_updates must be true, false or a whole number"),
        ({"malformed_push": "invalid_xml"}, "malformed.push: unknown kind 'invalid_xml'"),
        ({"slow_connect_ms": -1}, "slow_connect_ms must be between 0 and 600000"),
        ({"drop_session": 3}, "drop_session must be true (every session) or a session id"),
    ],
)
def test_bad_channel_fault_specs_are_refused(
    sim: RunningSimulator, spec: dict[str, object], message: str
) -> None:
    """A bad channel fault is a 400 naming the field, and nothing is applied."""
    response = request("POST", sim.base_url + "/simulator/faults", json=spec)
    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith(message)
    shown = sim.set_faults()
    assert shown["unknown_client"] is False and shown["slow_connect_ms"] == 0


def test_channel_faults_are_cleared_with_the_others(sim: RunningSimulator) -> None:
    """DELETE /simulator/faults removes channel faults too."""
    sim.set_faults(unknown_client=True, reorder_updates=3, slow_connect_ms=5)
    shown = sim.set_faults()
    assert (shown["unknown_client"], shown["reorder_updates"]) == (True, 3)
    cleared = sim.clear_faults()
    assert (cleared["unknown_client"], cleared["reorder_updates"]) == (False, False)
    assert cleared["slow_connect_ms"] == 0


def test_a_session_dropped_during_a_held_connect_gets_402_at_once(sim_config: SimConfig) -> None:
    """A held connect whose session is dropped answers 402 right away, not after the hold."""
    config = dataclasses.replace(sim_config, notification_hold=20.0)
    with serve(config) as sim, client(sim) as api:
        client_id = handshake(api)
        thread, result = connect_in_thread(sim, client_id, api.cookies)
        time.sleep(0.3)
        sim.set_faults(drop_session=True)
        thread.join(timeout=CEILING)
        assert result["seconds"] < 3
        assert result["replies"][-1]["error"] == "402::Unknown client"
