"""Fixtures of the web front's tests: a demo-sized simulator, a served front, its key."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.web.front import ViewerCommand, WebFront, new_access_key
from tests.support.sim import SIM_START
from tests.support.wait import CEILING, until_async

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "layouts" / "wallboard.yaml"
# Distinctive, so a leak into anything the browser receives is found by a substring search.
API_KEY = "sd-web-test-key-5e21b07c"
# How long a closed tab's dashboard may take to delete its subscription (the bound).
DELETE_BOUND = 10.0
# Starting `statdash run` imports Textual; on a loaded 2-core machine that can take seconds.
START_BOUND = CEILING


@pytest.fixture
def sim_config() -> SimConfig:
    """The floor the shipped wallboard layout is written for (50 agents, 5 queues)."""
    return SimConfig(agents=50, queues=5, seed=7, clock="manual", start_time=SIM_START)


@dataclass
class Served:
    """A front listening on loopback: its base URL, key, the front and the simulator."""

    base_url: str
    key: str
    front: WebFront
    simulator: RunningSimulator
    http: aiohttp.ClientSession

    @property
    def page_url(self) -> str:
        """The URL `statdash serve` prints."""
        return f"{self.base_url}/?token={self.key}"

    def socket_url(self, key: str | None = None) -> str:
        """The websocket URL as textual.js builds it from the page."""
        return f"{self.base_url}/ws/{self.key if key is None else key}?width=100&height=30"

    async def subscriptions(self) -> int:
        """How many subscriptions the simulator holds open now."""
        async with self.http.get(f"{self.simulator.base_url}/simulator/state") as response:
            state = await response.json()
        return int(state["open_subscriptions"])

    async def wait_for_subscriptions(self, count: int, timeout: float = CEILING) -> float:
        """Seconds until the simulator holds `count` subscriptions; fails after `timeout`."""
        start = time.monotonic()

        async def reached() -> bool:
            return await self.subscriptions() == count

        held = await until_async(
            reached, what=f"{count} open subscriptions", timeout=timeout, interval=0.05
        )
        return held - start

    async def wait_for_no_viewers(self, timeout: float = CEILING) -> None:
        """Wait until every viewer's dashboard process has ended and been reaped."""
        await until_async(
            lambda: not self.front.viewer_pids,
            what="every viewer's process to end",
            timeout=timeout,
            interval=0.05,
            detail=lambda: f"still running: {self.front.viewer_pids}",
        )


def viewer_command(simulator: RunningSimulator) -> ViewerCommand:
    """`statdash run` of the wallboard against `simulator`, the key in the environment only."""
    environment = {**os.environ, "STATDASH_API_KEY": API_KEY}
    argv = [sys.executable, "-m", "statdash", "run", str(LAYOUT), "--url", simulator.base_url]
    return ViewerCommand(argv, environment)


ServeFront = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve_front(simulator: RunningSimulator) -> AsyncIterator[ServeFront]:
    """Start a front (keyword arguments go to WebFront) on a free loopback port."""
    runners: list[web.AppRunner] = []
    said: list[str] = []
    async with aiohttp.ClientSession() as http:

        async def start(**options: object) -> Served:
            key = new_access_key()
            settings: dict[str, object] = {"max_viewers": 2, "title": "Wallboard"}
            settings.update(options)
            front = WebFront(
                viewer_command(simulator),
                access_key=key,
                say=said.append,
                **settings,  # type: ignore[arg-type]
            )
            runner = web.AppRunner(front.application())
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            return Served(f"http://127.0.0.1:{port}", key, front, simulator, http)

        try:
            yield start
        finally:
            for runner in runners:
                await runner.cleanup()
