"""Fixtures of the web front's tests: a demo-sized simulator, a served front, its key.

The front is built as `statdash serve` builds it, including the delete of what a killed
dashboard left recorded (`delete_leftovers`). A browser signs in once with the key in the
URL and holds a cookie after that: `Served.sign_in` is that first hop.
"""

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
from pydantic import SecretStr

from statdash.api.settings import Credentials, ServerSettings
from statdash.commands.serve import delete_leftovers
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.web.front import ViewerCommand, WebFront, cookie_name, new_access_key
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
    said: list[str]
    """Every line the front said (serve's stderr)."""

    @property
    def page_url(self) -> str:
        """The URL `statdash serve` prints."""
        return f"{self.base_url}/?token={self.key}"

    def socket_url(self) -> str:
        """The websocket URL as textual.js builds it from the page."""
        return f"{self.base_url}/ws?width=100&height=30"

    async def sign_in(self) -> dict[str, str]:
        """The first hop: the printed URL, answered with the key's cookie and a redirect.
        Returns the Cookie header a browser sends from then on."""
        async with self.http.get(self.page_url, allow_redirects=False) as response:
            assert response.status == 303, response.status
            cookie = response.cookies[cookie_name(self.key)]
        return {"Cookie": f"{cookie.key}={cookie.value}"}

    async def connect(self, *, autoping: bool = True) -> aiohttp.ClientWebSocketResponse:
        """A browser's websocket: signed in, then `/ws` with the cookie."""
        cookie = await self.sign_in()
        return await self.http.ws_connect(self.socket_url(), headers=cookie, autoping=autoping)

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


def simulator_settings(simulator: RunningSimulator) -> ServerSettings:
    """The settings a viewer's dashboard reads from its environment (viewer_command)."""
    return ServerSettings(
        url=simulator.base_url, credentials=Credentials(api_key=SecretStr(API_KEY))
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
            server = simulator_settings(simulator)
            front = WebFront(
                viewer_command(simulator),
                access_key=key,
                say=said.append,
                # As serve does; the records are the test's own (XDG_STATE_HOME, root conftest).
                leftovers=lambda pid, timeout: delete_leftovers(
                    pid, server, SubscriptionRecords(), timeout=timeout
                ),
                **settings,  # type: ignore[arg-type]
            )
            runner = web.AppRunner(front.application())
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            return Served(f"http://127.0.0.1:{port}", key, front, simulator, http, said)

        try:
            yield start
        finally:
            for runner in runners:
                await runner.cleanup()
