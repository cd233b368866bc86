"""Fixtures shared by every test suite: a simulator config and a running simulator on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

# A fixed start makes timestamps in assertions and snapshots reproducible.
SIM_START = 1_700_000_000.0


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
    `running_simulator`) for other sizes, auth or a realtime clock.
    """
    return SimConfig(agents=40, queues=5, seed=7, clock="manual", start_time=SIM_START)


@pytest.fixture
def simulator(sim_config: SimConfig) -> Iterator[RunningSimulator]:
    """A simulator serving `sim_config` on a free 127.0.0.1 port (`.base_url`, `.api_url`)."""
    with running_simulator(sim_config) as sim:
        yield sim
