"""The client against the real simulator over loopback HTTP: operations, faults, tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from statdash.api import errors, models
from statdash.api.auth import ClientCredentials, PasswordGrant, StaticToken
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.values import AgentStateValue, NumberValue, parse_value
from statdash.sim import ids
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.api.support import Sleeps
from tests.support.sim import serve

API_KEY = "sim-apikey-SECRET-51f0"
CLIENT_ID = "statdash"
CLIENT_SECRET = "sim-clientsecret-SECRET-77a2"
USER = "ACME\\supervisor"
PASSWORD = "sim-password-SECRET-0c3d"

AGENT = ids.agent_id(0)
QUEUE = ids.queue_id(0)


def item(statistic_id: str, object_id: str, object_type: str, name: str) -> dict[str, str]:
    """One predefined subscription item in wire form."""
    return {
        "statisticId": statistic_id,
        "objectId": object_id,
        "objectType": object_type,
        "name": name,
    }


ITEMS: list[dict[str, Any]] = [
    item("state", AGENT, "Agent", "CurrentAgentState"),
    item("talk", AGENT, "Agent", "TalkDuration"),
    item("waiting", QUEUE, "Queue", "CurrentNumberWaitingCalls"),
    item("sl", QUEUE, "Queue", "ServiceLevel"),
    {
        "statisticId": "adhoc",
        "objectId": AGENT,
        "objectType": "Agent",
        "definition": {
            "category": "TotalTime",
            "subject": "AgentStatus",
            "mainMask": "WaitForNextCall",
            "intervalType": "GrowingWindow",
        },
    },
]


@pytest.fixture
def sleeps() -> Sleeps:
    """The retry waits of the test's client, recorded instead of slept."""
    return Sleeps()


@pytest.fixture
def client_api_key() -> str:
    """The root `client` fixture sends this module's key."""
    return API_KEY


@pytest.fixture
def client_retry(sleeps: Sleeps) -> RetryPolicy:
    """The root `client` fixture retries without waiting (the waits go to `sleeps`)."""
    return RetryPolicy(sleep=sleeps, random=lambda: 0.5)


@pytest.fixture
def secured() -> Iterator[RunningSimulator]:
    """A simulator that requires the API key, client credentials and bearer tokens."""
    config = SimConfig(
        agents=20,
        queues=2,
        seed=3,
        clock="manual",
        start_time=1_700_000_000,
        api_key=API_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        users={USER: PASSWORD},
    )
    with serve(config) as sim:
        yield sim


def secured_client(sim: RunningSimulator, auth: Any, **kwargs: Any) -> StatisticsClient:
    """A client of the secured simulator with the given auth source."""
    kwargs.setdefault("retry", RetryPolicy(sleep=Sleeps()))
    return StatisticsClient(sim.base_url, API_KEY, auth=auth, **kwargs)


async def state(sim: RunningSimulator) -> dict[str, Any]:
    """GET /simulator/state without blocking the event loop."""
    return await asyncio.to_thread(sim.state)


async def set_faults(sim: RunningSimulator, **faults: Any) -> None:
    """POST /simulator/faults without blocking the event loop."""
    await asyncio.to_thread(sim.set_faults, **faults)


# --- The done-criterion and every operation ----------------------------------------------


async def test_done_criterion_open_peek_read_delete_leaves_nothing_open(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Open, peek, read one and several predefined statistics, delete: zero subscriptions left."""
    opened = await client.open_subscription(ITEMS)
    assert not opened.partial
    assert sorted(s.statistic_id for s in opened.statistics) == sorted(
        i["statisticId"] for i in ITEMS
    )
    assert (await state(simulator))["open_subscriptions"] == 1

    peeked = await client.peek_subscription(opened.subscription_id)
    assert len(peeked.statistics) == len(ITEMS) and not peeked.partial

    single = await client.get_statistic_value("CurrentAgentState", AGENT, "Agent")
    assert (single.name, single.object_id, single.object_type) == (
        "CurrentAgentState",
        AGENT,
        "Agent",
    )

    several = await client.get_statistic_ex(
        [
            models.PredefinedStatisticRef(
                object_id=AGENT, object_type="Agent", name="ReadyDuration"
            ),
            models.PredefinedStatisticRef(
                object_id=QUEUE, object_type="Queue", name="Total_Answered"
            ),
        ]
    )
    assert [s.name for s in several.statistics] == ["ReadyDuration", "Total_Answered"]

    await client.delete_subscription(opened.subscription_id)
    assert (await state(simulator))["open_subscriptions"] == 0


async def test_values_read_as_agent_state_and_numbers(client: StatisticsClient) -> None:
    """The simulator's value objects parse into AgentStateValue and NumberValue."""
    opened = await client.open_subscription(ITEMS)
    by_id = {s.statistic_id: parse_value(s.value, s.timestamp) for s in opened.statistics}
    assert isinstance(by_id["state"], AgentStateValue)
    for key in ("talk", "waiting", "sl", "adhoc"):
        assert isinstance(by_id[key], NumberValue), (key, by_id[key])
    await client.delete_subscription(opened.subscription_id)


async def test_verbose_and_statistic_ids_select_what_comes_back(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """verbose=INFO carries names, verbose=OFF does not; statisticIds narrows the peek."""
    opened = await client.open_subscription(ITEMS, verbose="OFF")
    assert all(s.name is None and s.object_id is None for s in opened.statistics)
    info = await client.peek_subscription(opened.subscription_id, verbose="INFO")
    assert {s.statistic_id: s.object_id for s in info.statistics}["waiting"] == QUEUE
    some = await client.peek_subscription(opened.subscription_id, statistic_ids=["sl", "talk"])
    assert [s.statistic_id for s in some.statistics] == ["sl", "talk"]
    await simulator_advance(simulator, 600)
    later = await client.peek_subscription(opened.subscription_id, statistic_ids=["talk"])
    later_at, some_at = later.statistics[0].timestamp, some.statistics[0].timestamp
    assert later_at is not None and some_at is not None
    assert later_at > some_at
    await client.delete_subscription(opened.subscription_id)


async def simulator_advance(sim: RunningSimulator, seconds: float) -> None:
    """Move the manual simulated clock forward."""
    await asyncio.to_thread(sim.advance, seconds)


async def test_given_operation_id_is_the_subscription_id(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """The operationId the caller chooses is the id the simulator files the subscription under."""
    opened = await client.open_subscription(ITEMS[:1], operation_id="my-dashboard-1")
    assert opened.subscription_id == "my-dashboard-1"
    assert list((await state(simulator))["subscriptions"]) == ["my-dashboard-1"]
    await client.delete_subscription("my-dashboard-1")


async def test_one_session_cookie_for_the_whole_client(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Every call of one client reuses the STATISTICS_SESSIONID the first answer set."""
    opened = await client.open_subscription(ITEMS[:2])
    for _ in range(3):
        await client.peek_subscription(opened.subscription_id)
    await client.get_statistic_value("TalkDuration", AGENT, "Agent")
    await client.delete_subscription(opened.subscription_id)
    assert (await state(simulator))["sessions"] == 1


# --- Partial success and not found --------------------------------------------------------


async def test_one_unknown_statistic_is_a_partial_success(client: StatisticsClient) -> None:
    """A subscription with one unknown statistic opens the rest and reports that one."""
    wanted = [*ITEMS[:3], item("ghost", AGENT, "Agent", "NoSuchStatistic")]
    opened = await client.open_subscription(wanted)
    assert sorted(s.statistic_id for s in opened.statistics) == ["state", "talk", "waiting"]
    (error,) = opened.errors
    assert (error.code, error.statistic_id, error.object_id, error.name) == (
        404,
        "ghost",
        AGENT,
        "NoSuchStatistic",
    )
    assert opened.partial and opened.status_code == 2 and "NoSuchStatistic" in error.message
    await client.delete_subscription(opened.subscription_id)


async def test_peek_of_an_unknown_statistic_id_is_a_partial_success(
    client: StatisticsClient,
) -> None:
    """Peeking a statisticId the subscription lacks returns the others plus an ItemError."""
    opened = await client.open_subscription(ITEMS[:2])
    peeked = await client.peek_subscription(opened.subscription_id, statistic_ids=["state", "zz"])
    assert [s.statistic_id for s in peeked.statistics] == ["state"]
    assert [(e.code, e.statistic_id) for e in peeked.errors] == [(404, "zz")]
    await client.delete_subscription(opened.subscription_id)


async def test_get_statistic_ex_partial_success_names_the_object(client: StatisticsClient) -> None:
    """An unknown object in get-statistic-ex fails alone; its error has no statisticId."""
    result = await client.get_statistic_ex(
        [
            {"objectId": AGENT, "objectType": "Agent", "name": "TalkDuration"},
            {"objectId": "nobody.here", "objectType": "Agent", "name": "TalkDuration"},
        ]
    )
    assert [s.object_id for s in result.statistics] == [AGENT]
    (error,) = result.errors
    assert (error.code, error.statistic_id, error.object_id) == (404, None, "nobody.here")


async def test_unknown_single_statistic_is_not_found(client: StatisticsClient) -> None:
    """get_statistic_value of an unknown statistic raises NotFoundError with the envelope code."""
    with pytest.raises(errors.NotFoundError) as caught:
        await client.get_statistic_value("NoSuchStatistic", AGENT, "Agent")
    assert caught.value.code == 404 and "NoSuchStatistic" in caught.value.server_message


async def test_peek_of_a_dropped_subscription_is_not_found(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """After the server drops its subscriptions, a peek raises NotFoundError (HTTP 404)."""
    opened = await client.open_subscription(ITEMS[:1])
    await set_faults(simulator, drop_subscriptions=True)
    with pytest.raises(errors.NotFoundError):
        await client.peek_subscription(opened.subscription_id)


async def test_unknown_subscription_in_envelope_style_is_an_envelope_error(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A 200 whose envelope says 404 (and no data) for an unknown subscription is EnvelopeError."""
    await set_faults(simulator, unknown_subscription_style="envelope")
    with pytest.raises(errors.EnvelopeError) as caught:
        await client.peek_subscription("never-opened")
    assert caught.value.code == 404


async def test_delete_of_an_unknown_subscription_succeeds(client: StatisticsClient) -> None:
    """DELETE is fire-and-forget: deleting an unknown id returns without an error."""
    await client.delete_subscription("never-opened")


async def test_server_side_validation_reaches_the_caller(client: StatisticsClient) -> None:
    """A request the simulator refuses (operationId reused for other statistics) is a 400."""
    await client.open_subscription(ITEMS[:1], operation_id="dup")
    with pytest.raises(errors.BadRequestError, match="already used"):
        await client.open_subscription(ITEMS[1:2], operation_id="dup")
    await client.delete_subscription("dup")


# --- Injected faults ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 504])
async def test_transient_failures_are_retried_to_success(
    simulator: RunningSimulator, client: StatisticsClient, sleeps: Sleeps, status: int
) -> None:
    """Two injected 503/504s on peek are retried away; the third attempt succeeds."""
    opened = await client.open_subscription(ITEMS[:1])
    await set_faults(simulator, fail_next={"peek": 2}, error_status=status)
    peeked = await client.peek_subscription(opened.subscription_id)
    assert len(peeked.statistics) == 1 and sleeps.delays == [0.25, 0.5]
    assert (await state(simulator))["requests"]["peek"] == 3


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (500, errors.ServerError),
        (503, errors.ServiceUnavailableError),
        (504, errors.GatewayTimeoutError),
    ],
)
async def test_injected_status_raises_its_class(
    simulator: RunningSimulator, client: StatisticsClient, status: int, expected: type
) -> None:
    """An injected HTTP error raises its class with the envelope's code and message."""
    await set_faults(simulator, fail_next={"get_value": 5}, error_status=status)
    with pytest.raises(errors.HTTPStatusError) as caught:
        await client.get_statistic_value("TalkDuration", AGENT, "Agent")
    assert type(caught.value) is expected
    assert caught.value.code == status and "injected fault" in caught.value.server_message


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("invalid_json", errors.ShapeError),
        ("wrong_shape", errors.ShapeError),
        ("bad_values", errors.ShapeError),
        ("plain_error", errors.ServerError),
    ],
)
async def test_malformed_answers_raise_typed_errors(
    simulator: RunningSimulator, client: StatisticsClient, kind: str, expected: type
) -> None:
    """Garbled peek answers raise ShapeError; a plain error body raises ServerError."""
    opened = await client.open_subscription(ITEMS)
    await set_faults(simulator, malformed={"peek": kind})
    with pytest.raises(errors.StatisticsError) as caught:
        await client.peek_subscription(opened.subscription_id)
    assert type(caught.value) is expected


async def test_tolerable_garbling_still_parses(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Missing values/ids and a padded (huge) body still give results, with what is there."""
    opened = await client.open_subscription(ITEMS)
    await set_faults(
        simulator,
        malformed={
            "peek": {"kind": "missing_fields", "count": 1},
            "subscribe": {"kind": "huge", "count": 1},
        },
    )
    peeked = await client.peek_subscription(opened.subscription_id)
    assert len(peeked.statistics) == len(ITEMS) and all(s.value is None for s in peeked.statistics)
    again = await client.open_subscription(ITEMS[:1])
    assert len(again.statistics) == 1


async def test_refused_subscription_in_envelope_style_is_an_envelope_error(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A 200 envelope refusing the subscription (code 503, no data) raises EnvelopeError."""
    await set_faults(simulator, refuse_subscriptions="envelope")
    with pytest.raises(errors.EnvelopeError) as caught:
        await client.open_subscription(ITEMS)
    assert caught.value.code == 503 and (await state(simulator))["open_subscriptions"] == 0


async def test_resent_subscription_is_the_same_subscription(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Opening twice with one operationId (what a retry does) leaves one subscription."""
    first = await client.open_subscription(ITEMS, operation_id="resent")
    second = await client.open_subscription(ITEMS, operation_id="resent")
    assert first.subscription_id == second.subscription_id == "resent"
    assert len(second.statistics) == len(ITEMS)
    assert (await state(simulator))["open_subscriptions"] == 1


async def test_timed_out_subscription_is_retried(simulator: RunningSimulator) -> None:
    """A subscribe that times out is re-sent with the same operationId and then opens once."""

    async def lift_latency(delay: float) -> None:
        await set_faults(simulator, latency_ms={})

    # Wide margins (a 1.2 s stall against a 0.4 s timeout) so a loaded machine cannot make the
    # un-stalled second attempt time out too.
    await set_faults(simulator, latency_ms={"subscribe": 1200})
    retry = RetryPolicy(attempts=2, sleep=lift_latency)
    async with StatisticsClient(
        simulator.base_url, API_KEY, retry=retry, read_timeout=0.4
    ) as client:
        opened = await client.open_subscription(ITEMS)
    current = await state(simulator)
    assert current["requests"]["subscribe"] == 2
    assert list(current["subscriptions"]) == [opened.subscription_id]


async def test_hostile_server_strings_do_not_break_parsing() -> None:
    """Hostile strings in reasons and messages still parse, and messages come clipped."""
    config = SimConfig(agents=20, queues=2, seed=5, clock="manual", hostile=True)
    with serve(config) as sim:
        async with StatisticsClient(sim.base_url, API_KEY) as client:
            opened = await client.open_subscription([*ITEMS, item("x", AGENT, "Agent", "Nope")])
            assert len(opened.statistics) == len(ITEMS) and len(opened.errors) == 1
            with pytest.raises(errors.NotFoundError) as caught:
                await client.get_statistic_value("Nope", AGENT, "Agent")
            assert len(str(caught.value)) < 500


# --- Tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [
        ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        PasswordGrant(CLIENT_ID, CLIENT_SECRET, USER, PASSWORD),
    ],
    ids=["client_credentials", "password"],
)
async def test_token_grants_open_the_secured_api(secured: RunningSimulator, auth: Any) -> None:
    """Both grants get a token from the simulator and every operation then succeeds."""
    async with secured_client(secured, auth) as client:
        opened = await client.open_subscription(ITEMS[:2])
        await client.peek_subscription(opened.subscription_id)
        await client.get_statistic_ex(
            [{"objectId": AGENT, "objectType": "Agent", "name": "TalkDuration"}]
        )
        await client.get_statistic_value("TalkDuration", AGENT, "Agent")
        await client.delete_subscription(opened.subscription_id)
    current = await state(secured)
    assert current["tokens_issued"] == 1 and current["open_subscriptions"] == 0


async def test_revoked_token_is_renewed_and_the_call_replayed(secured: RunningSimulator) -> None:
    """After the simulator revokes every token, the next call renews its token and succeeds."""
    async with secured_client(secured, ClientCredentials(CLIENT_ID, CLIENT_SECRET)) as client:
        opened = await client.open_subscription(ITEMS[:1])
        await set_faults(secured, revoke_tokens=True)
        peeked = await client.peek_subscription(opened.subscription_id)
    assert len(peeked.statistics) == 1
    current = await state(secured)
    assert current["tokens_issued"] == 2 and current["requests"]["peek"] == 2


async def test_token_is_refreshed_before_expiry(secured: RunningSimulator) -> None:
    """Close to expiry (by the client's clock) the token is renewed with the refresh grant."""
    now = [0.0]
    async with secured_client(
        secured, ClientCredentials(CLIENT_ID, CLIENT_SECRET), clock=lambda: now[0]
    ) as client:
        await client.get_statistic_value("TalkDuration", AGENT, "Agent")
        now[0] = 3600 - 30  # inside the last minute of the hour-long token
        await client.get_statistic_value("TalkDuration", AGENT, "Agent")
    current = await state(secured)
    assert current["tokens_issued"] == 2 and current["requests"]["token"] == 2
    assert current["requests"]["get_value"] == 2  # no 401 round trip was needed


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (ClientCredentials(CLIENT_ID, "wrong-secret"), "invalid_client"),
        (PasswordGrant(CLIENT_ID, CLIENT_SECRET, USER, "wrong-password"), "invalid_grant"),
        (PasswordGrant(CLIENT_ID, CLIENT_SECRET, "no-tenant", PASSWORD), "TENANT"),
    ],
    ids=["bad secret", "bad password", "no tenant"],
)
async def test_refused_grant_is_an_auth_error(
    secured: RunningSimulator, auth: Any, message: str
) -> None:
    """Wrong credentials raise AuthError with the OAuth error, and no API call is made."""
    async with secured_client(secured, auth) as client:
        with pytest.raises(errors.AuthError, match=message) as caught:
            await client.get_statistic_value("TalkDuration", AGENT, "Agent")
    for secret in (API_KEY, CLIENT_SECRET, PASSWORD, "wrong-secret", "wrong-password"):
        assert secret not in str(caught.value)
    assert "get_value" not in (await state(secured))["requests"]


async def test_wrong_api_key_is_permission_denied(secured: RunningSimulator) -> None:
    """A wrong x-api-key is refused with 403 by the API (no token source involved)."""
    async with StatisticsClient(secured.base_url, "not-the-key") as client:
        with pytest.raises(errors.PermissionDeniedError):
            await client.get_statistic_value("TalkDuration", AGENT, "Agent")


async def test_missing_token_is_an_authentication_error(secured: RunningSimulator) -> None:
    """With the right key but no or a made-up bearer token, the API answers 401."""
    for auth in (None, StaticToken("made-up-token")):
        async with secured_client(secured, auth) as client:
            with pytest.raises(errors.AuthenticationError):
                await client.get_statistic_value("TalkDuration", AGENT, "Agent")


async def test_unavailable_token_endpoint_is_retried(secured: RunningSimulator) -> None:
    """A 503 injected on the token endpoint is retried; the call then succeeds."""
    await set_faults(secured, fail_next={"token": 1}, error_status=503)
    async with secured_client(secured, ClientCredentials(CLIENT_ID, CLIENT_SECRET)) as client:
        await client.get_statistic_value("TalkDuration", AGENT, "Agent")
    assert (await state(secured))["requests"]["token"] == 2


async def test_garbled_token_reply_is_an_auth_error(secured: RunningSimulator) -> None:
    """A token reply with the access token missing or misshapen raises AuthError."""
    for kind in ("missing_fields", "bad_values", "wrong_shape", "invalid_json"):
        await set_faults(secured, malformed={"token": {"kind": kind, "count": 1}})
        async with secured_client(secured, ClientCredentials(CLIENT_ID, CLIENT_SECRET)) as client:
            with pytest.raises(errors.AuthError):
                await client.get_statistic_value("TalkDuration", AGENT, "Agent")
