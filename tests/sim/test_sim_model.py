"""The simulated contact center on its own: determinism, ids, staffing plan and a shift's sanity."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import pytest

from statdash.sim import ids
from statdash.sim.model import (
    ACW,
    CALL_WAITING,
    LOGGED_OUT,
    NOT_READY,
    READY,
    STATUSES,
    ContactCenter,
    object_ids,
    serving_plan,
)

START = 1_700_000_000.0
HOUR = 3600.0


def snapshot(cc: ContactCenter) -> Any:
    """Everything observable about the floor, for equality checks."""
    agents = [
        (
            a.status,
            a.reason,
            a.since,
            a.login_time(cc.now),
            a.inbound,
            a.outbound,
            a.internal,
            a.consults,
            a.missed,
            a.refused,
            a.transferred,
            a.handled,
            a.handle_total,
            tuple(a.status_time.values()),
            tuple(a.status_entries.values()),
        )
        for a in cc.agents
    ]
    queues = [
        (
            q.waiting_count,
            q.ringing,
            len(q.in_ivr),
            q.stats.entered,
            q.stats.answered,
            q.stats.abandoned,
            q.stats.answered_wait,
            q.rp.answered_wait,
        )
        for q in cc.queues
    ]
    return cc.now, agents, queues


def run(cc: ContactCenter, times: list[float]) -> list[Any]:
    out = []
    for t in times:
        cc.advance_to(t)
        out.append(snapshot(cc))
    return out


def test_same_seed_and_times_give_identical_floors() -> None:
    """Two centers with the same seed advanced through the same times are identical throughout."""
    times = [START + s for s in (1, 30, 61.5, 600, 3600, 7200)]
    assert run(ContactCenter(seed=5, start=START), times) == run(
        ContactCenter(seed=5, start=START), times
    )


def test_advancing_in_steps_equals_advancing_at_once() -> None:
    """The state at a time does not depend on how often the model was advanced on the way."""
    stepped = ContactCenter(seed=3, start=START)
    for minute in range(1, 121):
        stepped.advance_to(START + minute * 60)
    direct = ContactCenter(seed=3, start=START)
    direct.advance_to(START + 7200)
    assert snapshot(stepped) == snapshot(direct)


def test_different_seeds_give_different_floors() -> None:
    """Changing the seed changes what happens on the floor."""
    times = [START + 1800]
    assert run(ContactCenter(seed=1, start=START), times) != run(
        ContactCenter(seed=2, start=START), times
    )


def test_model_ignores_global_random_and_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model owns its RNG and never reads the wall clock, so neither can change its values."""
    reference = run(ContactCenter(seed=9, start=START), [START + 900])

    def no_wall_clock() -> float:
        raise AssertionError("the model read the wall clock")

    random.seed(12345)
    monkeypatch.setattr(time, "time", no_wall_clock)
    monkeypatch.setattr(time, "monotonic", no_wall_clock)
    cc = ContactCenter(seed=9, start=START)
    random.random()
    result = run(cc, [START + 900])
    monkeypatch.undo()
    assert result == reference


def test_small_center_ids_are_a_prefix_of_a_large_one() -> None:
    """Every id of a 20-agent, 5-queue center is the same object in a 2,000-agent, 50-queue one."""
    small, large = object_ids(20, 5), object_ids(2000, 50)
    for field in ("agents", "agent_groups", "queues", "route_points", "queue_groups"):
        few, many = getattr(small, field), getattr(large, field)
        assert few == many[: len(few)], field
    assert len(set(large.agents)) == 2000


def test_object_ids_come_from_the_id_scheme() -> None:
    """Object ids are exactly those of statdash.sim.ids, by index."""
    cc = ContactCenter(agents=45, queues=7, start=START)
    assert cc.ids.agents[44] == ids.agent_id(44)
    assert cc.ids.agent_groups == tuple(ids.agent_group_id(g) for g in range(3))
    assert cc.ids.queues[6] == ids.queue_id(6)
    assert cc.ids.route_points[0] == ids.route_point_id(0)
    assert cc.ids.queue_groups == (ids.queue_group_id(0), ids.queue_group_id(1))
    assert [len(g.members) for g in cc.groups] == [20, 20, 5]


@pytest.mark.parametrize(
    ("groups", "queues"), [(1, 1), (3, 5), (5, 5), (100, 50), (2, 3), (7, 2), (1, 5)]
)
def test_every_queue_is_served_and_groups_serve_one_or_two(groups: int, queues: int) -> None:
    """The staffing plan covers every queue; a group serves one or two unless groups are scarce."""
    plan = serving_plan(groups, queues)
    assert set().union(*map(set, plan)) == set(range(queues))
    most = max(2, -(-queues // groups))
    assert all(1 <= len(served) <= most for served in plan)


@pytest.fixture(scope="module")
def shift() -> tuple[ContactCenter, list[dict[str, Any]]]:
    """A 50-agent floor through an 8-hour shift, sampled every minute."""
    cc = ContactCenter(agents=50, queues=5, seed=1, start=START)
    samples = []
    seen_statuses: set[str] = set()
    for minute in range(1, 8 * 60 + 1):
        cc.advance_to(START + minute * 60)
        seen_statuses.update(a.status for a in cc.agents)
        samples.append(
            {
                "waiting": sum(q.waiting_count for q in cc.queues),
                "queue_totals": [
                    (q.stats.entered, q.stats.answered, q.stats.abandoned) for q in cc.queues
                ],
                "agent_totals": [
                    (
                        a.inbound,
                        a.outbound,
                        a.missed,
                        a.handled,
                        round(a.login_time(cc.now), 6),
                        *(round(v, 6) for v in a.status_time.values()),
                    )
                    for a in cc.agents
                ],
                "seen": set(seen_statuses),
            }
        )
        check_invariants(cc)
    return cc, samples


def check_invariants(cc: ContactCenter) -> None:
    """Group counters, ready pools and queue counts agree with the agents and calls."""
    for group in cc.groups:
        actual = {s: 0 for s in STATUSES}
        for i in group.members:
            actual[cc.agents[i].status] += 1
        assert group.counts == actual
        assert set(group.ready) == {i for i in group.members if cc.agents[i].status == READY}
        idle_since = list(group.ready.values())
        assert idle_since == sorted(idle_since), "ready pool is not in idle order"
    for queue in cc.queues:
        live = [c for c in queue.waiting if c.state == CALL_WAITING]
        assert len(live) == queue.waiting_count >= 0
        assert queue.ringing >= 0


def test_every_agent_status_occurs_during_a_shift(
    shift: tuple[ContactCenter, list[dict[str, Any]]],
) -> None:
    """Over eight hours agents pass through every status, from logged out to dialing."""
    _, samples = shift
    assert samples[-1]["seen"] == set(STATUSES)


def test_calls_are_answered_and_abandoned(
    shift: tuple[ContactCenter, list[dict[str, Any]]],
) -> None:
    """Queues answer most calls, lose some, and have callers waiting sometimes but not always."""
    cc, samples = shift
    answered = sum(q.stats.answered for q in cc.queues)
    abandoned = sum(q.stats.abandoned for q in cc.queues)
    assert answered > 1000
    assert 0.01 < abandoned / (answered + abandoned) < 0.25
    with_waiting = sum(1 for s in samples if s["waiting"] > 0) / len(samples)
    assert 0.05 < with_waiting < 0.8


def test_totals_only_grow(shift: tuple[ContactCenter, list[dict[str, Any]]]) -> None:
    """Counters and accumulated durations never go down from one minute to the next."""
    _, samples = shift
    for before, after in itertools.pairwise(samples):
        for key in ("queue_totals", "agent_totals"):
            for old, new in zip(before[key], after[key], strict=True):
                assert all(b <= a for b, a in zip(old, new, strict=True)), key


def test_agent_behaviour_is_plausible(shift: tuple[ContactCenter, list[dict[str, Any]]]) -> None:
    """Handling times, wrap-up, breaks, misses and transfers look like a real floor's."""
    cc, _ = shift
    handled = sum(a.handled for a in cc.agents)
    aht = sum(a.handle_total for a in cc.agents) / handled
    assert 180 < aht < 420
    assert sum(a.missed for a in cc.agents) > 0
    assert sum(a.refused for a in cc.agents) > 0
    assert sum(a.transferred for a in cc.agents) > 0
    assert sum(a.consults for a in cc.agents) > sum(a.transferred for a in cc.agents)
    total = sum(a.time_in(STATUSES, cc.now) for a in cc.agents)
    wrap = sum(a.time_in([ACW], cc.now) for a in cc.agents)
    not_ready = sum(a.time_in([NOT_READY], cc.now) for a in cc.agents)
    assert 0.02 < wrap / total < 0.15
    assert 0.05 < not_ready / total < 0.35


def test_most_agents_start_logged_in_with_some_out() -> None:
    """At the start most agents are at work and a few are logged out."""
    cc = ContactCenter(agents=200, seed=4, start=START)
    out = sum(1 for a in cc.agents if a.status == LOGGED_OUT)
    assert 5 <= out <= 50
    assert any(a.status == NOT_READY and a.reason for a in cc.agents)


def test_the_shift_opens_with_agents_just_logged_in() -> None:
    """At the start nobody is mid-call or mid-wrap-up: each logged-in agent's state begins then."""
    cc = ContactCenter(agents=200, seed=4, start=START)
    logged_in = [a for a in cc.agents if a.status != LOGGED_OUT]
    assert {a.status for a in logged_in} == {READY, NOT_READY}
    assert all(a.since == START and a.login_time(START) == 0 for a in logged_in)
    # The status each agent is in at the start is the one status it has entered.
    assert all(a.status_entries == {**dict.fromkeys(STATUSES, 0), a.status: 1} for a in cc.agents)


def test_an_hour_of_2000_agents_runs_in_seconds() -> None:
    """The event-driven model runs an hour of a 2,000-agent, 50-queue floor in seconds."""
    cc = ContactCenter(agents=2000, queues=50, seed=1, start=START)
    # CPU seconds of this thread: the model's own cost, whatever else the machine runs.
    began = time.thread_time()
    cc.advance_to(START + HOUR)
    assert time.thread_time() - began < 5.0
    assert sum(q.stats.answered for q in cc.queues) > 5000
