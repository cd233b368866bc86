"""Gateway security: x-api-key (403), bearer tokens (401), the token endpoint and its grants."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, request, stat, subscription
from tests.support.sim import serve
from tests.support.wait import until

CLIENT_ID = "statdash"
SECRET = "s3cret-never-echoed"
USER = "ACME\\jsmith"
PASSWORD = "hunter2-never-echoed"
OPERATIONS: list[tuple[str, str, Any]] = [
    (
        "POST",
        "/operations/get-statistic-ex",
        {
            "data": {
                "statistics": [
                    {"objectId": "ana.silva", "objectType": "Agent", "name": "InboundCalls"}
                ]
            }
        },
    ),
    ("GET", "/statistic-values/InboundCalls?objectId=ana.silva&objectType=Agent", None),
    (
        "POST",
        "/subscriptions",
        subscription("op", stat("a1", "ana.silva", "Agent", name="InboundCalls")),
    ),
    ("GET", "/subscriptions/op/statistic-values", None),
    ("DELETE", "/subscriptions/op", None),
    ("GET", "/no/such/route", None),
]


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def delete_status(sim: RunningSimulator, headers: dict[str, str]) -> int:
    """HTTP status of a DELETE /subscriptions/x sent with these headers."""
    return request("DELETE", sim.api_url + "/subscriptions/x", headers=headers).status_code


@pytest.fixture
def secured(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator with an API key, client credentials and one password-grant user."""
    config = dataclasses.replace(
        sim_config,
        api_key="the-key",
        client_id=CLIENT_ID,
        client_secret=SECRET,
        users={USER: PASSWORD},
    )
    with serve(config) as sim:
        yield sim


def token(
    sim: RunningSimulator,
    form: dict[str, str],
    *,
    authorization: str | None = None,
    api_key: str = "the-key",
) -> httpx.Response:
    return request(
        "POST",
        sim.base_url + "/auth/v3/oauth/token",
        data=form,
        headers={"Authorization": authorization or basic(), "x-api-key": api_key},
    )


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_missing_api_key_is_a_403_envelope(
    simulator: RunningSimulator, method: str, path: str, body: Any
) -> None:
    """Every API request without an x-api-key gets HTTP 403 and the envelope's message."""
    response = request(method, simulator.api_url + path, json=body)
    assert response.status_code == 403
    assert response.json()["status"] == {
        "code": 403,
        "message": "Missing or invalid x-api-key",
        "detail": {},
    }


def test_blank_or_wrong_api_key_is_refused(
    simulator: RunningSimulator, secured: RunningSimulator
) -> None:
    """A blank key is always refused; with api_key configured only that exact key passes."""

    def status(sim: RunningSimulator, key: str) -> int:
        return request(
            "DELETE", sim.api_url + "/subscriptions/x", headers={"x-api-key": key}
        ).status_code

    assert (status(simulator, ""), status(simulator, "anything")) == (403, 200)
    assert (status(secured, "other-key"), status(secured, "the-key")) == (403, 401)


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_missing_bearer_token_is_a_401_envelope(
    secured: RunningSimulator, method: str, path: str, body: Any
) -> None:
    """With client credentials configured every API request needs a valid bearer token."""
    response = request(
        method,
        secured.api_url + path,
        json=body,
        headers={"x-api-key": "the-key", "Authorization": "Bearer forged"},
    )
    assert response.status_code == 401
    assert response.json()["status"]["code"] == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_client_credentials_token_opens_the_api(secured: RunningSimulator) -> None:
    """A client_credentials token has the OAuth reply shape and authorises API calls."""
    reply = token(secured, {"grant_type": "client_credentials", "scope": "*"})
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("bearer", 3600, "*")
    with client(
        secured, **{"x-api-key": "the-key", "Authorization": f"Bearer {body['access_token']}"}
    ) as api:
        assert api.delete("/subscriptions/x").json()["status"]["code"] == 0
    assert secured.state()["tokens_issued"] == 1


def test_password_grant_and_refresh(secured: RunningSimulator) -> None:
    """The password grant takes TENANT\\user; its refresh token yields new working tokens."""
    first = token(
        secured, {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "*"}
    ).json()
    refreshed = token(
        secured, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    for access in (first["access_token"], second["access_token"]):
        response = request(
            "DELETE",
            secured.api_url + "/subscriptions/x",
            headers={"x-api-key": "the-key", "Authorization": f"Bearer {access}"},
        )
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "authorization", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, basic(secret="wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, "Basic !!!", 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, "Bearer x", 401, "invalid_client"),
        (
            {"grant_type": "password", "username": USER, "password": "wrong"},
            None,
            400,
            "invalid_grant",
        ),
        (
            {"grant_type": "password", "username": "jsmith", "password": PASSWORD},
            None,
            400,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, None, 400, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "x"}, None, 400, "unsupported_grant_type"),
        ({}, None, 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors_are_oauth_style(
    secured: RunningSimulator,
    form: dict[str, str],
    authorization: str | None,
    status: int,
    error: str,
) -> None:
    """Bad clients, grants and grant types get OAuth error JSON and never echo secrets."""
    reply = token(secured, form, authorization=authorization)
    assert reply.status_code == status
    body = reply.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert SECRET not in reply.text and PASSWORD not in reply.text and "wrong" not in reply.text


def test_token_endpoint_needs_the_api_key(secured: RunningSimulator) -> None:
    """The token endpoint is behind the same gateway: no valid x-api-key, no token."""
    reply = token(secured, {"grant_type": "client_credentials"}, api_key="nope")
    assert reply.status_code == 403
    assert reply.json()["error"] == "invalid_request"


def test_tokens_expire(sim_config: SimConfig) -> None:
    """An access token stops working once token_ttl has passed (on the wall clock)."""
    config = dataclasses.replace(
        sim_config, client_id=CLIENT_ID, client_secret=SECRET, token_ttl=1.0
    )
    with serve(config) as sim:
        access = token(sim, {"grant_type": "client_credentials"}, api_key="k").json()
        headers = {"x-api-key": "k", "Authorization": f"Bearer {access['access_token']}"}
        assert access["expires_in"] == 1
        assert delete_status(sim, headers) == 200
        until(lambda: delete_status(sim, headers) == 401, what="the token to expire")


def test_revoking_tokens_ends_access_and_refresh(secured: RunningSimulator) -> None:
    """The revoke_tokens fault invalidates every access and refresh token at once."""
    issued = token(
        secured, {"grant_type": "password", "username": USER, "password": PASSWORD}
    ).json()
    headers = {"x-api-key": "the-key", "Authorization": f"Bearer {issued['access_token']}"}
    assert delete_status(secured, headers) == 200
    secured.set_faults(revoke_tokens=True)
    assert delete_status(secured, headers) == 401
    again = token(
        secured, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    )
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert "revoke_tokens" not in secured.set_faults()


def test_open_simulator_issues_tokens_to_anyone(simulator: RunningSimulator) -> None:
    """Without configured credentials tokens are optional, but any client may still get one."""
    reply = token(
        simulator, {"grant_type": "client_credentials"}, authorization=basic("a", "b"), api_key="k"
    )
    assert reply.status_code == 200
    assert reply.json()["token_type"] == "bearer"
