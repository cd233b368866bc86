"""Helpers for the simulator tests: request builders and an httpx client bound to a simulator."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from statdash.sim.runner import RunningSimulator

API_KEY = "test-key"
# Building an SSL context costs tens of milliseconds and every httpx client builds one, even
# for plain http://; share one so the tests stay fast.
_SSL = ssl.create_default_context()


def client(sim: RunningSimulator, **headers: str) -> httpx.Client:
    """An httpx client on the simulator's API with an x-api-key (override via headers)."""
    merged = {"x-api-key": API_KEY, **headers}
    return httpx.Client(
        base_url=sim.api_url, headers=merged, timeout=30.0, trust_env=False, verify=_SSL
    )


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request from a fresh client (no cookies carried over), like httpx.request."""
    with httpx.Client(timeout=30.0, trust_env=False, verify=_SSL) as http:
        return http.request(method, url, **kwargs)


def stat(
    statistic_id: str,
    object_id: str,
    object_type: str,
    name: str | None = None,
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One subscription item."""
    item: dict[str, Any] = {
        "statisticId": statistic_id,
        "objectId": object_id,
        "objectType": object_type,
    }
    if name is not None:
        item["name"] = name
    if definition is not None:
        item["definition"] = definition
    return item


def subscription(operation_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    """A POST /subscriptions body."""
    return {"operationId": operation_id, "data": {"statistics": list(items)}}


def peek_body(*items: tuple[str, str, str]) -> dict[str, Any]:
    """A get-statistic-ex body from (objectId, objectType, name) triples."""
    return {
        "data": {"statistics": [{"objectId": o, "objectType": t, "name": n} for o, t, n in items]}
    }
