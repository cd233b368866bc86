"""The five operations over real loopback HTTP: shapes, partial success, verbose, ids, cookies."""

from __future__ import annotations

import httpx
import pytest

from statdash.sim.runner import RunningSimulator
from tests.sim.support import client, peek_body, request, stat, subscription
from tests.support.sim import SIM_START

AGENT = "ana.silva"
QUEUE = "8001@SIP_Switch"
ENVELOPE_KEYS = {"status", "data", "errors", "path"}
INFO_KEYS = {"statisticId", "name", "objectId", "objectType", "timestamp", "value"}
OFF_KEYS = {"statisticId", "timestamp", "value"}
PEEKED_KEYS = {"name", "objectId", "objectType", "timestamp", "value"}


@pytest.fixture
def api(simulator: RunningSimulator) -> httpx.Client:
    """An httpx client on the running simulator's /statistics/v3 with an x-api-key."""
    return client(simulator)


def test_get_statistic_ex_returns_peeked_values(api: httpx.Client) -> None:
    """get-statistic-ex answers every predefined statistic asked for, in order, code 0."""
    response = api.post(
        "/operations/get-statistic-ex",
        json=peek_body(
            (AGENT, "Agent", "CurrentAgentState"),
            (QUEUE, "Queue", "Total_Answered"),
            ("Team_01", "GroupAgents", "CurrentReadyAgents"),
        ),
    )
    body = response.json()
    assert response.status_code == 200
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == {"code": 0, "message": "OK", "detail": {}}
    assert body["path"] == "/statistics/v3/operations/get-statistic-ex"
    values = body["data"]["statistics"]
    assert [v["name"] for v in values] == [
        "CurrentAgentState",
        "Total_Answered",
        "CurrentReadyAgents",
    ]
    assert all(set(v) == PEEKED_KEYS for v in values)
    assert all(v["timestamp"] == int(SIM_START * 1000) for v in values)
    assert values[0]["value"]["stateValue"]["agentId"] == AGENT


def test_get_statistic_ex_partial_success(api: httpx.Client) -> None:
    """Unknown names and objects come back in errors[] beside the values that worked, code 2."""
    body = api.post(
        "/operations/get-statistic-ex",
        json=peek_body(
            (AGENT, "Agent", "InboundCalls"),
            (AGENT, "Agent", "Foo"),
            ("xyz", "Agent", "InboundCalls"),
        ),
    ).json()
    assert body["status"]["code"] == 2
    assert body["status"]["message"] == "2 of 3 statistics could not be read"
    assert [v["name"] for v in body["data"]["statistics"]] == ["InboundCalls"]
    assert body["errors"] == [
        {
            "status": {
                "code": 404,
                "message": "Unknown statistic 'Foo'",
                "detail": {"objectId": AGENT, "objectType": "Agent", "name": "Foo"},
            }
        },
        {
            "status": {
                "code": 404,
                "message": "Unknown object 'Agent:xyz'",
                "detail": {"objectId": "xyz", "objectType": "Agent", "name": "InboundCalls"},
            }
        },
    ]


def test_get_statistic_ex_when_everything_fails(api: httpx.Client) -> None:
    """When no item works the reply is still code 2 with an empty statistics list."""
    response = api.post("/operations/get-statistic-ex", json=peek_body((AGENT, "Agent", "Foo")))
    assert response.status_code == 200
    body = response.json()
    assert body["status"]["code"] == 2
    assert body["data"] == {"statistics": []}
    assert len(body["errors"]) == 1


def test_get_single_value(api: httpx.Client) -> None:
    """GET statistic-values/{name} answers data.statistic (singular) for one object."""
    response = api.get(
        "/statistic-values/Total_Answered", params={"objectId": QUEUE, "objectType": "Queue"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["status"]["code"] == 0
    assert set(body["data"]) == {"statistic"}
    assert body["data"]["statistic"]["name"] == "Total_Answered"
    assert body["data"]["statistic"]["objectId"] == QUEUE
    assert body["data"]["statistic"]["value"]["intValue"] >= 0


@pytest.mark.parametrize(
    ("name", "params", "status", "message"),
    [
        ("Foo", {"objectId": AGENT, "objectType": "Agent"}, 404, "Unknown statistic 'Foo'"),
        (
            "InboundCalls",
            {"objectId": "xyz", "objectType": "Agent"},
            404,
            "Unknown object 'Agent:xyz'",
        ),
        ("InboundCalls", {"objectType": "Agent"}, 400, "query parameter 'objectId' is required"),
        ("InboundCalls", {"objectId": AGENT}, 400, "query parameter 'objectType' is required"),
        (
            "InboundCalls",
            {"objectId": AGENT, "objectType": "Queue"},
            404,
            "Unknown object 'Queue:ana.silva'",
        ),
        (
            "ServiceLevel",
            {"objectId": AGENT, "objectType": "Agent"},
            400,
            "Statistic 'ServiceLevel' does not apply to objectType 'Agent'",
        ),
    ],
)
def test_get_single_value_errors(
    api: httpx.Client, name: str, params: dict[str, str], status: int, message: str
) -> None:
    """Unknown names or objects are HTTP 404 envelopes; missing or misapplied ones are 400."""
    response = api.get(f"/statistic-values/{name}", params=params)
    assert response.status_code == status
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"]["code"] == status
    assert body["status"]["message"].startswith(message)


def mixed_items() -> list[dict[str, object]]:
    """A predefined agent statistic, an ad-hoc queue statistic and a group statistic."""
    return [
        stat("a1", AGENT, "Agent", name="CurrentAgentState"),
        stat(
            "a2",
            QUEUE,
            "Queue",
            definition={"category": "CurrentNumber", "subject": "DNAction", "mainMask": "CallWait"},
        ),
        stat("a3", "Team_02", "GroupAgents", name="CurrentReadyAgents"),
    ]


def open_mixed(
    api: httpx.Client, operation_id: str = "op-1", verbose: str | None = None
) -> httpx.Response:
    params = {"verbose": verbose} if verbose else {}
    return api.post(
        "/subscriptions", params=params, json=subscription(operation_id, *mixed_items())
    )


def test_subscribe_uses_operation_id_and_verbose_info_by_default(api: httpx.Client) -> None:
    """The operationId is the subscriptionId; INFO (the default) carries the descriptive fields."""
    body = open_mixed(api).json()
    assert body["status"]["code"] == 0
    assert body["data"]["operationId"] == body["data"]["subscriptionId"] == "op-1"
    values = {v["statisticId"]: v for v in body["data"]["statistics"]}
    assert set(values) == {"a1", "a2", "a3"}
    assert set(values["a1"]) == INFO_KEYS
    assert set(values["a2"]) == INFO_KEYS - {"name"}, "ad-hoc statistics have no name"
    assert values["a3"]["name"] == "CurrentReadyAgents"
    assert values["a3"]["objectType"] == "GroupAgents"


def test_subscribe_with_verbose_off_returns_bare_values(api: httpx.Client) -> None:
    """verbose=OFF returns only statisticId, timestamp and value for each statistic."""
    body = open_mixed(api, verbose="OFF").json()
    assert all(set(v) == OFF_KEYS for v in body["data"]["statistics"])


def test_subscribe_partial_success_keeps_what_opened(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """Failed items come back in errors[] by statisticId; the rest form an open subscription."""
    body = api.post(
        "/subscriptions",
        json=subscription(
            "op-partial",
            stat("ok", AGENT, "Agent", name="InboundCalls"),
            stat("a7", AGENT, "Agent", name="Foo"),
            stat("a8", "xyz", "Agent", name="InboundCalls"),
            stat("a9", QUEUE, "Queue", definition={"category": "Nonsense", "subject": "Action"}),
        ),
    ).json()
    assert body["status"]["code"] == 2
    assert body["status"]["message"] == "3 of 4 statistics could not be opened"
    assert [v["statisticId"] for v in body["data"]["statistics"]] == ["ok"]
    errors = {e["status"]["detail"]["statisticId"]: e["status"] for e in body["errors"]}
    assert errors["a7"] == {
        "code": 404,
        "message": "Unknown statistic 'Foo'",
        "detail": {"statisticId": "a7", "objectId": AGENT, "objectType": "Agent", "name": "Foo"},
    }
    assert errors["a8"]["message"] == "Unknown object 'Agent:xyz'"
    assert errors["a9"]["code"] == 400
    assert errors["a9"]["message"] == "Unsupported definition: category 'Nonsense'"
    assert simulator.state()["subscriptions"] == {"op-partial": ["ok"]}


def test_subscription_where_everything_fails_is_not_opened(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """If no item opens, the reply is code 2 with no statistics and no subscription exists."""
    body = api.post(
        "/subscriptions", json=subscription("op-none", stat("a1", AGENT, "Agent", name="Foo"))
    ).json()
    assert body["status"]["code"] == 2
    assert body["data"]["statistics"] == []
    assert simulator.state()["open_subscriptions"] == 0
    assert api.get("/subscriptions/op-none/statistic-values").status_code == 404


def test_resending_the_same_subscription_is_idempotent(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """A retry with the same operationId and statistics (in any order) returns the same one."""
    first = open_mixed(api).json()
    simulator.advance(30)
    again = open_mixed(api).json()
    assert again["status"]["code"] == 0
    assert again["data"]["subscriptionId"] == "op-1"
    assert [v["statisticId"] for v in again["data"]["statistics"]] == [
        v["statisticId"] for v in first["data"]["statistics"]
    ]
    reordered = api.post(
        "/subscriptions", json=subscription("op-1", *reversed(mixed_items()))
    ).json()
    assert reordered["status"]["code"] == 0
    assert simulator.state()["open_subscriptions"] == 1


def test_resending_an_operation_id_with_other_statistics_is_a_400(api: httpx.Client) -> None:
    """Reusing an operationId for different statistics is refused, not merged."""
    open_mixed(api)
    response = api.post(
        "/subscriptions", json=subscription("op-1", stat("a1", AGENT, "Agent", name="InboundCalls"))
    )
    assert response.status_code == 400
    assert response.json()["status"]["message"] == (
        "operationId 'op-1' is already used by a subscription with different statistics"
    )


def test_peek_all_and_filtered(api: httpx.Client) -> None:
    """Peeking returns every statistic, or those named in statisticIds in the order asked."""
    open_mixed(api)
    everything = api.get("/subscriptions/op-1/statistic-values").json()
    assert everything["status"]["code"] == 0
    assert everything["data"]["subscriptionId"] == "op-1"
    assert [v["statisticId"] for v in everything["data"]["statistics"]] == ["a1", "a2", "a3"]
    assert all(set(v) <= INFO_KEYS for v in everything["data"]["statistics"])
    some = api.get(
        "/subscriptions/op-1/statistic-values", params={"statisticIds": "a3,a1", "verbose": "OFF"}
    ).json()
    assert [v["statisticId"] for v in some["data"]["statistics"]] == ["a3", "a1"]
    assert all(set(v) == OFF_KEYS for v in some["data"]["statistics"])


def test_peek_empty_or_repeated_statistic_ids(api: httpx.Client) -> None:
    """An empty statisticIds means all; repeated statisticIds parameters are combined."""
    open_mixed(api)
    empty = api.get("/subscriptions/op-1/statistic-values?statisticIds=").json()
    assert len(empty["data"]["statistics"]) == 3
    repeated = api.get(
        "/subscriptions/op-1/statistic-values?statisticIds=a2&statisticIds=a1,a2"
    ).json()
    assert [v["statisticId"] for v in repeated["data"]["statistics"]] == ["a2", "a1"]


def test_peek_with_unknown_statistic_ids_is_partial(api: httpx.Client) -> None:
    """Unknown statisticIds in the filter are errors[] entries beside the known values, code 2."""
    open_mixed(api)
    body = api.get("/subscriptions/op-1/statistic-values", params={"statisticIds": "a1,zz"}).json()
    assert body["status"] == {
        "code": 2,
        "message": "1 of 2 statistics could not be read",
        "detail": {},
    }
    assert [v["statisticId"] for v in body["data"]["statistics"]] == ["a1"]
    assert body["errors"] == [
        {
            "status": {
                "code": 404,
                "message": "Unknown statisticId 'zz'",
                "detail": {"statisticId": "zz"},
            }
        }
    ]


def test_peek_unknown_subscription_is_an_http_404_envelope(api: httpx.Client) -> None:
    """Peeking a subscription that does not exist is an HTTP 404 envelope naming it."""
    response = api.get("/subscriptions/nope/statistic-values")
    assert response.status_code == 404
    assert response.json()["status"]["code"] == 404
    assert response.json()["status"]["message"] == "Subscription 'nope' not found"


def test_values_move_with_simulated_time(api: httpx.Client, simulator: RunningSimulator) -> None:
    """Timestamps are epoch milliseconds of simulated time and follow the manual clock."""
    open_mixed(api)
    simulator.advance(90)
    values = api.get("/subscriptions/op-1/statistic-values").json()["data"]["statistics"]
    assert {v["timestamp"] for v in values} == {int((SIM_START + 90) * 1000)}
    assert values[0]["value"]["timestamp"] == int((SIM_START + 90) * 1000)


def test_delete_always_succeeds_and_state_counts_drop(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """DELETE answers code 0 for known and unknown ids, and open subscriptions go to zero."""
    open_mixed(api, "one")
    open_mixed(api, "two")
    assert simulator.state()["open_subscriptions"] == 2
    assert api.delete("/subscriptions/one").json()["status"]["code"] == 0
    assert simulator.state()["open_subscriptions"] == 1
    assert api.delete("/subscriptions/two").json()["status"] == {
        "code": 0,
        "message": "OK",
        "detail": {},
    }
    unknown = api.delete("/subscriptions/never-existed")
    assert (unknown.status_code, unknown.json()["status"]["code"]) == (200, 0)
    state = simulator.state()
    assert (state["open_subscriptions"], state["subscriptions"]) == (0, {})
    assert api.get("/subscriptions/one/statistic-values").status_code == 404


def test_unknown_routes_and_methods_answer_envelopes(
    api: httpx.Client, simulator: RunningSimulator
) -> None:
    """Unknown paths are 404 envelopes and wrong methods 405 envelopes, never HTML or text."""
    missing = api.get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.json()["status"]["code"] == 404
    assert missing.json()["path"] == "/statistics/v3/no/such/thing"
    wrong = api.delete("/operations/get-statistic-ex")
    assert wrong.status_code == 405
    assert wrong.json()["status"]["code"] == 405
    assert wrong.headers["allow"] == "POST"
    outside = request("GET", simulator.base_url + "/elsewhere")
    assert (outside.status_code, outside.json()["status"]["code"]) == (404, 404)
    slash = api.post("/subscriptions/", json={})
    assert (slash.status_code, slash.json()["status"]["code"]) == (404, 404)
    assert simulator.state()["requests"]["unknown"] == 3


def test_session_cookie_is_issued_once_per_session(simulator: RunningSimulator) -> None:
    """A request without a known STATISTICS_SESSIONID gets one; one carrying it gets none."""
    with client(simulator) as first:
        response = first.delete("/subscriptions/x")
        assert response.cookies.get("STATISTICS_SESSIONID")
        assert "set-cookie" not in first.delete("/subscriptions/x").headers
    with client(simulator) as other:
        other.cookies.set("STATISTICS_SESSIONID", "forged")
        assert "STATISTICS_SESSIONID=" in other.delete("/subscriptions/x").headers["set-cookie"]
    assert simulator.state()["sessions"] == 2


def test_errors_also_carry_the_session_cookie(simulator: RunningSimulator) -> None:
    """Even a refused request gets a session cookie, as the real gateway's responses do."""
    response = request("GET", simulator.api_url + "/subscriptions/x/statistic-values")
    assert response.status_code == 403
    assert "STATISTICS_SESSIONID=" in response.headers["set-cookie"]
