"""Time in state counts to the server's clock, against the simulator over real loopback HTTP.

A simulator whose clock runs 5x, or 5 minutes ahead of or behind the PC's: the dashboard's
estimate of the server's clock stays within a second of it, so its time-in-state figures
agree with `statdash snapshot` (which reads the server's own timestamps).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.push import PushChannel
from statdash.api.values import AgentStateValue
from statdash.cli import main
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live.controller import LiveController, plan_for
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import serve

LAYOUT = """
title: Clock
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak, carla.ortiz, dev.weber, elena.ivanova]
        columns: [{stat: InboundCalls, label: Calls}]
"""
DURATION = re.compile(r"(\d+):(\d\d):(\d\d)")


def _seconds(text: str) -> int:
    match = DURATION.search(text)
    assert match is not None, text
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@pytest.fixture
async def dashboard(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[RunningSimulator, LiveController]]:
    """A realtime simulator (time scale, clock skew from the test's parameter) and a
    dashboard's controller under push on it."""
    scale, skew = request.param
    config = SimConfig(agents=20, queues=3, seed=5, time_scale=scale, clock_skew=skew)
    with serve(config) as simulator:
        async with StatisticsClient(
            simulator.base_url, API_KEY, retry=RetryPolicy(attempts=1)
        ) as client:
            layout = compile_layout(load_layout_text(LAYOUT, file="clock.yaml"))
            controller = LiveController(
                client,
                replace(plan_for(layout), interval=0.5),
                on_change=lambda _: None,
                on_status=lambda _: None,
                open_channel=lambda: PushChannel(client),
                updates="auto",
            )
            controller.start()
            try:
                yield simulator, controller
            finally:
                await controller.close()


async def _settled(controller: LiveController, seconds: float) -> None:
    deadline = time.monotonic() + 15
    while not (controller.pushing and controller.server_clock.known):
        assert time.monotonic() < deadline, controller.status
        await asyncio.sleep(0.05)
    await asyncio.sleep(seconds)


@pytest.mark.parametrize(
    "dashboard", [(5.0, 0.0), (1.0, 300.0), (1.0, -300.0)], indirect=True, ids=str
)
async def test_the_server_clock_estimate_follows_a_fast_or_skewed_server(
    dashboard: tuple[RunningSimulator, LiveController],
) -> None:
    """Time-scaled 5x, or 5 minutes ahead or behind: within a second of the server's clock."""
    simulator, controller = dashboard
    await _settled(controller, 7.0)
    for _ in range(3):
        before = controller.server_clock.now()
        server = float(await asyncio.to_thread(lambda: simulator.state()["sim_time"]))
        after = controller.server_clock.now()
        assert before - 1.0 <= server <= after + 1.0
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("dashboard", [(1.0, 300.0), (1.0, -300.0)], indirect=True, ids=str)
async def test_time_in_state_agrees_with_snapshot_on_a_skewed_server(
    dashboard: tuple[RunningSimulator, LiveController],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the server's clock 5 minutes off the PC's, the dashboard's time in state and
    `snapshot`'s agree within a second, agent by agent."""
    simulator, controller = dashboard
    await _settled(controller, 1.0)
    layout = tmp_path / "clock.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    argv = ["snapshot", str(layout), "--url", simulator.base_url, "--format", "json"]
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--api-key", API_KEY])
    now = controller.server_clock.now()
    assert code == 0
    rows = [r for r in json.loads(capsys.readouterr().out)["statistics"] if r["state_status"]]
    assert rows
    by_agent = {
        item.object_id: controller.store.get(item.statistic_id)
        for item in controller.plan.items
        if item.name == "CurrentAgentState"
    }
    for row in rows:
        value = by_agent[row["object_id"]]
        assert isinstance(value, AgentStateValue)
        shown = value.seconds_in_state(now)
        assert shown is not None
        assert abs(shown - _seconds(row["value"])) <= 1.5, (row, shown)
