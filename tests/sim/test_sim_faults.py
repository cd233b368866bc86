"""Injected faults: failures, latency, garbled bodies, lost subscriptions, refusals, styles."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, peek_body, request, stat, subscription
from tests.support.sim import serve

AGENT = "ana.silva"
ITEMS = (
    stat("a1", AGENT, "Agent", name="CurrentAgentState"),
    stat("a2", AGENT, "Agent", name="InboundCalls"),
)


@pytest.fixture
def api(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    """An httpx client on the running simulator's API, with one subscription 'op' open."""
    with client(simulator) as http:
        assert http.post("/subscriptions", json=subscription("op", *ITEMS)).status_code == 200
        yield http


def peek(api: httpx.Client) -> httpx.Response:
    return api.get("/subscriptions/op/statistic-values")


def test_fail_next_fails_exactly_that_many(api: httpx.Client, simulator: RunningSimulator) -> None:
    """fail_next fails the next N requests of one operation with 503 envelopes, then recovers."""
    faults = simulator.set_faults(fail_next={"peek": 2})
    assert faults["fail_next"] == {"peek": 2}
    assert api.delete("/subscriptions/unrelated").status_code == 200
    for _ in range(2):
        failed = peek(api)
        assert failed.status_code == 503
        assert failed.json()["status"] == {
            "code": 503,
            "detail": {},
            "message": "Service Unavailable (injected fault)",
        }
    assert peek(api).status_code == 200
    assert simulator.state()["requests"]["peek"] == 3


def test_fail_next_with_a_chosen_status_and_any_operation(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """error_status picks the injected status; '*' counts requests of every operation."""
    simulator.set_faults(fail_next={"*": 2}, error_status=504)
    assert api.delete("/subscriptions/x").status_code == 504
    response = api.post(
        "/operations/get-statistic-ex", json=peek_body((AGENT, "Agent", "InboundCalls"))
    )
    assert (response.status_code, response.json()["status"]["message"]) == (
        504,
        "Backend timeout (injected fault)",
    )
    assert peek(api).status_code == 200


def test_error_rate_is_seeded_and_leaves_the_model_alone(sim_config: SimConfig) -> None:
    """The same fault seed fails the same requests, and faults never change statistic values."""
    runs: list[list[tuple[int, str | None]]] = []
    for rate in (0.5, 0.5, 0.0):
        with serve(sim_config) as sim, client(sim) as http:
            sim.set_faults(error_rate={"get_value": rate}, error_status={"get_value": 500})
            outcome: list[tuple[int, str | None]] = []
            for _ in range(40):
                sim.advance(15)
                reply = http.get(
                    "/statistic-values/CurrentAgentState",
                    params={"objectId": AGENT, "objectType": "Agent"},
                )
                value = reply.json()["data"].get("statistic")
                outcome.append((reply.status_code, json.dumps(value) if value else None))
            runs.append(outcome)
    statuses = [[status for status, _ in run] for run in runs]
    assert statuses[0] == statuses[1]
    assert set(statuses[0]) == {200, 500}
    assert 8 <= statuses[0].count(500) <= 32
    for (status, value), (_, clean) in zip(runs[0], runs[2], strict=True):
        if status == 200:
            assert value == clean, "fault injection changed simulated values"


def test_latency_is_added_per_operation(api: httpx.Client, simulator: RunningSimulator) -> None:
    """latency_ms stalls the named operation only."""
    simulator.set_faults(latency_ms={"peek": 300})
    began = time.perf_counter()
    peek(api)
    assert time.perf_counter() - began >= 0.3
    began = time.perf_counter()
    api.delete("/subscriptions/x")
    assert time.perf_counter() - began < 0.3


def test_invalid_json_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """invalid_json sends a truncated body under HTTP 200 and application/json."""
    simulator.set_faults(malformed={"peek": "invalid_json"})
    response = peek(api)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.text.startswith('{"status":')


def test_wrong_shape_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """wrong_shape keeps valid JSON but makes status a string and data a list."""
    simulator.set_faults(malformed={"peek": "wrong_shape"})
    body = peek(api).json()
    assert isinstance(body["status"], str)
    assert isinstance(body["data"], list)


def test_missing_fields_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """missing_fields drops value and timestamp from statistics and the ids from data."""
    simulator.set_faults(malformed={"peek": "missing_fields", "delete": "missing_fields"})
    body = peek(api).json()
    assert all("value" not in s and "timestamp" not in s for s in body["data"]["statistics"])
    assert "subscriptionId" not in body["data"]
    assert "code" not in api.delete("/subscriptions/x").json()["status"]


def test_bad_values_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """bad_values serves values of unexpected types where objects and numbers belong."""
    simulator.set_faults(malformed={"peek": "bad_values"})
    body = peek(api).json()
    assert body["status"]["code"] == "0"
    values = [s["value"] for s in body["data"]["statistics"]]
    assert values == ["12", None]
    assert body["data"]["statistics"][0]["timestamp"] == "not-a-time"


def test_huge_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """huge serves a valid multi-megabyte envelope."""
    simulator.set_faults(malformed={"peek": "huge"})
    response = peek(api)
    assert len(response.content) > 4_000_000
    assert response.json()["status"]["code"] == 0


def test_plain_error_body(api: httpx.Client, simulator: RunningSimulator) -> None:
    """plain_error answers HTTP 500 with a Spring-style body that is not an envelope."""
    simulator.set_faults(malformed={"get_statistic_ex": "plain_error"})
    response = api.post(
        "/operations/get-statistic-ex", json=peek_body((AGENT, "Agent", "InboundCalls"))
    )
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert (body["status"], body["error"]) == (500, "Internal Server Error")
    assert body["path"] == "/statistics/v3/operations/get-statistic-ex"


def test_counted_malformed_and_processing_behind_garbage(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """A counted fault garbles only the next N replies; the request itself is still carried out."""
    simulator.set_faults(malformed={"subscribe": {"kind": "invalid_json", "count": 1}})
    garbled = api.post("/subscriptions", json=subscription("second", *ITEMS))
    with pytest.raises(json.JSONDecodeError):
        garbled.json()
    assert "second" in simulator.state()["subscriptions"]
    retry = api.post("/subscriptions", json=subscription("second", *ITEMS))
    assert retry.json()["data"]["subscriptionId"] == "second"
    assert simulator.set_faults()["malformed"] == {}


def test_drop_subscriptions_forgets_them_all(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """drop_subscriptions acts like a Stat Server restart: every subscription is gone."""
    simulator.set_faults(drop_subscriptions=True)
    assert simulator.state()["open_subscriptions"] == 0
    assert peek(api).status_code == 404
    assert api.post("/subscriptions", json=subscription("op", *ITEMS)).status_code == 200


@pytest.mark.parametrize(
    ("style", "http_status"), [(True, 503), ("http503", 503), ("envelope", 200)]
)
def test_refuse_subscriptions(
    api: httpx.Client, simulator: RunningSimulator, style: object, http_status: int
) -> None:
    """New subscriptions are refused (HTTP 503 or an envelope 503); existing ones still work."""
    simulator.set_faults(refuse_subscriptions=style)
    refused = api.post("/subscriptions", json=subscription("new", *ITEMS))
    assert refused.status_code == http_status
    assert refused.json()["status"]["code"] == 503
    assert api.post("/subscriptions", json=subscription("op", *ITEMS)).status_code == 200
    assert peek(api).status_code == 200
    assert simulator.state()["open_subscriptions"] == 1


def test_unknown_subscription_as_an_envelope(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """The envelope style answers an unknown subscription with HTTP 200 and status.code 404."""
    simulator.set_faults(unknown_subscription_style="envelope")
    response = api.get("/subscriptions/nope/statistic-values")
    assert response.status_code == 200
    assert response.json()["status"]["code"] == 404
    assert response.json()["status"]["message"] == "Subscription 'nope' not found"


def test_token_faults_answer_oauth_style(simulator: RunningSimulator) -> None:
    """Injected token endpoint failures look like OAuth errors, not envelopes."""
    simulator.set_faults(fail_next={"token": 1})
    reply = request(
        "POST",
        simulator.base_url + "/auth/v3/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"x-api-key": "k", "Authorization": "Basic YTpi"},
    )
    assert reply.status_code == 503
    assert reply.json()["error"] == "temporarily_unavailable"


def test_faults_can_be_read_and_cleared(api: httpx.Client, simulator: RunningSimulator) -> None:
    """GET shows the faults in force; DELETE clears every one of them."""
    simulator.set_faults(
        error_rate={"*": 0.25},
        latency_ms=10,
        malformed={"peek": "huge"},
        unknown_subscription_style="envelope",
    )
    shown = request("GET", simulator.base_url + "/simulator/faults").json()
    assert shown["error_rate"] == {"*": 0.25}
    assert shown["latency_ms"] == {"*": 10.0}
    assert shown["malformed"] == {"peek": "huge"}
    cleared = simulator.clear_faults()
    assert (cleared["error_rate"], cleared["malformed"], cleared["latency_ms"]) == ({}, {}, {})
    assert cleared["unknown_subscription_style"] == "http404"
    assert peek(api).status_code == 200


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"fail_next": {"peek": 1}, "error_rate": {"bogus": 1}},
            "error_rate: unknown operation 'bogus'",
        ),
        ({"error_rate": {"peek": 2}}, "error_rate.peek must be between 0 and 1, got 2"),
        ({"malformed": {"peek": "sideways"}}, "malformed.peek: unknown kind 'sideways'"),
        ({"error_status": 200}, "error_status must be an HTTP error status (400-599)"),
        (
            {"unknown_subscription_style": "teapot"},
            "unknown_subscription_style must be 'http404' or 'envelope'",
        ),
        ({"explode": True}, "unknown field 'explode'"),
    ],
)
def test_bad_fault_specs_change_nothing(
    simulator: RunningSimulator, spec: dict[str, object], message: str
) -> None:
    """An invalid faults body is a 400 envelope naming the field, and nothing is applied."""
    response = request("POST", simulator.base_url + "/simulator/faults", json=spec)
    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith(message)
    assert simulator.set_faults()["fail_next"] == {}


def test_faults_use_their_own_seed(sim_config: SimConfig) -> None:
    """A different fault_seed gives a different failure pattern for the same error rate."""
    patterns = []
    for fault_seed in (1, 2):
        config = dataclasses.replace(sim_config, fault_seed=fault_seed)
        with serve(config) as sim, client(sim) as http:
            sim.set_faults(error_rate={"delete": 0.5})
            patterns.append([http.delete("/subscriptions/x").status_code for _ in range(30)])
    assert patterns[0] != patterns[1]
