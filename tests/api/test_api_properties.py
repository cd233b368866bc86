"""Property tests: whatever JSON or bytes arrive, parsers return a result or a typed error."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from statdash.api import models, responses
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.errors import HTTPStatusError, StatisticsError
from statdash.api.values import (
    AgentStateValue,
    NumberValue,
    UnknownValue,
    newest_timestamp,
    parse_timestamp,
    parse_value,
)
from tests.api.support import API_KEY, OPERATIONS, SERVER

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
codes = st.sampled_from([0, 1, 2, 3, 400, 404, 500]) | st.integers()


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the well-formed strategy, sometimes any JSON at all (breaking shapes at any level).

    Weighted 9:1 so that whole well-formed envelopes, and so the success paths, come up often.
    """
    # (st.one_of would collapse repeated branches, so the weighting is drawn explicitly.)
    return st.sampled_from(range(10)).flatmap(lambda n: json_values if n == 0 else strategy)


ids = maybe(st.text(max_size=6))
statuses = maybe(
    st.fixed_dictionaries(
        {"code": maybe(codes)},
        optional={
            "message": maybe(st.text(max_size=20)),
            "detail": maybe(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
        },
    )
)
details = maybe(
    st.fixed_dictionaries(
        {}, optional={k: ids for k in ("statisticId", "objectId", "objectType", "name")}
    )
)
items = maybe(
    st.fixed_dictionaries(
        {"statisticId": ids},
        optional={
            "name": ids,
            "objectId": ids,
            "objectType": ids,
            "timestamp": maybe(st.integers()),
            "value": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "intValue": json_values,
                        "stringValue": json_values,
                        "stateValue": json_values,
                        "timestamp": json_values,
                    },
                )
            ),
        },
    )
)
datas = maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "statistics": maybe(st.lists(items, max_size=4)),
            "statistic": items,
            "subscriptionId": ids,
            "operationId": ids,
        },
    )
)
error_entries = maybe(
    st.fixed_dictionaries(
        {
            "status": maybe(
                st.fixed_dictionaries(
                    {"code": maybe(codes)}, optional={"message": ids, "detail": details}
                )
            )
        }
    )
)
envelopes = st.fixed_dictionaries(
    {"status": statuses},
    optional={"data": datas, "errors": maybe(st.lists(error_entries, max_size=3)), "path": ids},
)

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "subscription": lambda body: responses.parse_subscription(body, operation_id="op"),
    "peek": responses.parse_peek,
    "peeked": responses.parse_peeked,
    "single": responses.parse_single,
    "ack": responses.parse_ack,
}


def check_every_parser(body: bytes) -> None:
    """Each parser returns its result type or raises a StatisticsError; nothing else."""
    for name, parse in PARSERS.items():
        try:
            result = parse(body)
        except StatisticsError:
            continue
        if name in ("subscription", "peek"):
            assert all(isinstance(s, models.StatisticValue) for s in result.statistics)
            assert result.partial == (bool(result.errors) or result.status_code not in (0, 1))
        elif name == "peeked":
            assert all(isinstance(s, models.PeekedStatisticValue) for s in result.statistics)
        elif name == "single":
            assert isinstance(result, models.PeekedStatisticValue)
        else:
            assert result is None


@PROPERTY
@given(envelopes)
def test_envelope_shaped_json_gives_a_result_or_a_typed_error(document: dict[str, Any]) -> None:
    """Envelope-like JSON broken at any level never makes a parser raise anything untyped."""
    check_every_parser(json.dumps(document).encode())


@PROPERTY
@given(json_values)
def test_any_json_gives_a_result_or_a_typed_error(document: Any) -> None:
    """Arbitrary JSON documents never make a parser raise anything untyped."""
    check_every_parser(json.dumps(document).encode())


@PROPERTY
@given(st.binary(max_size=200))
def test_any_bytes_give_a_result_or_a_typed_error(body: bytes) -> None:
    """Arbitrary bytes as a 2xx body never make a parser raise anything untyped."""
    check_every_parser(body)


@PROPERTY
@given(
    st.integers(300, 599), st.binary(max_size=100) | envelopes.map(lambda d: json.dumps(d).encode())
)
def test_any_error_body_gives_the_status_class(status: int, body: bytes) -> None:
    """Any non-2xx body yields an HTTPStatusError with that status, never a crash."""
    error = responses.error_from_response(status, body, where="/x", reason="Reason")
    assert isinstance(error, HTTPStatusError) and error.http_status == status


@PROPERTY
@given(
    st.sampled_from(list(OPERATIONS)),
    st.integers(100, 599),
    st.binary(max_size=100) | envelopes.map(lambda d: json.dumps(d).encode()),
)
def test_client_raises_only_statistics_errors_for_any_answer(
    op: str, status: int, body: bytes
) -> None:
    """Whatever status and body the server answers, a call returns or raises StatisticsError."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    async def call() -> None:
        retry = RetryPolicy(attempts=2, sleep=_no_sleep)
        async with StatisticsClient(
            SERVER, API_KEY, retry=retry, transport=httpx.MockTransport(answer)
        ) as client:
            with contextlib.suppress(StatisticsError):
                await OPERATIONS[op](client)

    asyncio.run(call())


async def _no_sleep(delay: float) -> None:
    return None


# --- values.parse_value ------------------------------------------------------------------

value_objects = maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "intValue": json_values,
            "stringValue": json_values | st.from_regex(r"-?\d{1,5}(\.\d{1,3})?", fullmatch=True),
            "timestamp": json_values,
            "stateValue": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "status": json_values | st.sampled_from(["WaitForNextCall", "X"]),
                        "time": json_values,
                        "reason": json_values,
                        "media": json_values,
                        "place": json_values,
                    },
                )
            ),
        },
    )
)


@PROPERTY
@given(value_objects, json_values)
def test_parse_value_never_raises(raw: Any, timestamp: Any) -> None:
    """parse_value turns any JSON value and timestamp into one of its three value types."""
    parsed = parse_value(raw, timestamp)
    assert isinstance(parsed, NumberValue | AgentStateValue | UnknownValue)
    if isinstance(parsed, UnknownValue):
        assert isinstance(parsed.describe(), str)
    if parsed.timestamp is not None:
        assert parsed.timestamp > 0


def test_unknown_value_of_absurd_nesting_still_describes_itself() -> None:
    """A value nested far beyond the recursion limit still gets a one-line description."""
    raw: Any = []
    for _ in range(100_000):
        raw = [raw]
    parsed = parse_value({"odd": raw})
    assert isinstance(parsed, UnknownValue) and isinstance(parsed.describe(), str)


def test_agent_state_with_an_enormous_numeric_status_is_unknown() -> None:
    """A numeric status too long to print as text is not taken as an agent state."""
    parsed = parse_value({"stateValue": {"status": 10**5000}})
    assert isinstance(parsed, UnknownValue)
    assert isinstance(parse_value({"stateValue": {"status": 23}}), AgentStateValue)


raw_timestamps = st.lists(
    st.one_of(
        st.integers(min_value=-10, max_value=10),
        st.integers(min_value=1_600_000_000, max_value=1_800_000_000),  # seconds
        st.integers(min_value=1_600_000_000_000, max_value=1_800_000_000_000),  # milliseconds
        st.integers(min_value=2**1023, max_value=2**1100),  # too large for a float
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.text(alphabet="0123456789", max_size=14),
    ),
    max_size=12,
)


@PROPERTY
@given(raw_timestamps)
@example([1_700_000_000_000, 1_700_000_300_000])  # one unit: the largest is read alone
@example([1_700_000_000, 1_700_000_300])
@example([1_700_000_000_000, 2**1030])  # the largest is no timestamp
@example([1_700_000_000_000, 1_800_000_000])  # two units: seconds may be the newer
@example([0, -5])
def test_newest_timestamp_is_the_newest_number_read_one_by_one(raws: list[object]) -> None:
    """`newest_timestamp` gives what reading every JSON number with `parse_timestamp` and
    keeping the newest gives, whatever the mix of units, types and junk."""
    stamps = [
        parse_timestamp(raw)
        for raw in raws
        if isinstance(raw, int | float) and not isinstance(raw, bool)
    ]
    read = [stamp for stamp in stamps if stamp is not None]
    assert newest_timestamp(raws) == (max(read) if read else None)
