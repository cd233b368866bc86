"""`statdash run`'s start (statdash.ui.start): the session's requests go out before the
screen's modules load, and a signal during the start deletes what the session opened.

The screen's module is asked for on a thread while the session connects; these tests stand
in for that import (`start.importlib`) to hold the start exactly there, on a real simulator.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import threading
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from pydantic import SecretStr

from statdash.api.settings import Credentials, ServerSettings
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.views import CompiledLayout
from statdash.live.wiring import LiveSession
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui import start
from tests.support.sim import SIM_START, open_subscriptions, shared_simulator
from tests.support.wait import until, until_async

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"

simulator = shared_simulator(
    SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
)


class ScreenNotLoaded(Exception):
    """What the stand-in import raises: the test ends the start there."""


def demo_layout() -> CompiledLayout:
    return compile_layout(load_layout(LAYOUTS / "demo.yaml"))


def settings_of(simulator: RunningSimulator) -> ServerSettings:
    return ServerSettings(url=simulator.base_url, credentials=Credentials(api_key=SecretStr("k")))


def holding_the_screen(
    monkeypatch: pytest.MonkeyPatch,
    simulator: RunningSimulator,
    hold: threading.Event | None = None,
) -> list[int]:
    """Stand in for the screen's import: on its thread, wait for the subscription to be open
    on the simulator (bounded), note how many are, wait for `hold` if given, then fail.
    Returns the notes."""
    seen: list[int] = []

    def import_module(name: str, package: str | None = None) -> ModuleType:
        if name != start.SCREEN_MODULE:
            return importlib.import_module(name, package)
        try:
            until(lambda: open_subscriptions(simulator), timeout=10, what="subscribe")
        finally:
            seen.append(len(open_subscriptions(simulator)))
        if hold is not None:
            hold.wait(30)
        raise ScreenNotLoaded

    monkeypatch.setattr(start, "importlib", SimpleNamespace(import_module=import_module))
    return seen


async def test_the_subscription_is_open_before_the_screen_loads(
    simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polling, the subscribe has reached the server by the time the screen's modules are
    asked for (they load while it answers); the start ending there deletes it."""
    seen = holding_the_screen(monkeypatch, simulator)
    said: list[str] = []
    with pytest.raises(ScreenNotLoaded):
        await start.run_dashboard(
            demo_layout(), settings_of(simulator), layout_path=None, updates="poll", say=said.append
        )
    assert seen == [1]
    assert open_subscriptions(simulator) == {}
    assert said == []


async def test_a_signal_while_the_screen_loads_deletes_the_subscription(
    simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM before the app exists ends the start through the same way out as a quit: the
    subscription is deleted, the run exits 0 (it had reached its server), and the signal's
    default is given back."""
    hold = threading.Event()
    seen = holding_the_screen(monkeypatch, simulator, hold)
    sessions: list[LiveSession] = []
    build = start.dashboard_session

    def kept(*args: object, **kwargs: object) -> LiveSession:
        session = build(*args, **kwargs)  # type: ignore[arg-type]
        sessions.append(session)
        return session

    monkeypatch.setattr(start, "dashboard_session", kept)
    said: list[str] = []
    run = asyncio.create_task(
        start.run_dashboard(
            demo_layout(), settings_of(simulator), layout_path=None, updates="poll", say=said.append
        )
    )
    try:
        await until_async(lambda: seen and sessions[0].controller.reached, what="the first data")
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        code = await asyncio.wait_for(run, 30)
    finally:
        hold.set()
    assert code == 0
    assert said == []
    assert open_subscriptions(simulator) == {}
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
