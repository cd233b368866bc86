"""Admin routes and determinism seen over HTTP: /simulator/state, advance, clocks, same seeds."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from statdash.sim import catalog
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, request, stat, subscription
from tests.support.sim import SIM_START, serve

AD_HOC: list[tuple[str, dict[str, Any]]] = [
    ("Agent", {"category": "TotalTime", "subject": "AgentStatus", "mainMask": "~LoggedOut"}),
    ("Agent", {"category": "CurrentTime", "subject": "AgentStatus", "mainMask": "*"}),
    (
        "GroupAgents",
        {"category": "CurrentNumber", "subject": "AgentStatus", "mainMask": "NotReadyForNextCall"},
    ),
    ("Queue", {"category": "ServiceFactor1", "subject": "DNAction", "timeRangeRight": 30}),
    ("RoutePoint", {"category": "CurrentNumber", "subject": "DNAction", "mainMask": "CallWait"}),
    (
        "GroupQueues",
        {
            "category": "TotalNumberInTimeRange",
            "subject": "Action",
            "mainMask": "CallAbandoned",
            "timeRangeRight": 60,
        },
    ),
]


def every_statistic(state: dict[str, Any]) -> list[dict[str, Any]]:
    """A subscription item for every predefined name on every object it applies to, and more."""
    items: list[dict[str, Any]] = []
    for name, entry in catalog.PREDEFINED.items():
        for object_type in entry.object_types:
            for object_id in state["objects"][object_type]:
                items.append(stat(f"s{len(items)}", object_id, object_type, name=name))
    for object_type, definition in AD_HOC:
        for object_id in state["objects"][object_type]:
            items.append(stat(f"s{len(items)}", object_id, object_type, definition=definition))
    return items


def observe(config: SimConfig, times: list[float]) -> list[Any]:
    """Every statistic's value at each simulated time, as served."""
    seen = []
    with serve(config) as sim, client(sim) as api:
        items = every_statistic(sim.state())
        opened = api.post("/subscriptions", json=subscription("all", *items)).json()
        assert opened["status"]["code"] == 0, opened["errors"][:3]
        for at in times:
            sim.advance(at)
            seen.append(api.get("/subscriptions/all/statistic-values").json())
    return seen


def test_same_seed_gives_identical_values_for_every_statistic(sim_config: SimConfig) -> None:
    """Two simulators with the same seed, advanced alike, serve identical values throughout."""
    times = [1.0, 59.0, 600.0, 1800.0]
    first, second = observe(sim_config, times), observe(sim_config, times)
    assert first == second
    assert len(first[0]["data"]["statistics"]) > 900


def test_different_seeds_serve_different_values(sim_config: SimConfig) -> None:
    """A different seed gives a different floor, visible in the served values."""
    other = dataclasses.replace(sim_config, seed=sim_config.seed + 1)
    assert observe(sim_config, [600.0]) != observe(other, [600.0])


def test_state_lists_objects_groups_and_counts(simulator: RunningSimulator) -> None:
    """The state shows every object id, the team of each group and per-operation counts."""
    with client(simulator) as api:
        api.post(
            "/subscriptions",
            json=subscription(
                "op",
                stat("a1", "ana.silva", "Agent", name="InboundCalls"),
                stat("a2", "Team_02", "GroupAgents", name="CurrentReadyAgents"),
            ),
        )
        api.get("/subscriptions/op/statistic-values")
        api.get("/subscriptions/op/statistic-values")
    state = simulator.state()
    assert state["objects"]["Agent"][:2] == ["ana.silva", "ben.novak"]
    assert len(state["objects"]["Agent"]) == 40
    assert state["objects"]["GroupAgents"] == ["Team_01", "Team_02"]
    assert state["objects"]["Queue"][0] == "8001@SIP_Switch"
    assert state["objects"]["RoutePoint"][0] == "7001@SIP_Switch"
    assert state["objects"]["GroupQueues"] == ["QueueGroup_01"]
    assert state["group_members"]["Team_02"] == state["objects"]["Agent"][20:40]
    served = {q for queues in state["group_queues"].values() for q in queues}
    assert served == set(state["objects"]["Queue"])
    assert state["subscriptions"] == {"op": ["a1", "a2"]}
    assert (state["open_subscriptions"], state["open_statistics"]) == (1, 2)
    assert state["requests"] == {"subscribe": 1, "peek": 2}
    assert state["sim_time"] == SIM_START
    assert sum(state["status_counts"].values()) == 40


def test_manual_clock_moves_only_when_advanced(simulator: RunningSimulator) -> None:
    """On the manual clock simulated time stands still until POST /simulator/advance."""
    time.sleep(0.05)
    assert simulator.state()["sim_time"] == SIM_START
    assert simulator.advance(12.5) == SIM_START + 12.5
    assert simulator.advance(0) == SIM_START + 12.5


@pytest.mark.parametrize(
    "body", [{"seconds": -1}, {"seconds": "5"}, {"seconds": True}, {}, [], {"seconds": 10**9}]
)
def test_advance_rejects_bad_amounts(simulator: RunningSimulator, body: Any) -> None:
    """advance takes a number of seconds from 0 up to a month, nothing else."""
    response = request("POST", simulator.base_url + "/simulator/advance", json=body)
    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith("'seconds' must be a number")
    assert simulator.state()["sim_time"] == SIM_START


def test_realtime_clock_follows_the_time_scale(sim_config: SimConfig) -> None:
    """On the realtime clock simulated time runs at time_scale times wall time."""
    config = dataclasses.replace(sim_config, clock="realtime", time_scale=600.0)
    with serve(config) as sim:
        before = sim.state()["sim_time"]
        time.sleep(0.2)
        elapsed = sim.state()["sim_time"] - before
    assert 100 <= elapsed <= 600


def test_admin_routes_need_no_credentials(sim_config: SimConfig) -> None:
    """The loopback admin routes work without an API key or token even on a secured simulator."""
    config = dataclasses.replace(sim_config, api_key="k", client_id="c", client_secret="s")
    with serve(config) as sim:
        assert request("GET", sim.base_url + "/simulator/state").status_code == 200
        assert request("GET", sim.base_url + "/simulator/faults").status_code == 200
        assert "set-cookie" not in request("GET", sim.base_url + "/simulator/state").headers
