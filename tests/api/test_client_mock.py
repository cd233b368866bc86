"""The client against scripted answers (httpx.MockTransport): requests, bodies, errors, cookies."""

from __future__ import annotations

import inspect
import json
import logging
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from statdash.api import errors, models
from statdash.api.client import (
    ItemError,
    PeekedResult,
    PeekResult,
    RetryPolicy,
    StatisticsClient,
)
from tests.api.support import (
    API,
    API_KEY,
    ITEM,
    OPERATIONS,
    PEEKED,
    REF,
    SERVER,
    FakeServer,
    body_of,
    envelope,
    item_error,
    make_client,
    respond,
    stat,
)

DATA_OPERATIONS = ["open", "peek", "ex", "single"]


async def run(op: str, *answers: httpx.Response, **kwargs: Any) -> tuple[Any, FakeServer]:
    """Run one operation against answers served in order; return its result and the server."""
    server = FakeServer(list(answers))
    async with make_client(server, **kwargs) as client:
        return await OPERATIONS[op](client), server


async def fails(op: str, *answers: httpx.Response, **kwargs: Any) -> errors.StatisticsError:
    """The StatisticsError an operation raises against these answers (fails if none)."""
    with pytest.raises(errors.StatisticsError) as caught:
        await run(op, *answers, **kwargs)
    return caught.value


# --- What goes on the wire ---------------------------------------------------------------


async def test_open_subscription_posts_the_request_with_a_fresh_uuid4() -> None:
    """Without an operationId the client sends a new UUID4 and returns the server's ids."""

    def answer(request: httpx.Request) -> httpx.Response:
        op = body_of(request)["operationId"]
        return respond(
            200, envelope({"operationId": op, "subscriptionId": op, "statistics": [stat("a1")]})
        )

    server = FakeServer(answer)
    async with make_client(server) as client:
        first = await client.open_subscription([ITEM])
        second = await client.open_subscription([ITEM])
    request = server.api_requests[0]
    assert (request.method, str(request.url)) == ("POST", f"{API}/subscriptions?verbose=INFO")
    assert uuid.UUID(first.subscription_id).version == 4
    assert first.subscription_id == first.operation_id == body_of(request)["operationId"]
    assert first.subscription_id != second.subscription_id
    assert [s.statistic_id for s in first.statistics] == ["a1"] and not first.partial


async def test_open_subscription_uses_the_given_operation_id_and_server_subscription_id() -> None:
    """A given operationId is sent as is; a different subscriptionId in the reply is the id used."""
    result, server = await run(
        "open", respond(200, envelope({"operationId": "op-1", "subscriptionId": "sub-9"}))
    )
    assert body_of(server.api_requests[0])["operationId"] == "op-1"
    assert (result.subscription_id, result.operation_id, result.statistics) == ("sub-9", "op-1", ())


async def test_open_subscription_falls_back_to_the_sent_id_when_none_is_echoed() -> None:
    """A reply without operationId/subscriptionId still yields the id that was sent."""
    result, _ = await run("open", respond(200, envelope({"statistics": [stat("a1")]})))
    assert result.subscription_id == "op-1"


async def test_peek_sends_comma_joined_ids_and_verbose_off() -> None:
    """peek_subscription GETs the values with statisticIds joined by commas and verbose=OFF."""
    server = FakeServer([respond(200, envelope({"statistics": [stat("a1"), stat("a2")]}))])
    async with make_client(server) as client:
        result = await client.peek_subscription("sub 1/x", statistic_ids=["a1", "a2"])
        await client.peek_subscription("sub", verbose="INFO")
    first, second = server.api_requests
    assert first.method == "GET"
    # The id is one path segment, whatever it contains.
    assert first.url.raw_path.startswith(
        b"/statistics/v3/subscriptions/sub%201%2Fx/statistic-values?"
    )
    assert dict(first.url.params) == {"verbose": "OFF", "statisticIds": "a1,a2"}
    assert dict(second.url.params) == {"verbose": "INFO"}
    assert isinstance(result, PeekResult) and [s.statistic_id for s in result.statistics] == [
        "a1",
        "a2",
    ]


async def test_peek_reads_verbose_off_items_without_descriptions() -> None:
    """Items with only statisticId, timestamp and value (verbose=OFF) parse with empty names."""
    result, _ = await run("peek", respond(200, envelope({"statistics": [stat("a1", 7)]})))
    (value,) = result.statistics
    assert (value.statistic_id, value.name, value.object_id, value.value["intValue"]) == (
        "a1",
        None,
        None,
        7,
    )


def test_the_client_has_no_benchmark_switch() -> None:
    """The client is built one way: no switch that turns its fast decoding off (benchmarks
    measure the two parse paths on `responses` directly)."""
    assert "one_pass_decoding" not in inspect.signature(StatisticsClient).parameters


async def test_delete_sends_delete_and_returns_none() -> None:
    """delete_subscription sends DELETE /subscriptions/{id} and returns None on success."""
    result, server = await run("delete", respond(200, envelope({})))
    request = server.api_requests[0]
    assert (request.method, request.url.path, result) == (
        "DELETE",
        "/statistics/v3/subscriptions/op-1",
        None,
    )


async def test_delete_accepts_an_empty_204() -> None:
    """An empty 204 to DELETE is success: the operation is fire-and-forget."""
    result, _ = await run("delete", httpx.Response(204))
    assert result is None


async def test_get_statistic_ex_posts_refs_and_returns_peeked_values() -> None:
    """get_statistic_ex POSTs {"data": {"statistics": refs}} and returns PeekedResult."""
    result, server = await run("ex", respond(200, envelope({"statistics": [PEEKED]})))
    request = server.api_requests[0]
    assert (request.method, request.url.path) == (
        "POST",
        "/statistics/v3/operations/get-statistic-ex",
    )
    assert body_of(request) == {"data": {"statistics": [REF]}}
    assert isinstance(result, PeekedResult)
    assert result.statistics[0].object_id == "jsmith" and result.errors == ()


async def test_get_statistic_value_gets_one_value() -> None:
    """get_statistic_value GETs /statistic-values/{name}?objectId&objectType and returns it."""
    server = FakeServer([respond(200, envelope({"statistic": PEEKED}))])
    async with make_client(server) as client:
        value = await client.get_statistic_value("Current/State", "8001@SIP_Switch", "Queue")
    request = server.api_requests[0]
    assert request.url.raw_path.startswith(b"/statistics/v3/statistic-values/Current%2FState?")
    assert dict(request.url.params) == {"objectId": "8001@SIP_Switch", "objectType": "Queue"}
    assert isinstance(value, models.PeekedStatisticValue) and value.value == {"intValue": 3}


@pytest.mark.parametrize("op", list(OPERATIONS))
async def test_every_request_carries_the_api_key_and_accepts_json(op: str) -> None:
    """Each operation sends x-api-key and Accept: application/json."""
    answer = {
        "open": envelope({"statistics": []}),
        "peek": envelope({"statistics": []}),
        "delete": envelope(),
        "ex": envelope({"statistics": []}),
        "single": envelope({"statistic": PEEKED}),
    }[op]
    _, server = await run(op, respond(200, answer))
    headers = server.api_requests[0].headers
    assert headers["x-api-key"] == API_KEY and headers["accept"] == "application/json"
    assert "authorization" not in headers


async def test_session_cookie_is_kept_across_calls() -> None:
    """The STATISTICS_SESSIONID cookie set by one answer goes back with every later request."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return respond(
                200,
                envelope({"statistics": []}),
                headers={"set-cookie": "STATISTICS_SESSIONID=s3ss10n; Path=/"},
            )
        return respond(200, envelope({"statistics": []}))

    server = FakeServer(answer)
    async with make_client(server) as client:
        opened = await client.open_subscription([ITEM])
        await client.peek_subscription(opened.subscription_id)
        await client.delete_subscription(opened.subscription_id)
    cookies = [r.headers.get("cookie") for r in server.api_requests]
    assert cookies == [None, "STATISTICS_SESSIONID=s3ss10n", "STATISTICS_SESSIONID=s3ss10n"]


# --- Partial success --------------------------------------------------------------------


async def test_open_partial_success_returns_values_and_item_errors() -> None:
    """Code 2 with data and errors[] is a result: what opened, plus one ItemError per failure."""
    answer = envelope(
        {"operationId": "op-1", "subscriptionId": "op-1", "statistics": [stat("a1")]},
        code=2,
        message="Partially succeeded",
        errors=[
            item_error(
                404,
                "Statistic not found",
                statisticId="a7",
                objectId="jsmith",
                objectType="Agent",
                name="NoSuchStat",
            )
        ],
    )
    result, _ = await run("open", respond(200, answer))
    assert [s.statistic_id for s in result.statistics] == ["a1"]
    assert result.errors == (
        ItemError(
            code=404,
            message="Statistic not found",
            statistic_id="a7",
            object_id="jsmith",
            object_type="Agent",
            name="NoSuchStat",
        ),
    )
    assert result.partial and result.status_code == 2


async def test_peek_partial_success_is_not_an_exception() -> None:
    """A peek with a failure code but statistics returns them with the per-item errors."""
    answer = envelope(
        {"statistics": [stat("a1")]}, code=2, errors=[item_error(400, "bad", statisticId="a2")]
    )
    result, _ = await run("peek", respond(200, answer))
    assert len(result.statistics) == 1 and result.errors[0].statistic_id == "a2"


async def test_get_statistic_ex_partial_error_has_no_statistic_id() -> None:
    """get-statistic-ex item errors identify the object and name; statistic_id stays None."""
    answer = envelope(
        {"statistics": [PEEKED]},
        code=2,
        errors=[
            item_error(
                404, "unknown", objectId="ghost", objectType="Agent", name="CurrentAgentState"
            )
        ],
    )
    result, _ = await run("ex", respond(200, answer))
    (error,) = result.errors
    assert (error.statistic_id, error.object_id, error.name) == (None, "ghost", "CurrentAgentState")


async def test_item_errors_tolerate_missing_detail_and_message() -> None:
    """An errors[] entry with only a code becomes an ItemError with empty fields."""
    answer = envelope(
        {"statistics": []}, code=2, errors=[item_error(500), item_error(404, "x", statisticId=12)]
    )
    result, _ = await run("peek", respond(200, answer))
    assert result.errors == (ItemError(code=500), ItemError(code=404, message="x"))


async def test_single_value_under_a_failure_code_with_data_is_returned() -> None:
    """A single value with a non-zero code but a usable statistic is returned, not raised."""
    value, _ = await run("single", respond(200, envelope({"statistic": PEEKED}, code=2)))
    assert value.object_id == "jsmith"


async def test_accepted_code_1_is_success() -> None:
    """Envelope code 1 (accepted) counts as OK, not partial."""
    result, _ = await run("peek", respond(200, envelope({"statistics": []}, code=1)))
    assert not result.partial


# --- Failures under HTTP 200 ------------------------------------------------------------


@pytest.mark.parametrize("op", list(OPERATIONS))
async def test_failure_code_without_data_is_an_envelope_error(op: str) -> None:
    """A 200 whose envelope reports failure and carries no usable data raises EnvelopeError."""
    error = await fails(op, respond(200, envelope(code=3, message="Stat Server is down")))
    assert isinstance(error, errors.EnvelopeError)
    assert (error.code, error.server_message) == (3, "Stat Server is down")


@pytest.mark.parametrize("op", DATA_OPERATIONS)
async def test_failure_code_with_empty_data_is_an_envelope_error(op: str) -> None:
    """`"data": {}` under a failure code is a failure, not an empty partial success."""
    error = await fails(op, respond(200, envelope({}, code=3, message="no")))
    assert isinstance(error, errors.EnvelopeError) and error.code == 3


async def test_envelope_error_message_falls_back_to_the_first_item_error() -> None:
    """Without a status message, EnvelopeError takes the first errors[] message."""
    error = await fails("peek", respond(200, envelope(code=4, errors=[item_error(4, "denied")])))
    assert isinstance(error, errors.EnvelopeError) and error.server_message == "denied"


# --- Odd 2xx bodies ----------------------------------------------------------------------

ODD_BODIES = {
    "invalid JSON": b'{"status": {"code": 0}, "data": ',
    "HTML": b"<html><body><h1>Welcome to nginx</h1></body></html>",
    "empty": b"",
    "whitespace": b"  \n ",
    "JSON array": b"[1, 2, 3]",
    "JSON string": b'"ok"',
    "no status": b'{"data": {"statistics": []}}',
    "status not an object": b'{"status": 0}',
    "code not a number": b'{"status": {"code": "zero"}}',
    "errors not a list": b'{"status": {"code": 0}, "errors": {"a": 1}, "data": {}}',
    "invalid UTF-8": b'{"status": {"code": 0}, "data": "\xff\xfe"}',
}


# An empty answer to DELETE is success (tested above); every other pair must fail.
ODD_CASES = [
    (op, case)
    for op in OPERATIONS
    for case in ODD_BODIES
    if not (op == "delete" and case in ("empty", "whitespace"))
]


@pytest.mark.parametrize(("op", "case"), ODD_CASES, ids=[f"{o}-{c}" for o, c in ODD_CASES])
async def test_odd_2xx_body_is_a_shape_error(op: str, case: str) -> None:
    """A 2xx body that is not a valid envelope raises ShapeError for every operation."""
    error = await fails(op, httpx.Response(200, content=ODD_BODIES[case]))
    assert isinstance(error, errors.ShapeError), repr(error)


WRONG_SHAPES = {
    "open, no data": ("open", envelope()),
    "peek, no data": ("peek", envelope()),
    "ex, no data": ("ex", envelope()),
    "single, no data": ("single", envelope()),
    "peek, data not an object": ("peek", envelope([1])),
    "peek, statistics not a list": ("peek", envelope({"statistics": {"a1": 1}})),
    "open, statistics a string": ("open", envelope({"statistics": "a1"})),
    "peek, item without statisticId": (
        "peek",
        envelope({"statistics": [stat("a1"), {"value": 1}]}),
    ),
    "peek, item not an object": ("peek", envelope({"statistics": [stat("a1"), 5]})),
    "peek, statisticId a number": ("peek", envelope({"statistics": [{"statisticId": 5}]})),
    "open, subscriptionId a number": ("open", envelope({"subscriptionId": 7, "statistics": []})),
    "ex, item with numeric name": ("ex", envelope({"statistics": [{**PEEKED, "name": 1}]})),
    "single, no statistic": ("single", envelope({"statistics": [PEEKED]})),
    "single, statistic a list": ("single", envelope({"statistic": [PEEKED]})),
}


@pytest.mark.parametrize("case", list(WRONG_SHAPES), ids=list(WRONG_SHAPES))
async def test_wrong_shape_under_ok_is_a_shape_error(case: str) -> None:
    """An OK envelope whose data is missing or misshapen for the operation raises ShapeError."""
    op, answer = WRONG_SHAPES[case]
    error = await fails(op, respond(200, answer))
    assert isinstance(error, errors.ShapeError), repr(error)


async def test_shape_error_names_the_bad_item() -> None:
    """The ShapeError says which statistic and which field were wrong."""
    answer = envelope({"statistics": [stat("a1"), stat("a2"), {"value": 1}]})
    error = await fails("peek", respond(200, answer))
    assert "data.statistics[2].statisticId: Field required" in str(error)


async def test_ok_peek_without_statistics_list_is_empty() -> None:
    """An OK peek whose data lacks `statistics` is an empty result, not an error."""
    result, _ = await run("peek", respond(200, envelope({"subscriptionId": "op-1"})))
    assert result.statistics == () and result.subscription_id == "op-1"


async def test_unknown_fields_are_tolerated() -> None:
    """Extra fields in the envelope, data and items do not break parsing."""
    answer = envelope({"statistics": [stat("a1", flavour="x")], "extra": 1})
    answer["trace"] = {"id": 5}
    result, _ = await run("peek", respond(200, answer))
    assert result.statistics[0].statistic_id == "a1"


# --- HTTP statuses -----------------------------------------------------------------------

STATUS_CLASSES = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    500: errors.ServerError,
    503: errors.ServiceUnavailableError,
    504: errors.GatewayTimeoutError,
    418: errors.HTTPStatusError,
}


@pytest.mark.parametrize("op", list(OPERATIONS))
@pytest.mark.parametrize("status", list(STATUS_CLASSES))
async def test_http_status_maps_to_its_class_with_envelope_code_and_message(
    op: str, status: int
) -> None:
    """Each non-2xx status raises its class, carrying the envelope's code and message."""
    answer = respond(status, envelope(code=status + 1000, message=f"went wrong {status}"))
    error = await fails(op, answer)
    assert type(error) is STATUS_CLASSES[status]
    assert isinstance(error, errors.HTTPStatusError)
    assert (error.http_status, error.code, error.server_message) == (
        status,
        status + 1000,
        f"went wrong {status}",
    )
    assert f"HTTP {status}" in str(error) and f"went wrong {status}" in str(error)


async def test_plain_error_body_message_is_used() -> None:
    """A Spring-style plain error body gives its `message` to the error, with no code."""
    body = {
        "timestamp": 1536851691737,
        "status": 500,
        "error": "Internal Server Error",
        "message": "NullPointerException in StatController",
        "path": "/statistics/v3/x",
    }
    error = await fails("peek", respond(500, body))
    assert isinstance(error, errors.ServerError)
    assert (error.code, error.server_message) == (None, "NullPointerException in StatController")


async def test_plain_error_body_without_message_uses_error() -> None:
    """A plain error body with no `message` falls back to its `error` phrase."""
    body = {"timestamp": 1, "status": 403, "error": "Forbidden", "path": "/x"}
    error = await fails("peek", respond(403, body))
    assert isinstance(error, errors.PermissionDeniedError) and error.server_message == "Forbidden"


@pytest.mark.parametrize(
    "content",
    [b"<html>502 Bad Gateway</html>", b"", b"{not json", b"[]", b'{"status": "DOWN"}'],
    ids=["html", "empty", "broken json", "array", "status string"],
)
async def test_non_envelope_error_body_gives_a_generic_message(content: bytes) -> None:
    """An unreadable error body still yields the status class with the reason phrase."""
    error = await fails("peek", httpx.Response(502, content=content))
    assert isinstance(error, errors.ServerError) and error.http_status == 502
    assert error.server_message == "Bad Gateway" and error.code is None


async def test_long_server_message_is_clipped() -> None:
    """A huge server message is cut so it cannot flood a log line."""
    error = await fails("peek", respond(400, envelope(code=1, message="x" * 10_000)))
    assert len(str(error)) < 400


async def test_redirect_is_not_followed() -> None:
    """A 3xx is reported as an HTTPStatusError, not followed to wherever it points."""
    error = await fails("peek", httpx.Response(302, headers={"location": "http://evil/"}))
    assert type(error) is errors.HTTPStatusError and error.http_status == 302


# --- No answer ---------------------------------------------------------------------------

TRANSPORT_FAILURES = {
    "refused": (httpx.ConnectError("[Errno 111] Connection refused"), errors.ConnectError),
    "connect timeout": (httpx.ConnectTimeout("timed out"), errors.RequestTimeoutError),
    "read timeout": (httpx.ReadTimeout("timed out"), errors.RequestTimeoutError),
    "dropped": (httpx.RemoteProtocolError("Server disconnected"), errors.TransportError),
    "read error": (httpx.ReadError("reset"), errors.TransportError),
    "bad gzip": (httpx.DecodingError("bad gzip"), errors.ShapeError),
    "bug in a transport": (ValueError("boom"), errors.StatisticsError),
}


@pytest.mark.parametrize("case", list(TRANSPORT_FAILURES), ids=list(TRANSPORT_FAILURES))
async def test_transport_failure_maps_to_a_statistics_error(case: str) -> None:
    """httpx exceptions (and anything else a transport raises) become typed StatisticsErrors."""
    raised, expected = TRANSPORT_FAILURES[case]

    def answer(request: httpx.Request) -> httpx.Response:
        raise raised

    server = FakeServer(answer)
    async with make_client(server, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(errors.StatisticsError) as caught:
            await client.peek_subscription("s")
    assert type(caught.value) is expected
    # httpx errors stay reachable for debugging; a foreign exception's text is not carried.
    assert caught.value.__cause__ is (None if expected is errors.StatisticsError else raised)


async def test_real_refused_connection_is_a_connect_error() -> None:
    """A real refused TCP connection (nothing listens on the port) raises ConnectError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with StatisticsClient(
        f"http://127.0.0.1:{port}", API_KEY, retry=RetryPolicy(attempts=1)
    ) as client:
        with pytest.raises(errors.ConnectError, match=r"cannot connect to http://127\.0\.0\.1"):
            await client.delete_subscription("s")


async def test_closed_client_refuses_calls() -> None:
    """After aclose(), an operation raises StatisticsError instead of an httpx RuntimeError."""
    server = FakeServer()
    client = make_client(server)
    await client.aclose()
    await client.aclose()
    with pytest.raises(errors.StatisticsError, match="closed"):
        await client.peek_subscription("s")
    assert server.requests == []


# --- Construction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host",
        "host:8080",
        "http://",
        "http://user:pw@host",
        "http://host/?x=1",
        "http://host:port",
        "",
    ],
)
def test_unusable_server_url_is_a_config_error(url: str) -> None:
    """A URL that is not http(s)://host[:port][/prefix] raises ConfigError at construction."""
    with pytest.raises(errors.ConfigError):
        StatisticsClient(url, API_KEY)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://gcx.example.com/statistics/v3/", "https://gcx.example.com"),
        ("https://gw.example.com/tenant-a", "https://gw.example.com/tenant-a"),
    ],
)
async def test_server_url_is_normalised(url: str, normalised: str) -> None:
    """Trailing slashes and a copied /statistics/v3 are dropped; a gateway prefix is kept."""
    async with StatisticsClient(url, API_KEY) as client:
        assert client.server == normalised


async def test_requests_go_under_a_gateway_prefix() -> None:
    """With a path prefix in the server URL, the API path is appended after it."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return respond(200, envelope())

    async with StatisticsClient(
        "http://127.0.0.1/pfx", API_KEY, transport=httpx.MockTransport(answer)
    ) as client:
        await client.delete_subscription("s")
    assert seen == ["/pfx/statistics/v3/subscriptions/s"]


def test_missing_ca_bundle_is_a_config_error(tmp_path: Any) -> None:
    """A CA-bundle path that does not exist raises ConfigError naming the path."""
    missing = tmp_path / "nope.pem"
    with pytest.raises(errors.ConfigError, match=r"nope\.pem"):
        StatisticsClient(SERVER, API_KEY, verify=str(missing))


def test_invalid_ca_bundle_is_a_config_error(tmp_path: Any) -> None:
    """A CA-bundle file that holds no certificate raises ConfigError."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(errors.ConfigError):
        StatisticsClient(SERVER, API_KEY, verify=bogus)


@pytest.mark.parametrize(("server", "loads"), [("http://127.0.0.1:8080", 0), ("https://h", 1)])
async def test_only_a_tls_server_loads_the_trust_store(
    server: str, loads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The system trust store is loaded for an https server, not for a plain-http one,
    which no request of this client can take to TLS (its loading was ~50 ms of a start)."""
    loaded: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loaded.append(args or kwargs)
        real(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    async with StatisticsClient(server, API_KEY):
        pass
    assert len(loaded) == loads


@pytest.mark.parametrize("name", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_unusable_timeout_is_a_config_error(name: str, value: float) -> None:
    """Timeouts must be positive finite seconds."""
    timeouts: dict[str, Any] = {name: value}
    with pytest.raises(errors.ConfigError, match=name):
        StatisticsClient(SERVER, API_KEY, **timeouts)


async def test_timeouts_reach_httpx() -> None:
    """connect_timeout and read_timeout configure the request's httpx timeouts."""
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return respond(200, envelope())

    async with StatisticsClient(
        SERVER,
        API_KEY,
        connect_timeout=1.5,
        read_timeout=9.0,
        transport=httpx.MockTransport(answer),
    ) as client:
        await client.delete_subscription("s")
    assert seen[0]["connect"] == 1.5 and seen[0]["read"] == 9.0


# --- Logging and the big peek -------------------------------------------------------------


async def test_requests_are_logged_at_debug_with_method_path_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each answer is logged at DEBUG on statdash.api with method, path and status, no body."""
    caplog.set_level(logging.DEBUG, logger="statdash.api")
    await run("peek", respond(200, envelope({"statistics": [stat("body-marker")]})))
    lines = [r.getMessage() for r in caplog.records if r.name == "statdash.api"]
    assert any(
        line.startswith("GET /statistics/v3/subscriptions/op-1/statistic-values -> 200 in ")
        for line in lines
    ), lines
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "statdash.api")
    assert not any("body-marker" in line for line in lines)


async def test_peek_of_50000_statistics_parses_completely() -> None:
    """A 50,000-statistic peek (~12 MB) parses into 50,000 values in order."""
    statistics = [
        {
            "statisticId": f"s{i}",
            "name": "TalkDuration",
            "objectId": f"agent.{i}",
            "objectType": "Agent",
            "timestamp": 1_700_000_000_000,
            "value": {
                "intValue": i,
                "stringValue": str(i),
                "timestamp": 1_700_000_000_000,
                "tag": -1,
                "intervalLength": 0,
            },
        }
        for i in range(50_000)
    ]
    content = json.dumps(envelope({"statistics": statistics})).encode()
    result, _ = await run("peek", httpx.Response(200, content=content))
    assert len(result.statistics) == 50_000
    assert result.statistics[-1].statistic_id == "s49999"
    assert result.statistics[-1].value["intValue"] == 49_999


async def test_a_reply_past_the_size_limit_is_a_shape_error() -> None:
    """A body larger than the limit is refused as a ShapeError, declared length or not."""
    import httpx as _httpx

    from statdash.api.client import StatisticsClient as _Client
    from statdash.api.errors import ShapeError as _ShapeError

    big = b'{"status": {"code": 0}, "data": {"statistics": []}, "pad": "' + b"x" * 5000 + b'"}'

    def declared(request: _httpx.Request) -> _httpx.Response:
        return _httpx.Response(200, content=big)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    def streamed(request: _httpx.Request) -> _httpx.Response:
        # No Content-Length: the limit must hold while reading.
        return _httpx.Response(200, content=chunks())

    for handler in (declared, streamed):
        async with _Client(
            "http://stats.test", "key", transport=_httpx.MockTransport(handler), max_body_bytes=4096
        ) as client:
            with pytest.raises(_ShapeError, match="larger than 4096 bytes"):
                await client.peek_subscription("s1")
        async with _Client(
            "http://stats.test", "key", transport=_httpx.MockTransport(handler)
        ) as roomy:
            assert (await roomy.peek_subscription("s1")).statistics == ()


async def test_a_connection_closed_under_a_request_is_sent_once_more() -> None:
    """A server that drops a kept-alive connection as it is reused costs a re-send, not an
    error; a second drop in a row is the error it always was."""
    drops = [1]

    def answer(request: httpx.Request) -> httpx.Response:
        if drops[0] > 0:
            drops[0] -= 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return respond(200, envelope())

    async with StatisticsClient(SERVER, API_KEY, transport=httpx.MockTransport(answer)) as client:
        await client.delete_subscription("s")
        assert drops == [0]
        drops[0] = 2
        with pytest.raises(errors.TransportError):
            await client.delete_subscription("s")
