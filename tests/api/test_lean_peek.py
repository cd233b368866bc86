"""The lean peek path: columns and lazy models say exactly what full validation says."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from statdash.api import models, responses
from statdash.api.errors import ShapeError
from statdash.api.responses import StatisticValues
from statdash.api.values import AgentStateValue, NumberValue, parse_value, same_value

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FULL = TypeAdapter(list[models.StatisticValue])


def peek_body(statistics: object) -> bytes:
    """An OK peek envelope around `statistics`."""
    return json.dumps(
        {"status": {"code": 0}, "data": {"statistics": statistics}, "errors": []}
    ).encode()


def off_item(index: int) -> dict[str, Any]:
    """A verbose=OFF item."""
    return {
        "statisticId": f"s{index}",
        "timestamp": 1_700_000_000_000 + index,
        "value": {"intValue": index, "stringValue": str(index)},
    }


def test_plain_peek_gives_columns_and_models_equal_to_full_validation() -> None:
    """A verbose=OFF peek is read as columns; its models equal the ones validation builds."""
    items = [off_item(index) for index in range(5)]
    result = responses.parse_peek(peek_body(items))
    statistics = result.statistics
    assert isinstance(statistics, StatisticValues)
    ids, values, stamps = statistics.columns()
    assert ids == [f"s{index}" for index in range(5)]
    assert values == [item["value"] for item in items]
    assert stamps == [item["timestamp"] for item in items]
    expected = tuple(FULL.validate_python(items))
    assert statistics == expected
    assert list(statistics) == list(expected)
    assert statistics[-1] == expected[-1] and statistics[1:3] == expected[1:3]


def test_verbose_info_items_keep_their_names_and_extra_fields() -> None:
    """Items with names (verbose=INFO) and unknown fields build the same models as before."""
    items = [
        {**off_item(0), "name": "TalkDuration", "objectId": "ana", "objectType": "Agent"},
        {**off_item(1), "future": {"x": 1}},
    ]
    statistics = responses.parse_peek(peek_body(items)).statistics
    assert isinstance(statistics, StatisticValues)
    assert statistics == tuple(FULL.validate_python(items))
    assert statistics[0].object_id == "ana"


@pytest.mark.parametrize(
    "item",
    [
        {"timestamp": 1, "value": 1},  # no id
        {"statisticId": 5, "timestamp": 1, "value": 1},  # id not a string
        {"statisticId": "a", "timestamp": True, "value": 1},  # bool timestamp
        {"statisticId": "a", "timestamp": "12", "value": 1},  # string timestamp
        {"statistic_id": "a", "timestamp": 1, "value": 1},  # Python name
        {"statisticId": "a", "statistic_id": "b", "timestamp": 1, "value": 1},
        {"statisticId": "a", "timestamp": 1, "value": 1, "name": 3},
        "not an object",
    ],
)
def test_unusual_items_get_full_validation_and_its_verdict(item: object) -> None:
    """Anything but the plain shape goes to the TypeAdapter: same models, same errors."""
    raw = [off_item(0), item]
    try:
        expected: tuple[models.StatisticValue, ...] | str = tuple(FULL.validate_python(raw))
    except ValidationError:
        expected = "error"
    if expected == "error":
        with pytest.raises(ShapeError, match=r"data\.statistics\[1\]"):
            responses.parse_peek(peek_body(raw))
    else:
        assert responses.parse_peek(peek_body(raw)).statistics == expected


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
item_keys = st.sampled_from(
    ["statisticId", "timestamp", "value", "name", "objectId", "objectType", "statistic_id", "x"]
)
items = st.dictionaries(item_keys, json_values, max_size=6) | json_scalars


@PROPERTY
@given(st.lists(items, max_size=4))
def test_any_statistics_list_parses_as_full_validation_does(raw: list[Any]) -> None:
    """Whatever the list holds, the result (or the error) is the one full validation gives."""
    try:
        expected: object = tuple(FULL.validate_python(raw))
    except ValidationError:
        expected = ShapeError
    body = peek_body(raw)
    if expected is ShapeError:
        with pytest.raises(ShapeError):
            responses.parse_peek(body)
    else:
        statistics = responses.parse_peek(body).statistics
        assert statistics == expected
        ids, values, stamps = statistics.columns()  # type: ignore[attr-defined]
        assert ids == [value.statistic_id for value in statistics]
        assert values == [value.value for value in statistics]
        assert stamps == [value.timestamp for value in statistics]


def test_answers_of_the_model_shape_are_decoded_in_one_pass() -> None:
    """The one-pass decoder takes what the model takes unchanged; the rest is the general path's."""
    decode = responses._decoded_in_one_pass
    assert decode(peek_body([off_item(0), off_item(1)])) is not None
    named = {**off_item(0), "name": "TalkDuration", "objectId": "ana", "objectType": "Agent"}
    assert decode(peek_body([named])) is not None
    assert decode(peek_body([{**off_item(0), "future": 1}])) is None
    assert decode(peek_body([{**off_item(0), "statistic_id": "s0"}])) is None
    assert decode(peek_body([{**off_item(0), "timestamp": True}])) is None
    assert decode(peek_body([{**off_item(0), "name": 3}])) is None
    assert decode(b"not json") is None


def _refuse_one_pass(_body: bytes) -> Any:
    raise AssertionError("the one-pass decoder was consulted")


def test_one_pass_decoding_off_takes_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `one_pass_decoding=False` the fast decoder is never consulted; the answer is equal."""
    body = peek_body([off_item(0), off_item(1)])
    peeked = responses.parse_peek(body)
    opened = responses.parse_subscription(body, operation_id="op")
    monkeypatch.setattr(responses, "_decoded_in_one_pass", _refuse_one_pass)
    assert responses.parse_peek(body, one_pass_decoding=False) == peeked
    general = responses.parse_subscription(body, operation_id="op", one_pass_decoding=False)
    assert general == opened
    with pytest.raises(AssertionError, match="consulted"):
        responses.parse_peek(body)


def _general_path_outcome(
    monkeypatch: pytest.MonkeyPatch, parse: Any, body: bytes
) -> tuple[str, object]:
    with monkeypatch.context() as patch:
        patch.setattr(responses, "_decoded_in_one_pass", lambda _body: None)
        return _outcome(parse, body)


def _outcome(parse: Any, body: bytes) -> tuple[str, object]:
    try:
        result = parse(body)
    except Exception as error:  # the comparison is of which error, with which message
        return type(error).__name__, str(error)
    return "ok", result


envelope_ids = st.none() | st.text(max_size=3) | st.integers(0, 3)
statuses = st.fixed_dictionaries(
    {"code": st.sampled_from([0, 1, 2, 3, 7])}, optional={"message": st.text(max_size=5)}
)
error_lists = st.lists(
    st.fixed_dictionaries({"status": st.fixed_dictionaries({"code": st.integers(0, 3)})}),
    max_size=2,
)
data_objects = st.fixed_dictionaries(
    {},
    optional={
        "statistics": st.lists(st.builds(off_item, st.integers(0, 9)), max_size=3)
        | st.lists(items, max_size=2)
        | st.none(),
        "subscriptionId": envelope_ids,
        "operationId": envelope_ids,
        "other": json_values,
    },
)
# Mostly envelopes a server could send (so both paths get to answer), some that are odd.
envelopes = st.fixed_dictionaries(
    {"status": statuses, "data": data_objects}, optional={"errors": error_lists}
) | st.fixed_dictionaries(
    {},
    optional={
        "status": statuses | json_scalars,
        "errors": error_lists | json_scalars,
        "data": data_objects | json_scalars,
    },
)


@PROPERTY
@given(envelopes)
def test_one_pass_decoding_answers_as_the_general_path_does(envelope: dict[str, Any]) -> None:
    """For any envelope, peek and subscribe give the same result, or the same error, both ways."""
    body = json.dumps(envelope).encode()
    parsers = {
        "peek": responses.parse_peek,
        "subscribe": lambda raw: responses.parse_subscription(raw, operation_id="op"),
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        for parse in parsers.values():
            assert _outcome(parse, body) == _general_path_outcome(monkeypatch, parse, body)


def test_with_values_drops_only_missing_values() -> None:
    """Statistics whose value is null or absent are left out; the others stay in order."""
    raw = [off_item(0), {"statisticId": "b", "timestamp": 1, "value": None}, off_item(2)]
    statistics = responses.parse_peek(peek_body(raw)).statistics
    assert isinstance(statistics, StatisticValues)
    kept = statistics.with_values()
    assert [value.statistic_id for value in kept] == ["s0", "s2"]
    assert kept.columns()[0] == ["s0", "s2"]
    full = responses.parse_peek(peek_body([off_item(0)])).statistics
    assert isinstance(full, StatisticValues) and full.with_values() is full


# --- same_value -------------------------------------------------------------------------------

NUMBER_SHAPES = st.fixed_dictionaries(
    {},
    optional={
        "intValue": json_scalars,
        "stringValue": st.one_of(json_scalars, st.from_regex(r"\s?-?\d{1,4}(\.\d{1,2})?\s?")),
        "timestamp": json_scalars,
        "stateValue": json_values,
    },
)
STATE_SHAPES = st.fixed_dictionaries(
    {
        "stateValue": st.fixed_dictionaries(
            {},
            optional={
                "status": st.one_of(json_scalars, st.sampled_from(["Ready", "CallInbound"])),
                "reason": json_scalars,
                "time": json_scalars,
                "media": json_scalars,
                "place": st.one_of(json_scalars, st.fixed_dictionaries({"placeId": json_scalars})),
            },
        )
    },
    optional={"timestamp": json_scalars},
)
RAW_VALUES = st.one_of(NUMBER_SHAPES, STATE_SHAPES, json_values)


@PROPERTY
@given(RAW_VALUES, RAW_VALUES)
def test_same_value_never_says_same_when_parsing_would_differ(first: Any, second: Any) -> None:
    """same_value(raw, previous) is True only if parsing raw gives a value equal to previous."""
    previous = parse_value(first)
    for raw in (first, second):
        if same_value(raw, previous):
            assert parse_value(raw) == previous


def test_same_value_recognises_the_usual_unchanged_values() -> None:
    """An unchanged figure or agent state with a new timestamp is recognised without parsing."""
    number = {"intValue": 41, "stringValue": "41.37", "timestamp": 1}
    assert same_value({**number, "timestamp": 2}, parse_value(number))
    state = {"stateValue": {"status": "Ready", "time": 1_700_000_000, "place": {"placeId": "p"}}}
    assert same_value({**state, "timestamp": 5}, parse_value(state))


def test_same_value_tells_json_true_from_one() -> None:
    """Python's True == 1 must not hide a status or start time that changed type."""
    state = {"stateValue": {"status": 1, "time": 1_700_000_000}}
    previous = parse_value(state)
    assert isinstance(previous, AgentStateValue)
    assert not same_value({"stateValue": {"status": True, "time": 1_700_000_000}}, previous)
    assert not same_value({"stateValue": {"status": 1, "time": True}}, previous)
    number = parse_value({"intValue": 1})
    assert isinstance(number, NumberValue)
    assert not same_value({"intValue": True}, number)


def test_values_of_an_answer_stay_undecoded_until_read() -> None:
    """The fast path keeps each value undecoded, with a key that is its bytes with the
    answer's timestamp digits made 0 where a `...timestamp` member starts with them; read
    as columns or models, the values are what decoding the answer gives."""
    stamp = 1_700_000_000_000
    items = [
        {"statisticId": "a", "timestamp": stamp, "value": {"intValue": 1, "timestamp": stamp}},
        {"statisticId": "b", "timestamp": 5, "value": {'x"timestamp': stamp, "t": stamp}},
        {"statisticId": "c", "timestamp": stamp, "value": None},
        {"statisticId": "d", "timestamp": stamp},
    ]
    statistics = responses.parse_peek(peek_body(items)).statistics
    assert isinstance(statistics, StatisticValues)
    wired = statistics.wire_columns()
    assert wired is not None
    ids, values, keys, stamps = wired
    assert ids == ["a", "b", "c", "d"] and stamps == [stamp, 5, stamp, stamp]
    assert [bytes(value) for value in values] == [
        json.dumps(item.get("value")).encode() for item in items
    ]
    assert [bytes(key) for key in keys] == [
        b'{"intValue": 1, "timestamp": 0}',
        b'{"x\\"timestamp": 0, "t": ' + str(stamp).encode() + b"}",
        b"null",
        b"null",
    ]
    assert statistics.columns()[1] == [item.get("value") for item in items]
    assert statistics == tuple(FULL.validate_python(items))
    present = statistics.with_values()
    assert isinstance(present, StatisticValues)
    assert [value.statistic_id for value in present] == ["a", "b"]
    rewired = present.wire_columns()
    assert rewired is not None and [bytes(key) for key in rewired[2]] == [
        bytes(key) for key in keys[:2]
    ]


def test_columns_read_every_value_as_decoding_each_alone_does() -> None:
    """`columns()` decodes an answer's undecoded values at once, or, when msgspec will not
    read one of them, each alone: only that one is marked."""
    sound = off_item(0)
    body = peek_body([sound, off_item(1)]).replace(
        b'{"intValue": 1, "stringValue": "1"}', b'{"intValue": ' + b"9" * 5000 + b"}"
    )
    statistics = responses.parse_peek(body).statistics
    assert isinstance(statistics, StatisticValues)
    values = statistics.columns()[1]
    assert values == [sound["value"], {"intValue": responses.UNREADABLE_NUMBER}]


def test_keys_are_the_values_own_bytes_when_the_timestamp_cannot_be_taken_out() -> None:
    """No integer timestamp to take out, or bytes that are no JSON once it is taken out (a
    longer number starting with its digits): each key is then its value's own bytes."""
    for first, value in [(1.5, {"timestamp": 1.5}), (12, {"timestamp": 123})]:
        items = [{"statisticId": "a", "timestamp": first, "value": value}]
        statistics = responses.parse_peek(peek_body(items)).statistics
        assert isinstance(statistics, StatisticValues)
        wired = statistics.wire_columns()
        assert wired is not None
        _, values, keys, _ = wired
        assert [bytes(key) for key in keys] == [bytes(raw) for raw in values]


def test_values_no_parser_reads_alike_are_read_as_the_general_path_reads_them() -> None:
    """A value msgspec will not read (an integer too long for Python, a number beyond a
    float) is read as the general path reads a body; one no parser reads is marked, never
    raised."""
    decode = responses.decode_value
    huge = msgspec.Raw(b'{"i": ' + b"9" * 5000 + b"}")
    assert decode(huge) == {"i": responses.UNREADABLE_NUMBER}
    assert decode(msgspec.Raw(b'{"f": 1e400, "n": 3}')) == {"f": float("inf"), "n": 3}
    assert decode(msgspec.Raw(b'"\xff"')) == responses.UNREADABLE_VALUE
    assert decode(responses.NULL_VALUE) is None


def test_an_answer_not_utf8_inside_a_value_gets_the_general_paths_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bytes that are not UTF-8 inside a value (which msgspec would keep undecoded without
    checking) make the answer what the general path says it is: not JSON."""
    body = peek_body([off_item(0)]).replace(b'"0"', b'"\xff"')
    verdict = _outcome(responses.parse_peek, body)
    assert verdict == ("ShapeError", "response: response body is not JSON")
    assert verdict == _general_path_outcome(monkeypatch, responses.parse_peek, body)
