"""Tests for statdash.live.store: latest values, change detection, history, freshness."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statdash.api import responses
from statdash.api.values import AgentStateValue, NumberValue, UnknownValue
from statdash.live import store as store_module
from statdash.live.store import Batch, History, Store


def _number(n: int, stamp: int = 1_700_000_000_000) -> dict[str, object]:
    return {"intValue": n, "stringValue": str(n), "timestamp": stamp}


def test_first_ingest_reports_every_statistic_as_changed() -> None:
    """Values arriving for the first time are all reported as changed."""
    store = Store()
    result = store.ingest(
        Batch.of([("a", _number(1), None), ("b", _number(2), None)]), now=1.0, wall=10.0
    )
    assert result.changed == {"a", "b"}
    assert result.revision == 1
    assert store.get("a") == NumberValue(1.0, "1")


def test_unchanged_values_cost_nothing_even_with_new_timestamps() -> None:
    """A re-sent value with only a newer timestamp is not a change and keeps the revision."""
    store = Store()
    store.ingest(Batch.of([("a", _number(1, 1), None)]), now=1.0, wall=10.0)
    result = store.ingest(
        Batch.of([("a", _number(1, 2), None), ("b", _number(5), None)]), now=2.0, wall=11.0
    )
    assert result.changed == {"b"}
    resent = [("a", _number(1, 3), None), ("b", _number(5, 9), None)]
    again = store.ingest(Batch.of(resent), now=3.0, wall=12.0)
    assert again.changed == frozenset()
    assert again.revision == result.revision


def test_agent_state_and_unknown_values_are_kept() -> None:
    """Agent states parse to AgentStateValue and unknown shapes are kept raw."""
    store = Store()
    state = {"stateValue": {"status": "WaitForNextCall", "time": 1_700_000_000}}
    store.ingest(Batch.of([("s", state, None), ("u", {"weird": True}, None)]), now=1.0, wall=1.0)
    assert isinstance(store.get("s"), AgentStateValue)
    assert store.get("u") == UnknownValue({"weird": True})


def test_history_keeps_only_tracked_numbers_within_capacity() -> None:
    """History is kept for tracked statistics only, newest samples within the capacity."""
    store = Store(history_capacity={"a": 3})
    for step in range(5):
        store.ingest(
            Batch.of([("a", _number(step), None), ("b", _number(step), None)]), now=step, wall=step
        )
    history = store.history("a")
    assert history is not None
    assert history.values() == [2.0, 3.0, 4.0]
    assert list(history.samples(since=3.0)) == [(3.0, 3.0), (4.0, 4.0)]
    assert store.history("b") is None


def test_history_rejects_zero_capacity() -> None:
    """A history ring must hold at least one sample."""
    with pytest.raises(ValueError):
        History(0)


def test_staleness_after_two_intervals() -> None:
    """A value is stale once it is older than two refresh intervals, and missing ones are stale."""
    store = Store()
    store.ingest(Batch.of([("a", _number(1), None)]), now=100.0, wall=0.0)
    assert not store.is_stale("a", now=104.0, interval=2.0)
    assert store.is_stale("a", now=104.5, interval=2.0)
    assert store.is_stale("missing", now=100.0, interval=2.0)
    assert store.age(103.0) == 3.0


def test_forget_drops_statistics_no_longer_in_the_layout() -> None:
    """After a layout change only the kept statistics remain."""
    store = Store(history_capacity={"a": 2, "b": 2})
    store.ingest(Batch.of([("a", _number(1), None), ("b", _number(2), None)]), now=1.0, wall=1.0)
    store.forget(["a"])
    assert store.get("b") is None and store.history("b") is None
    assert store.get("a") is not None


def test_track_history_adds_rings_and_keeps_existing_samples() -> None:
    """Tracking more statistics later keeps the samples already collected."""
    store = Store(history_capacity={"a": 5})
    store.ingest(Batch.of([("a", _number(1), None)]), now=1.0, wall=1.0)
    store.track_history({"a": 5, "b": 5})
    store.ingest(Batch.of([("a", _number(2), None), ("b", _number(3), None)]), now=2.0, wall=2.0)
    a_history, b_history = store.history("a"), store.history("b")
    assert a_history is not None and a_history.values() == [1.0, 2.0]
    assert b_history is not None and b_history.values() == [3.0]


def test_unchanged_value_keeps_its_object_and_history_still_samples_it() -> None:
    """An unchanged value is not rebuilt (same object), yet tracked history gets every poll."""
    store = Store({"a": 5})
    store.ingest(Batch.of([("a", _number(7, 1), None)]), now=1.0, wall=10.0)
    first = store.get("a")
    result = store.ingest(Batch.of([("a", _number(7, 2), None)]), now=2.0, wall=11.0)
    assert result.changed == frozenset() and store.get("a") is first
    history = store.history("a")
    assert history is not None and list(history.samples()) == [(10.0, 7.0), (11.0, 7.0)]


def test_a_value_that_changes_shape_is_a_change() -> None:
    """A number that becomes an agent state (or the reverse) is reported as changed."""
    store = Store()
    store.ingest(Batch.of([("a", _number(1), None)]), now=1.0, wall=10.0)
    state = {"stateValue": {"status": "WaitForNextCall", "time": 1_700_000_000}}
    assert store.ingest(Batch.of([("a", state, None)]), now=2.0, wall=11.0).changed == {"a"}
    assert isinstance(store.get("a"), AgentStateValue)
    assert store.ingest(Batch.of([("a", _number(1), None)]), now=3.0, wall=12.0).changed == {"a"}


def test_agent_state_with_a_new_start_time_is_a_change() -> None:
    """Same status word, but a new state began: the time in state restarts, so it changed."""
    store = Store()
    state = {"stateValue": {"status": "CallInbound", "time": 1_700_000_000}}
    store.ingest(Batch.of([("a", state, None)]), now=1.0, wall=10.0)
    again = {"stateValue": {"status": "CallInbound", "time": 1_700_000_000}, "timestamp": 9}
    assert store.ingest(Batch.of([("a", again, None)]), now=2.0, wall=11.0).changed == frozenset()
    later = {"stateValue": {"status": "CallInbound", "time": 1_700_000_090}}
    assert store.ingest(Batch.of([("a", later, None)]), now=3.0, wall=12.0).changed == {"a"}


def test_a_statistic_missing_from_later_polls_goes_stale_alone() -> None:
    """Each statistic's freshness is its own last arrival, whatever later polls bring."""
    store = Store()
    store.ingest(Batch.of([("a", _number(1), None), ("b", _number(2), None)]), now=100.0, wall=0.0)
    for now in (101.0, 102.0, 103.0, 104.0, 105.0):
        store.ingest(Batch.of([("a", _number(1), None)]), now=now, wall=0.0)
    assert not store.is_stale("a", now=105.0, interval=1.0)
    assert store.is_stale("b", now=105.0, interval=1.0)
    assert not store.is_stale("b", now=101.5, interval=1.0)  # it was there at 100
    store.ingest(Batch.of([("a", _number(1), None), ("b", _number(2), None)]), now=106.0, wall=0.0)
    assert not store.is_stale("b", now=106.0, interval=1.0)
    store.forget(["a"])
    assert store.is_stale("b", now=106.0, interval=1.0)
    assert store.get("b") is None


def test_a_second_sample_of_one_moment_replaces_the_first() -> None:
    """Two samples of one instant keep one (the latest value): a trend's shape does not
    depend on how often it was sampled at that moment."""
    ring = History(4)
    ring.append(10.0, 1.0)
    ring.append(10.0, 2.0)
    ring.append(11.0, 3.0)
    assert list(ring.samples()) == [(10.0, 2.0), (11.0, 3.0)]


def test_values_enter_the_store_one_way() -> None:
    """Poll, push and replay all hand the store a `Batch` through `ingest`, its one entrance."""
    entrances = sorted(name for name in vars(Store) if name.startswith("ingest"))
    assert entrances == ["ingest"]


def test_a_pushed_batch_changes_values_but_not_arrival_or_history() -> None:
    """A pushed batch names only what changed: no arrival time, no history sample, no poll
    time; a late delivery older than the held value is dropped."""
    store = Store(history_capacity={"a": 5})
    store.ingest(Batch.of([("a", _number(1, 2_000), None)]), now=100.0, wall=10.0)
    pushed = store.ingest(Batch.pushed(["a"], [_number(2, 3_000)], [None]), now=500.0, wall=50.0)
    assert pushed.changed == {"a"} and store.get("a") == NumberValue(2.0, "2", 3.0)
    assert store.last_good_poll == 100.0 and store.is_stale("a", now=500.0, interval=1.0)
    history = store.history("a")
    assert history is not None and history.values() == [1.0]
    late = store.ingest(Batch.pushed(["a"], [_number(9, 1_000)], [None]), now=501.0, wall=51.0)
    assert late.changed == frozenset() and store.get("a") == NumberValue(2.0, "2", 3.0)


def test_an_answer_batch_newer_only_keeps_a_newer_held_value() -> None:
    """A reconciliation answer older than a pushed value leaves the pushed value in place."""
    store = Store()
    store.ingest(Batch.pushed(["a"], [_number(5, 3_000)], [None]), now=0.0, wall=0.0)
    older = Batch.answer(["a"], [_number(4, 2_000)], [None], newer_only=True)
    assert store.ingest(older, now=1.0, wall=1.0).changed == frozenset()
    assert store.ingest(
        Batch.answer(["a"], [_number(4, 2_000)], [None]), now=2.0, wall=2.0
    ).changed == {"a"}


def test_a_replayed_batch_takes_parsed_values_and_marks_every_arrival() -> None:
    """A replayed tick stores its parsed values and makes every id that came current."""
    store = Store(history_capacity={"b": 3})
    one, two = NumberValue(1.0, "1"), NumberValue(2.0, "2")
    store.ingest(Batch.replayed({"a": one, "b": two}, ["a", "b"]), now=10.0, wall=10.0)
    again = store.ingest(Batch.replayed({"a": two}, ["a", "b"]), now=11.0, wall=11.0)
    assert again.changed == {"a"} and store.get("a") == two and store.get("b") == two
    assert not store.is_stale("b", now=11.0, interval=1.0)
    unsampled = store.ingest(Batch.replayed({}, ["a", "b"], sample=False), now=12.0, wall=12.0)
    assert unsampled.changed == frozenset()
    history = store.history("b")
    assert history is not None and list(history.samples()) == [(10.0, 2.0), (11.0, 2.0)]


def test_an_answer_taken_in_slices_leaves_the_store_as_taken_whole() -> None:
    """A full answer ingested slice by slice changes the same values, marks every id as
    arrived (none goes stale) and takes one history sample, as the answer taken whole."""
    ids = [f"s{index}" for index in range(7)]

    def answer(number: int) -> Batch:
        return Batch.of([(i, _number(number + (index % 2)), None) for index, i in enumerate(ids)])

    whole, sliced = Store({"s6": 5}), Store({"s6": 5})
    for store in (whole, sliced):
        store.ingest(answer(1), now=1.0, wall=10.0)
    expected = whole.ingest(answer(2), now=2.0, wall=11.0).changed
    parts = list(answer(2).slices(3))
    assert [len(part) for part in parts] == [3, 3, 1]
    assert [part.full for part in parts] == [False, False, True]
    changed: set[str] = set()
    for part in parts:
        changed |= sliced.ingest(part, now=2.0, wall=11.0).changed
    assert changed == expected == set(ids)
    assert sliced.values() == whole.values()
    assert not any(sliced.is_stale(i, now=3.5, interval=1.0) for i in ids)
    history = sliced.history("s6")
    assert history is not None and list(history.samples()) == [(10.0, 1.0), (11.0, 2.0)]
    assert list(answer(2).slices(7)) == [answer(2)]  # small enough: the batch itself


# --- Answers whose values come undecoded (`Batch.wired`) ------------------------------------


def _body(statistics: Sequence[tuple[str, object]], stamp: float) -> bytes:
    """A peek answer's bytes: each (statisticId, value) with `stamp` on item and value."""
    items = [
        {
            "statisticId": statistic_id,
            "timestamp": stamp,
            "value": {**value, "timestamp": stamp} if isinstance(value, dict) else value,
        }
        for statistic_id, value in statistics
    ]
    return json.dumps({"status": {"code": 0}, "data": {"statistics": items}}).encode()


def _wired(body: bytes, *, newer_only: bool = False) -> Batch:
    """The batch the controller makes of a peek answer's bytes (values undecoded)."""
    statistics = responses.parse_peek(body).statistics
    assert isinstance(statistics, responses.StatisticValues)
    wired = statistics.wire_columns()
    assert wired is not None
    return Batch.wired(*wired, newer_only=newer_only)


def _decoded(body: bytes, *, newer_only: bool = False) -> Batch:
    """The same answer with its values decoded, as any other source gives them."""
    statistics = responses.parse_peek(body).statistics
    assert isinstance(statistics, responses.StatisticValues)
    return Batch.answer(*statistics.columns(), newer_only=newer_only)


def test_a_value_whose_bytes_did_not_change_is_not_even_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Of an answer whose values come undecoded, only the values whose bytes (the answer's
    timestamp aside, new in every answer) differ from the last answer's are decoded; the
    others are unchanged, at the cost of a comparison of bytes."""
    decoded: list[object] = []

    def counting(raw: Any) -> Any:
        value = responses.decode_value(raw)
        decoded.append(value)
        return value

    monkeypatch.setattr(store_module, "decode_value", counting)
    store = Store()
    first = store.ingest(_wired(_body([("a", _number(1)), ("b", _number(2))], 1)), now=1, wall=1)
    assert first.changed == {"a", "b"} and len(decoded) == 2
    decoded.clear()
    again = store.ingest(_wired(_body([("a", _number(1)), ("b", _number(3))], 2)), now=2, wall=2)
    assert again.changed == {"b"} and store.get("b") == NumberValue(3.0, "3")
    assert decoded == [{**_number(3), "timestamp": 2}]
    assert not store.is_stale("a", now=2.5, interval=1.0)


def test_the_same_bytes_after_a_pushed_change_are_read_again() -> None:
    """A value pushed in between (or refused as older than the held one) is not the one the
    last answer's bytes stood for: the same bytes again are decoded and compared."""
    store = Store()
    store.ingest(_wired(_body([("a", _number(1))], 1_000)), now=1, wall=1)
    store.ingest(Batch.pushed(["a"], [_number(7, 5_000)], [None]), now=2, wall=2)
    back = store.ingest(_wired(_body([("a", _number(1))], 9_000)), now=3, wall=3)
    assert back.changed == {"a"} and store.get("a") == NumberValue(1.0, "1")
    store.ingest(Batch.pushed(["a"], [_number(7, 20_000)], [None]), now=4, wall=4)
    for when in (5, 6):  # older than the pushed value, refused both times
        older = _wired(_body([("a", _number(1))], 10_000), newer_only=True)
        assert store.ingest(older, now=when, wall=when).changed == frozenset()
        assert store.get("a") == NumberValue(7.0, "7")


def test_no_earlier_answer_is_kept_alive_by_the_store() -> None:
    """Undecoded values and their keys refer to the answer they came in: once a later
    answer came (one without some of the ids, the rest unchanged), the earlier one is freed.
    (With a timestamp that is not an integer there is nothing to take out of the keys: they
    are the values' own bytes, read from the answer itself.)"""
    store = Store()
    body = _body([("a", 5), ("b", _number(2)), ("c", 7)], 1.5)
    baseline = sys.getrefcount(body)
    store.ingest(_wired(body), now=1, wall=1)
    assert sys.getrefcount(body) > baseline  # the keys read from it are kept
    later = store.ingest(_wired(_body([("a", 5), ("c", 7)], 2.5)), now=2, wall=2)
    assert later.changed == frozenset()
    assert sys.getrefcount(body) == baseline


answer_values: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        _number(1),
        _number(2),
        {"intValue": 2, "stringValue": "2", "tag": -1},
        {"intValue": 3},
        {"stringValue": "x", "intValue": 4},
        {"stateValue": {"status": "WaitForNextCall", "time": 1_700_000_000}},
        {"stateValue": {"status": "WaitForNextCall", "time": 1_700_000_001}},
        {"stateValue": {"status": 4, "reason": 7}},
        {"other": [1, {"deep": None}]},
        {},
        # Where the answer's timestamp digits are taken out of the keys, or must not be.
        {"stateValue": {"status": "CallInbound", "timestamp": 2}, "x": {"timestamp": 3}},
        {"intValue": 5, 'x"timestamp': 14, "y": "timestamp: 1"},
        {"stringValue": "1", "z": {"timestamp": 21}},
    ]
)
answers = st.lists(
    st.tuples(
        st.sampled_from(["answer", "reconcile", "push"]),
        st.lists(st.tuples(st.sampled_from("abc"), answer_values), max_size=4),
        st.integers(1, 4),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(answers)
def test_undecoded_answers_leave_the_store_as_decoded_ones_do(
    steps: list[tuple[str, list[tuple[str, dict[str, Any]]], int]],
) -> None:
    """Any sequence of answers, reconciliations and pushed changes leaves the same values and
    reports the same changes whether the answers' values came undecoded or decoded."""
    wired, plain = Store(), Store()
    for when, (kind, statistics, stamp) in enumerate(steps):
        if kind == "push":
            ids = [statistic_id for statistic_id, _ in statistics]
            values = [{**value, "timestamp": stamp} for _, value in statistics]
            for store in (wired, plain):
                pushed = Batch.pushed(ids, values, [None] * len(ids))
                store.ingest(pushed, now=when, wall=when)
            continue
        body = _body(statistics, stamp)
        newer_only = kind == "reconcile"
        one = wired.ingest(_wired(body, newer_only=newer_only), now=when, wall=when)
        other = plain.ingest(_decoded(body, newer_only=newer_only), now=when, wall=when)
        assert one.changed == other.changed
        assert wired.values() == plain.values()
