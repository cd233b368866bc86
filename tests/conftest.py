"""Fixtures shared by every test suite: a simulator config and a running simulator on loopback."""

from __future__ import annotations

import os
import socket
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


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (a port that was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
