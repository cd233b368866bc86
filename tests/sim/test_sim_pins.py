"""Pins: POST/DELETE /simulator/pin hold a predefined statistic of one object at a value."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, peek_body, request, stat, subscription
from tests.sim.test_sim_bayeux import connect, open_on_channel, pushed

QUEUE = {"objectType": "Queue", "objectId": "8001@SIP_Switch"}
AGENT = {"objectType": "Agent", "objectId": "ana.silva"}


def pin(sim: RunningSimulator, **body: Any) -> httpx.Response:
    return request("POST", sim.base_url + "/simulator/pin", json=body)


def unpin(sim: RunningSimulator, **body: Any) -> httpx.Response:
    if not body:
        return request("DELETE", sim.base_url + "/simulator/pin")
    return request("DELETE", sim.base_url + "/simulator/pin", json=body)


def test_a_pinned_number_is_served_everywhere(simulator: RunningSimulator) -> None:
    """A pinned count shows in subscriptions, peeks, statistic-values and get-statistic-ex."""
    with client(simulator) as api:
        items = [stat("w", QUEUE["objectId"], "Queue", name="CurrentNumberWaitingCalls")]
        api.post("/subscriptions", json=subscription("op", *items))
        answer = pin(simulator, **QUEUE, name="CurrentNumberWaitingCalls", value=17)
        assert answer.status_code == 200
        assert answer.json()["pins"] == [
            {**QUEUE, "name": "CurrentNumberWaitingCalls", "value": 17}
        ]
        simulator.advance(600)
        [peeked] = api.get("/subscriptions/op/statistic-values").json()["data"]["statistics"]
        assert (peeked["value"]["intValue"], peeked["value"]["stringValue"]) == (17, "17")
        one = api.get(
            "/statistic-values/CurrentNumberWaitingCalls",
            params={"objectId": QUEUE["objectId"], "objectType": "Queue"},
        ).json()["data"]["statistic"]
        assert one["value"]["intValue"] == 17
        ex = api.post(
            "/operations/get-statistic-ex",
            json=peek_body((QUEUE["objectId"], "Queue", "CurrentNumberWaitingCalls")),
        ).json()["data"]["statistics"]
        assert ex[0]["value"]["intValue"] == 17
        assert simulator.state()["pins"] == answer.json()["pins"]


def test_a_fraction_and_an_agent_state_can_be_pinned(simulator: RunningSimulator) -> None:
    """Fractional statistics take any number; CurrentAgentState takes a status word."""
    with client(simulator) as api:
        assert pin(simulator, **QUEUE, name="ServiceLevel", value=42.5).status_code == 200
        state = pin(simulator, **AGENT, name="CurrentAgentState", value="NotReadyForNextCall")
        assert state.status_code == 200
        values = api.post(
            "/operations/get-statistic-ex",
            json=peek_body(
                (QUEUE["objectId"], "Queue", "ServiceLevel"),
                (AGENT["objectId"], "Agent", "CurrentAgentState"),
            ),
        ).json()["data"]["statistics"]
        assert values[0]["value"]["stringValue"] == "42.50"
        agent = values[1]["value"]["stateValue"]
        assert agent["status"] == "NotReadyForNextCall" and "reason" not in agent
        assert agent["place"]["dnStatuses"][0]["status"] == "NotReadyForNextCall"


def test_pins_are_pushed_and_released(simulator: RunningSimulator) -> None:
    """Pinning and unpinning push the value at once; DELETE with the keys releases one pin."""
    with client(simulator) as api:
        client_id = open_on_channel(
            api, stat("w", QUEUE["objectId"], "Queue", name="CurrentNumberWaitingCalls")
        )
        pin(simulator, **QUEUE, name="CurrentNumberWaitingCalls", value=99)
        [value] = pushed(connect(api, client_id, timeout=0))
        assert value["value"]["intValue"] == 99
        released = unpin(simulator, **QUEUE, name="CurrentNumberWaitingCalls")
        assert released.status_code == 200 and released.json()["pins"] == []
        [value] = pushed(connect(api, client_id, timeout=0))
        assert value["value"]["intValue"] != 99


def test_delete_without_a_body_releases_every_pin(simulator: RunningSimulator) -> None:
    """DELETE /simulator/pin with no body removes all pins."""
    pin(simulator, **QUEUE, name="ServiceLevel", value=10)
    pin(simulator, **AGENT, name="InboundCalls", value=3)
    assert len(simulator.state()["pins"]) == 2
    assert unpin(simulator).json() == {"pins": []}
    assert simulator.state()["pins"] == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({**QUEUE, "objectId": "nope", "name": "ServiceLevel", "value": 1}, 404,
         "Unknown object 'Queue:nope'"),
        ({**QUEUE, "name": "Happiness", "value": 1}, 404, "Unknown statistic 'Happiness'"),
        ({**QUEUE, "name": "CurrentAgentState", "value": "WaitForNextCall"}, 400,
         "Statistic 'CurrentAgentState' does not apply to objectType 'Queue'"),
        ({**QUEUE, "name": "ServiceLevel", "value": "high"}, 400,
         "value of ServiceLevel must be a number"),
        ({**QUEUE, "name": "Total_Answered", "value": 2.5}, 400,
         "value of Total_Answered (count) must be whole"),
        ({**QUEUE, "name": "Total_Answered", "value": -1}, 400,
         "value of Total_Answered must be a finite number >= 0"),
        ({**AGENT, "name": "CurrentAgentState", "value": "Asleep"}, 400,
         "value of CurrentAgentState must be a status word"),
        ({**QUEUE, "name": "ServiceLevel"}, 400, "'value' is required"),
        ({**QUEUE, "name": "ServiceLevel", "value": 1, "colour": "red"}, 400,
         "unknown field 'colour'"),
        ({"objectType": "", "objectId": "x", "name": "y", "value": 1}, 400,
         "'objectType' must be a non-empty string"),
    ],
)  # fmt: skip
def test_bad_pins_are_refused_with_a_reason(
    simulator: RunningSimulator, body: dict[str, Any], status: int, message: str
) -> None:
    """A pin that cannot apply is a 4xx envelope saying why, and nothing is pinned."""
    answer = pin(simulator, **body)
    assert answer.status_code == status
    assert answer.json()["status"]["message"].startswith(message)
    assert simulator.state()["pins"] == []


def test_releasing_what_is_not_pinned_is_a_404(simulator: RunningSimulator) -> None:
    """DELETE of a pin that does not exist says so."""
    answer = unpin(simulator, **QUEUE, name="ServiceLevel")
    assert answer.status_code == 404
    assert answer.json()["status"]["message"] == (
        "ServiceLevel of Queue '8001@SIP_Switch' is not pinned"
    )
