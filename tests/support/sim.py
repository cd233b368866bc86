"""The one way tests start a simulator, share it across a module, and check what was left open.

Tests that do not change the simulator's configuration use a shared one: a module says
`simulator = shared_simulator(SimConfig(...))` and every test there (and the root `client`
fixture) gets that one, started once. Tests that need their own (another configuration, a
server that stops, a port reused) use `serve(config)` or the root per-test `simulator` fixture.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

# A fixed start makes timestamps in assertions and snapshots reproducible.
SIM_START = 1_700_000_000.0


def new_simulator(
    config: SimConfig, *, port: int = 0, log_level: str = "critical"
) -> RunningSimulator:
    """A simulator not yet started, for a test that stops it and starts another on its port.

    Quiet by default (`log_level`): uvicorn writes from its thread straight to the real
    stderr, which would scribble over a pilot's or pty's screen.
    """
    return running_simulator(config, port=port, log_level=log_level)


@contextlib.contextmanager
def serve(
    config: SimConfig, *, port: int = 0, advance: float = 0.0, log_level: str = "critical"
) -> Iterator[RunningSimulator]:
    """A simulator serving `config` on loopback for the `with` block, `advance` seconds in."""
    with new_simulator(config, port=port, log_level=log_level) as simulator:
        if advance:
            simulator.advance(advance)
        yield simulator


def shared_simulator(
    config: SimConfig, *, advance: float = 0.0
) -> Callable[[], Iterator[RunningSimulator]]:
    """A module-scoped `simulator` fixture: assign it as `simulator = shared_simulator(...)`.

    The root `client` fixture clears faults around each test, so one test's faults do not
    leak into the next; the simulated clock is shared and only moves forward.
    """

    @pytest.fixture(scope="module")
    def simulator() -> Iterator[RunningSimulator]:
        with serve(config, advance=advance) as running:
            yield running

    return simulator


def open_subscriptions(simulator: RunningSimulator) -> dict[str, Any]:
    """subscriptionId -> statisticIds of what the simulator has open now."""
    subscriptions: dict[str, Any] = simulator.state()["subscriptions"]
    return subscriptions


def faults_in_force(simulator: RunningSimulator) -> dict[str, Any]:
    """GET /simulator/faults: what is in force now (a counted fault reads False once spent)."""
    with httpx.Client(base_url=simulator.base_url, timeout=30.0, trust_env=False) as http:
        response = http.get("/simulator/faults")
    response.raise_for_status()
    faults: dict[str, Any] = response.json()
    return faults


def assert_nothing_left_open(simulator: RunningSimulator) -> None:
    """No subscription and no CometD client is left on the simulator."""
    state = simulator.state()
    assert state["subscriptions"] == {}, "subscriptions left open"
    assert state["cometd_clients"] == 0, "CometD clients left connected"
