"""The CometD long-polling channel the official clients open: handshake, subscribe, connect."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from tests.sim.support import client, stat, subscription

SERVICE = "/statistics/v3/service"
UPDATES = "/statistics/v3/updates"


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator that holds an idle connect for 0.2 s."""
    with running_simulator(dataclasses.replace(sim_config, notification_hold=0.2)) as running:
        yield running


def bayeux(api: httpx.Client, kind: str, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post(f"/notifications/{kind}", json=list(messages))
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()
    return replies


def handshake(api: httpx.Client) -> str:
    [reply] = bayeux(
        api,
        "handshake",
        {
            "channel": "/meta/handshake",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "id": "1",
        },
    )
    assert reply["successful"] is True
    assert reply["id"] == "1"
    assert "long-polling" in reply["supportedConnectionTypes"]
    client_id: str = reply["clientId"]
    return client_id


def connect(api: httpx.Client, client_id: str, **advice: int) -> list[dict[str, Any]]:
    message: dict[str, Any] = {
        "channel": "/meta/connect",
        "clientId": client_id,
        "connectionType": "long-polling",
        "id": "c",
    }
    if advice:
        message["advice"] = advice
    return bayeux(api, "connect", message)


def test_push_channel_delivers_service_state_and_changed_values(sim: RunningSimulator) -> None:
    """After subscribing, connects bring serviceState and then only the values that changed."""
    with client(sim) as api:
        opened = api.post(
            "/subscriptions",
            json=subscription(
                "op",
                stat("a1", "ana.silva", "Agent", name="CurrentAgentState"),
                stat("a2", "Team_01", "GroupAgents", name="LoginDuration"),
            ),
        )
        assert opened.status_code == 200
        client_id = handshake(api)
        replies = bayeux(
            api,
            "subscribe",
            *(
                {"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel}
                for channel in (SERVICE, UPDATES)
            ),
        )
        assert [r["successful"] for r in replies] == [True, True]
        first = connect(api, client_id, timeout=0)
        assert first[-1]["channel"] == "/meta/connect" and first[-1]["successful"] is True
        events = {m["channel"]: m["data"] for m in first[:-1]}
        assert events[SERVICE] == {"serviceState": "Available"}
        assert {(v["subscriptionId"], v["statisticId"]) for v in events[UPDATES]["statistics"]} == {
            ("op", "a1"),
            ("op", "a2"),
        }
        began = time.perf_counter()
        idle = connect(api, client_id)
        assert time.perf_counter() - began >= 0.2
        assert [m["channel"] for m in idle] == ["/meta/connect"]
        sim.advance(900)
        later = connect(api, client_id)
        changed = [
            v["statisticId"]
            for m in later
            if m["channel"] == UPDATES
            for v in m["data"]["statistics"]
        ]
        assert "a2" in changed


def test_other_sessions_do_not_see_my_values(sim: RunningSimulator) -> None:
    """Updates go only to the session (STATISTICS_SESSIONID) that opened the subscription."""
    with client(sim) as mine, client(sim) as theirs:
        mine.post(
            "/subscriptions",
            json=subscription("op", stat("a1", "ana.silva", "Agent", name="CurrentAgentState")),
        )
        client_id = handshake(theirs)
        bayeux(
            theirs,
            "subscribe",
            {
                "channel": "/meta/subscribe",
                "clientId": client_id,
                "subscription": [SERVICE, UPDATES],
            },
        )
        channels = [m["channel"] for m in connect(theirs, client_id, timeout=0)]
        assert channels == [SERVICE, "/meta/connect"]


def test_unknown_client_must_handshake_again(sim: RunningSimulator) -> None:
    """A connect from an unknown or disconnected client is told to handshake again."""
    with client(sim) as api:
        [stranger] = connect(api, "nobody", timeout=0)
        assert stranger["successful"] is False
        assert stranger["error"].startswith("402::")
        assert stranger["advice"]["reconnect"] == "handshake"
        client_id = handshake(api)
        [bye] = bayeux(api, "disconnect", {"channel": "/meta/disconnect", "clientId": client_id})
        assert bye["successful"] is True
        assert connect(api, client_id, timeout=0)[0]["successful"] is False
