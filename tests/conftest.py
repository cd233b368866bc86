"""Fixtures shared by every test suite: a simulator on loopback and a client of it.

The helpers behind them live in tests/support (waiting, simulators, the pty driver).
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.support.sim import SIM_START, serve


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config or settings, or writes their state directory."""
    for name in list(os.environ):
        if name.startswith("STATDASH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "user-state"))


@pytest.fixture
def sim_config() -> SimConfig:
    """A small floor on a manual clock: time moves only through `simulator.advance(seconds)`.

    Override this fixture (or use `dataclasses.replace(sim_config, ...)` and
    `tests.support.sim.serve`) for other sizes, auth or a realtime clock.
    """
    return SimConfig(agents=40, queues=5, seed=7, clock="manual", start_time=SIM_START)


@pytest.fixture
def simulator(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator of its own for each test, serving `sim_config` on a free 127.0.0.1 port.

    A module whose tests share one assigns `simulator = shared_simulator(...)` instead
    (tests/support/sim.py); every fixture below then uses that one.
    """
    with serve(sim_config) as sim:
        yield sim


@pytest.fixture
def client_api_key() -> str:
    """The API key `client` sends (a module overrides it for a simulator that checks keys)."""
    return "test-key"


@pytest.fixture
def client_retry() -> RetryPolicy:
    """The retry policy of `client`: none, as in production (the session retries)."""
    return RetryPolicy(attempts=1)


@pytest.fixture
async def client(
    simulator: RunningSimulator, client_api_key: str, client_retry: RetryPolicy
) -> AsyncIterator[StatisticsClient]:
    """A StatisticsClient of `simulator`; the simulator's faults are cleared before and after,
    so a shared simulator reaches the next test as it was."""
    simulator.clear_faults()
    async with StatisticsClient(
        simulator.base_url, client_api_key, retry=client_retry
    ) as statistics_client:
        yield statistics_client
    simulator.clear_faults()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (a port that was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
