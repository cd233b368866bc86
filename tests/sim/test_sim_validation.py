"""Malformed requests: every one is an HTTP 400 envelope whose message names the exact problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, stat
from tests.support.sim import serve

AGENT = "ana.silva"
GOOD = stat("a1", AGENT, "Agent", name="InboundCalls")


@pytest.fixture
def api(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    """An httpx client on the running simulator's API."""
    with client(simulator) as http:
        yield http


def body_with(*items: Any, operation_id: Any = "op") -> dict[str, Any]:
    return {"operationId": operation_id, "data": {"statistics": list(items)}}


SUBSCRIBE_CASES: list[tuple[str, Any, str]] = [
    ("empty body", b"", "Request body is empty; expected a JSON object"),
    ("not JSON", b"{bad", "Request body is not valid JSON: Expecting property name"),
    ("NaN", b'{"operationId": NaN}', "Request body is not valid JSON: NaN is not valid JSON"),
    ("not UTF-8", b"\xff\xfe{}", "Request body is not UTF-8 JSON"),
    ("array", [], "Request body must be a JSON object"),
    ("no data", {"operationId": "op"}, "Request body has no 'data' object"),
    ("data not object", {"operationId": "op", "data": []}, "Request body has no 'data' object"),
    ("no statistics", {"operationId": "op", "data": {}}, "data.statistics is required"),
    (
        "statistics not list",
        {"operationId": "op", "data": {"statistics": {}}},
        "data.statistics must be a list",
    ),
    ("empty statistics", body_with(), "data.statistics is empty"),
    (
        "no operationId",
        body_with(GOOD, operation_id=None),
        "operationId is required (a client-chosen unique string)",
    ),
    (
        "blank operationId",
        body_with(GOOD, operation_id=" "),
        "operationId must be a non-empty string",
    ),
    ("item not object", body_with("a1"), "statistics[0] must be an object"),
    (
        "no statisticId",
        body_with({"objectId": AGENT, "objectType": "Agent", "name": "X"}),
        "statistics[0]: 'statisticId' is required",
    ),
    (
        "numeric statisticId",
        body_with({**GOOD, "statisticId": 7}),
        "statistics[0]: 'statisticId' must be a non-empty string",
    ),
    (
        "no objectId",
        body_with(GOOD, {"statisticId": "b", "objectType": "Agent", "name": "X"}),
        "statistics[1]: 'objectId' is required",
    ),
    (
        "no objectType",
        body_with({"statisticId": "b", "objectId": AGENT, "name": "X"}),
        "statistics[0]: 'objectType' is required",
    ),
    (
        "both",
        body_with(
            GOOD,
            stat("b", AGENT, "Agent"),
            stat("c", AGENT, "Agent"),
            {**stat("d", AGENT, "Agent", name="X"), "definition": {}},
        ),
        "statistics[1]: exactly one of 'name' or 'definition' is required",
    ),
    (
        "name and definition",
        body_with(
            {**stat("d", AGENT, "Agent", name="X"), "definition": {"category": "CurrentState"}}
        ),
        "statistics[0]: exactly one of 'name' or 'definition' is required",
    ),
    (
        "neither",
        body_with(stat("d", AGENT, "Agent")),
        "statistics[0]: exactly one of 'name' or 'definition' is required",
    ),
    (
        "blank name",
        body_with(stat("d", AGENT, "Agent", name="")),
        "statistics[0]: 'name' must be a non-empty string",
    ),
    (
        "definition not object",
        body_with({**stat("d", AGENT, "Agent"), "definition": "x"}),
        "statistics[0]: 'definition' must be an object",
    ),
    (
        "duplicate",
        body_with(
            *(stat(f"a{i}", AGENT, "Agent", name="X") for i in range(5)),
            stat("a2", AGENT, "Agent", name="X"),
        ),
        "duplicate statisticId 'a2' at statistics[5]",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "message"), SUBSCRIBE_CASES, ids=[c[0] for c in SUBSCRIBE_CASES]
)
def test_malformed_subscription_requests(
    api: httpx.Client, case: str, body: Any, message: str
) -> None:
    """A malformed POST /subscriptions is a 400 envelope naming the first problem."""
    if isinstance(body, bytes):
        response = api.post(
            "/subscriptions", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = api.post("/subscriptions", json=body)
    assert response.status_code == 400, response.text
    envelope = response.json()
    assert envelope["status"]["code"] == 400
    assert envelope["status"]["message"].startswith(message)
    assert envelope["path"] == "/statistics/v3/subscriptions"


def test_every_problem_is_listed_in_the_detail(api: httpx.Client) -> None:
    """With several problems the message names the first and detail.problems lists them all."""
    response = api.post(
        "/subscriptions",
        json=body_with(
            stat("a", AGENT, "Agent"), {"statisticId": "b"}, stat("a", AGENT, "Agent", name="X")
        ),
    )
    problems = response.json()["status"]["detail"]["problems"]
    assert problems == [
        "statistics[0]: exactly one of 'name' or 'definition' is required",
        "statistics[1]: 'objectId' is required",
        "statistics[1]: 'objectType' is required",
        "statistics[1]: exactly one of 'name' or 'definition' is required",
        "duplicate statisticId 'a' at statistics[2]",
    ]
    assert response.json()["status"]["message"] == problems[0]


@pytest.mark.parametrize("verbose", ["DEBUG", "info", ""])
def test_unknown_verbose_is_a_400(api: httpx.Client, verbose: str) -> None:
    """verbose accepts exactly INFO or OFF, on subscribe and on peek."""
    subscribed = api.post("/subscriptions", params={"verbose": verbose}, json=body_with(GOOD))
    assert subscribed.status_code == 400
    assert subscribed.json()["status"]["message"] == (
        f"verbose must be INFO or OFF, got {verbose!r}"
    )
    api.post("/subscriptions", json=body_with(GOOD))
    peeked = api.get("/subscriptions/op/statistic-values", params={"verbose": verbose})
    assert peeked.status_code == 400


PEEK_CASES: list[tuple[str, Any, str]] = [
    ("empty", {"data": {"statistics": []}}, "data.statistics is empty"),
    (
        "no name",
        {"data": {"statistics": [{"objectId": AGENT, "objectType": "Agent"}]}},
        "statistics[0]: 'name' is required",
    ),
    (
        "definition",
        {
            "data": {
                "statistics": [
                    {
                        "objectId": AGENT,
                        "objectType": "Agent",
                        "definition": {"category": "CurrentState"},
                    }
                ]
            }
        },
        "statistics[0]: get-statistic-ex takes predefined statistics ('name'), not 'definition'",
    ),
    ("no data", {"statistics": []}, "Request body has no 'data' object"),
]


@pytest.mark.parametrize(("case", "body", "message"), PEEK_CASES, ids=[c[0] for c in PEEK_CASES])
def test_malformed_get_statistic_ex_requests(
    api: httpx.Client, case: str, body: Any, message: str
) -> None:
    """A malformed get-statistic-ex body is a 400 envelope naming the problem."""
    response = api.post("/operations/get-statistic-ex", json=body)
    assert response.status_code == 400
    assert response.json()["status"]["message"] == message


def test_oversized_body_is_refused(sim_config: SimConfig) -> None:
    """A body over max_body_bytes is refused with a 413 envelope before it is parsed."""
    config = dataclasses.replace(sim_config, max_body_bytes=2048)
    with serve(config) as sim, client(sim) as http:
        response = http.post(
            "/subscriptions",
            json=body_with(
                *(stat(f"s{i}", AGENT, "Agent", name="InboundCalls") for i in range(100))
            ),
        )
    assert response.status_code == 413
    assert response.json()["status"]["message"] == "Request body is larger than 2048 bytes"


def test_no_framework_422_ever_leaks(api: httpx.Client) -> None:
    """Bodies of the wrong type or content type still get this API's 400 envelope."""
    response = api.post(
        "/subscriptions",
        content=b"operationId=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"status", "data", "errors", "path"}
