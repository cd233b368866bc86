"""A warm-up runs the floor before serving: the first request sees a floor mid-shift."""

from __future__ import annotations

import pytest

from statdash.sim.config import SimConfig
from statdash.sim.model import LOGGED_OUT, READY
from statdash.sim.simulator import Simulator

START = 1_700_000_000.0


def floor(warm_up: float, seed: int = 1) -> Simulator:
    """The demo-sized simulator on a manual clock, after `warm_up` simulated seconds."""
    return Simulator(
        SimConfig(agents=50, queues=5, seed=seed, clock="manual", start_time=START, warm_up=warm_up)
    )


def test_without_warm_up_every_agent_has_just_logged_in() -> None:
    """No warm-up: the floor opens as its shift begins (what the demo showed before)."""
    model = floor(0).model
    logged_in = [a for a in model.agents if a.status != LOGGED_OUT]
    assert all(a.since == START for a in logged_in)
    assert all(q.stats.answered == 0 for q in model.queues)


def test_warm_up_opens_mid_shift_at_the_clock_start() -> None:
    """After 30 simulated minutes: the clock still reads its start, states and times vary,
    calls were answered, and most agents are past their first seconds."""
    simulator = floor(1800)
    model = simulator.model
    assert simulator.clock.now() == START
    assert model.now == START
    logged_in = [a for a in model.agents if a.status != LOGGED_OUT]
    assert len({a.status for a in logged_in}) >= 3
    assert sum(1 for a in logged_in if a.status == READY and START - a.since < 5) < 10
    assert len({a.since for a in logged_in}) > len(logged_in) // 2
    assert sum(q.stats.answered for q in model.queues) > 50


def test_warm_up_is_deterministic_for_a_seed() -> None:
    """The same seed and warm-up give the same floor; another seed another."""

    def picture(simulator: Simulator) -> list[tuple[str, float]]:
        return [(a.status, a.since) for a in simulator.model.agents]

    assert picture(floor(1800)) == picture(floor(1800))
    assert picture(floor(1800)) != picture(floor(1800, seed=2))


@pytest.mark.parametrize("warm_up", [-1.0, float("nan"), 90_000.0])
def test_a_warm_up_out_of_range_is_refused(warm_up: float) -> None:
    """A negative, non-finite or longer-than-a-day warm-up is a config problem."""
    with pytest.raises(ValueError, match="warm_up"):
        SimConfig(warm_up=warm_up)
