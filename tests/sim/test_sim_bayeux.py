"""The CometD long-polling channel the official clients open: handshake, subscribe, connect."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statdash.sim import catalog
from statdash.sim.bayeux import _changed
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, stat, subscription
from tests.support.sim import new_simulator, serve
from tests.support.wait import CEILING, until

SERVICE = "/statistics/v3/service"
UPDATES = "/statistics/v3/updates"


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator that holds an idle connect for 0.2 s."""
    with serve(dataclasses.replace(sim_config, notification_hold=0.2)) as running:
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


def subscribe(api: httpx.Client, client_id: str, *channels: str) -> list[dict[str, Any]]:
    return bayeux(
        api,
        "",
        *(
            {"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel}
            for channel in channels
        ),
    )


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


def pushed(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every statistic value in the updates messages of a reply, in order."""
    return [
        value
        for m in replies
        if isinstance(m, dict) and m.get("channel") == UPDATES
        for value in m["data"]["statistics"]
    ]


def open_on_channel(api: httpx.Client, *items: dict[str, Any], operation_id: str = "op") -> str:
    """Handshake, subscribe updates, open `items` as a subscription, drain the first push."""
    client_id = handshake(api)
    assert [r["successful"] for r in subscribe(api, client_id, UPDATES)] == [True]
    opened = api.post("/subscriptions", json=subscription(operation_id, *items))
    assert opened.status_code == 200
    first = pushed(connect(api, client_id, timeout=0))
    assert first, "the first connect brings the values"
    return client_id


def test_subscribe_reply_carries_service_state_and_values(sim: RunningSimulator) -> None:
    """Subscribing after the REST subscription delivers serviceState and every value in the
    subscribe reply itself; the next connect has nothing new and is held."""
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
        replies = subscribe(api, client_id, SERVICE, UPDATES)
        meta = [r for r in replies if r["channel"] == "/meta/subscribe"]
        assert [r["successful"] for r in meta] == [True, True]
        events = {m["channel"]: m["data"] for m in replies if m["channel"] != "/meta/subscribe"}
        assert events[SERVICE] == {"serviceState": "Available"}
        assert {(v["subscriptionId"], v["statisticId"]) for v in events[UPDATES]["statistics"]} == {
            ("op", "a1"),
            ("op", "a2"),
        }
        began = time.perf_counter()
        idle = connect(api, client_id)
        assert time.perf_counter() - began >= 0.2
        assert [m["channel"] for m in idle] == ["/meta/connect"]
        assert idle[0]["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 200}


def test_connects_bring_only_what_changed(sim: RunningSimulator) -> None:
    """After the first push, a connect brings the statistics an event changed, each once."""
    with client(sim) as api:
        client_id = open_on_channel(
            api,
            stat("a1", "ana.silva", "Agent", name="CurrentAgentState"),
            stat("a2", "Team_01", "GroupAgents", name="LoginDuration"),
            stat("q1", "8001@SIP_Switch", "Queue", name="Total_Entered"),
        )
        sim.advance(900)
        later = pushed(connect(api, client_id))
        changed = [v["statisticId"] for v in later]
        assert "a2" in changed and "q1" in changed
        assert len(changed) == len(set(changed))
        assert pushed(connect(api, client_id, timeout=0)) == []


def test_other_sessions_do_not_see_my_values(sim: RunningSimulator) -> None:
    """Updates go only to the session (STATISTICS_SESSIONID) that opened the subscription."""
    with client(sim) as mine, client(sim) as theirs:
        mine.post(
            "/subscriptions",
            json=subscription("op", stat("a1", "ana.silva", "Agent", name="CurrentAgentState")),
        )
        client_id = handshake(theirs)
        replies = bayeux(
            theirs,
            "",
            {
                "channel": "/meta/subscribe",
                "clientId": client_id,
                "subscription": [SERVICE, UPDATES],
            },
        )
        assert [m["channel"] for m in replies] == ["/meta/subscribe", SERVICE]
        sim.advance(600)
        assert [m["channel"] for m in connect(theirs, client_id, timeout=0)] == ["/meta/connect"]


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
        assert sim.state()["cometd_clients"] == 0


def test_silent_clients_expire(sim_config: SimConfig) -> None:
    """A client that sends nothing for longer than the expiry is forgotten: 402, handshake."""
    # The expiry is ten connect gaps, so a busy machine that stretches a gap keeps `keeps`.
    config = dataclasses.replace(sim_config, notification_hold=0.1, notification_expiry=1.0)
    with serve(config) as sim, client(sim) as api:
        keeps = handshake(api)
        leaves = handshake(api)
        assert sim.state()["cometd_clients"] == 2

        def only_one_left() -> bool:
            assert connect(api, keeps, timeout=0)[-1]["successful"] is True
            return bool(sim.state()["cometd_clients"] == 1)

        until(only_one_left, what="the silent client to expire", interval=0.1)
        [gone] = connect(api, leaves, timeout=0)
        assert gone["successful"] is False
        assert gone["error"] == "402::Unknown client"
        assert gone["advice"] == {"reconnect": "handshake", "interval": 0}


def test_a_held_connect_is_never_expired(sim_config: SimConfig) -> None:
    """A connect held longer than the expiry still answers successfully."""
    config = dataclasses.replace(sim_config, notification_hold=0.6, notification_expiry=0.2)
    with serve(config) as sim, client(sim) as api:
        client_id = handshake(api)
        assert connect(api, client_id)[-1]["successful"] is True
        assert connect(api, client_id, timeout=0)[-1]["successful"] is True


def test_default_hold_is_twenty_seconds() -> None:
    """Like real servers, an idle connect is held 20 s and a client expires after 60 s."""
    config = SimConfig()
    assert (config.notification_hold, config.notification_expiry) == (20.0, 60.0)


def connect_in_thread(sim: RunningSimulator, client_id: str, cookies: httpx.Cookies) -> Any:
    result: dict[str, Any] = {}

    def run() -> None:
        with client(sim) as api:
            api.cookies = cookies
            began = time.perf_counter()
            result["replies"] = connect(api, client_id)
            result["seconds"] = time.perf_counter() - began

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_a_held_connect_returns_as_soon_as_a_value_changes(sim_config: SimConfig) -> None:
    """With a 20 s hold, an event (here a manual clock advance) answers the connect at once."""
    config = dataclasses.replace(sim_config, notification_hold=20.0)
    with serve(config) as sim, client(sim) as api:
        client_id = open_on_channel(
            api, stat("q1", "8001@SIP_Switch", "Queue", name="Total_Entered")
        )
        thread, result = connect_in_thread(sim, client_id, api.cookies)
        time.sleep(0.3)
        sim.advance(600)
        thread.join(timeout=CEILING)
        assert not thread.is_alive()
        assert result["seconds"] < 3
        assert [v["statisticId"] for v in pushed(result["replies"])] == ["q1"]


def test_stopping_the_server_answers_held_connects_at_once(sim_config: SimConfig) -> None:
    """A stop does not wait out a 20 s hold: the held connect is answered and the stop is quick."""
    config = dataclasses.replace(sim_config, notification_hold=20.0)
    sim = new_simulator(config).start()
    try:
        with client(sim) as api:
            client_id = handshake(api)
            thread, result = connect_in_thread(sim, client_id, api.cookies)
            time.sleep(0.3)
    finally:
        began = time.perf_counter()
        sim.stop()
        stopped = time.perf_counter() - began
    thread.join(timeout=5)
    assert stopped < 1.0
    assert result["seconds"] < 2
    assert result["replies"][-1]["successful"] is True


def definition(mode: str, **extra: Any) -> dict[str, Any]:
    """An ad-hoc TotalTime of a group (changes with every status change) in `mode`."""
    return {
        "category": "TotalTime",
        "subject": "AgentStatus",
        "mainMask": "*",
        "notificationMode": mode,
        **extra,
    }


def test_notification_modes_are_honoured(sim: RunningSimulator) -> None:
    """Immediate pushes every change, Periodical at most once per notificationFrequency
    simulated seconds, NoNotification never (a peek still reads it)."""
    with client(sim) as api:
        client_id = handshake(api)
        subscribe(api, client_id, UPDATES)
        items = [
            stat("now", "Team_01", "GroupAgents", definition=definition("Immediate")),
            stat(
                "every30",
                "Team_01",
                "GroupAgents",
                definition=definition("Periodical", notificationFrequency=30),
            ),
            stat("never", "Team_01", "GroupAgents", definition=definition("NoNotification")),
            stat("reset", "Team_01", "GroupAgents", definition=definition("Reset")),
        ]
        assert api.post("/subscriptions", json=subscription("op", *items)).status_code == 200
        seen: list[str] = []
        for _ in range(12):
            seen += [v["statisticId"] for v in pushed(connect(api, client_id, timeout=0))]
            sim.advance(10)
        # 120 simulated seconds: the first value plus one every 30 s.
        assert seen.count("every30") in (4, 5)
        assert seen.count("now") > seen.count("every30")
        assert "never" not in seen and "reset" not in seen
        peek = api.get("/subscriptions/op/statistic-values").json()
        assert {v["statisticId"] for v in peek["data"]["statistics"]} >= {"never", "reset"}


def test_insensitivity_holds_back_small_changes(sim: RunningSimulator) -> None:
    """A change under `insensitivity` percent of the value last pushed is not pushed."""
    sim.advance(300)  # from a value of 0 any change is a change of more than 1000 %
    with client(sim) as api:
        client_id = open_on_channel(
            api,
            stat("fine", "Team_01", "GroupAgents", definition=definition("Immediate")),
            stat(
                "coarse",
                "Team_01",
                "GroupAgents",
                definition=definition("Immediate", insensitivity=1000),
            ),
        )
        seen: list[str] = []
        for _ in range(5):
            sim.advance(60)
            seen += [v["statisticId"] for v in pushed(connect(api, client_id, timeout=0))]
        assert seen.count("fine") >= 3
        assert "coarse" not in seen


def test_change_threshold_is_a_percentage_of_the_last_value() -> None:
    """5 % insensitivity: 100 -> 104 is held back, 100 -> 106 is pushed; timestamps never count."""

    def value(text: str, stamp: int = 0) -> dict[str, Any]:
        return {"intValue": round(float(text)), "stringValue": text, "timestamp": stamp}

    assert not _changed(value("100"), value("104"), 5)
    assert _changed(value("100"), value("106"), 5)
    assert _changed(value("0"), value("1"), 5)
    assert not _changed(value("7", 1), value("7", 2), 0)
    assert _changed({"stateValue": {"status": "A"}}, {"stateValue": {"status": "B"}}, 50)


def test_bad_notification_settings_are_refused(sim: RunningSimulator) -> None:
    """A Periodical frequency under 1 s or a negative insensitivity is an item error."""
    with client(sim) as api:
        items = [
            stat("f", "Team_01", "GroupAgents", definition=definition("Periodical",
                                                                      notificationFrequency=0)),
            stat("i", "Team_01", "GroupAgents", definition=definition("Immediate",
                                                                      insensitivity=-1)),
            stat("ok", "Team_01", "GroupAgents", definition=definition("Immediate")),
        ]  # fmt: skip
        body = api.post("/subscriptions", json=subscription("op", *items)).json()
        assert body["status"]["code"] == 2
        messages = [e["status"]["message"] for e in body["errors"]]
        assert any("notificationFrequency" in m for m in messages)
        assert any("insensitivity" in m for m in messages)


def test_state_counts_channel_messages_and_clients(sim: RunningSimulator) -> None:
    """/simulator/state keeps `notifications` per POST and adds counts per Bayeux channel."""
    with client(sim) as api:
        client_id = handshake(api)
        subscribe(api, client_id, UPDATES)
        connect(api, client_id, timeout=0)
        connect(api, client_id, timeout=0)
        state = sim.state()
        assert state["cometd_clients"] == 1
        bayeux(api, "disconnect", {"channel": "/meta/disconnect", "clientId": client_id})
        requests = sim.state()["requests"]
        assert requests["notifications"] == 5
        assert requests["notifications.handshake"] == 1
        assert requests["notifications.subscribe"] == 1
        assert requests["notifications.connect"] == 2
        assert requests["notifications.disconnect"] == 1
        assert sim.state()["cometd_clients"] == 0


def test_time_driven_predefined_statistics_are_periodical(sim: RunningSimulator) -> None:
    """Durations are pushed once per time_driven_frequency (5) simulated seconds, however
    often connects come; counts stay Immediate."""
    assert set(catalog.PREDEFINED) >= catalog.TIME_DRIVEN
    with client(sim) as api:
        client_id = open_on_channel(
            api,
            stat("login", "Team_01", "GroupAgents", name="LoginDuration"),
            stat("entered", "8001@SIP_Switch", "Queue", name="Total_Entered"),
        )
        seen: list[str] = []
        for _ in range(6):
            sim.advance(1)
            seen += [v["statisticId"] for v in pushed(connect(api, client_id, timeout=0))]
        assert seen.count("login") == 1
        assert catalog.notification(None, "Total_Entered") == catalog.IMMEDIATE
