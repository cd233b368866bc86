"""Alert figures read as the statistic shows them, and an episode keeps its worst figure.

Against the simulator over real loopback HTTP: pinned figures raise alerts whose lines say
`= 88%` and `= 0:04:10` (not `88.24`, `250`), and a backlog that peaked at 12 and cleared at
0 logs and lists 12 as the episode's worst.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live.alerts.actions import AlertActions, alert_line
from statdash.live.alerts.book import AlertEvent
from statdash.live.alerts.log import AlertLog
from statdash.live.alerts.runner import AlertRunner
from statdash.live.controller import LiveController, plan_for
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, serve
from tests.support.wait import until_async

QUEUE = "8001@SIP_Switch"
LAYOUT = """
title: Alert figures
refresh: 1s
statistics:
  waiting: {name: CurrentNumberWaitingCalls, label: Waiting}
alerts:
  - {name: Backlog, when: waiting > 3, clear_after: 0s}
alert_settings: {for: 0s, clear_after: 0s, actions: []}
pages:
  - title: Queues
    widgets:
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}]
        columns:
          - $waiting
          - {stat: ServiceLevel, label: SL, format: percent, decimals: 0,
             thresholds: {alarm: 90, direction: below, alert: true}}
          - {stat: CurrMaxCallWaitingTime, label: Oldest, format: duration,
             thresholds: {alarm: 2m, alert: true}}
"""


def _pin(sim: RunningSimulator, name: str, value: float | None) -> None:
    body: dict[str, object] = {"objectType": "Queue", "objectId": QUEUE, "name": name}
    if value is None:
        response = httpx.request("DELETE", f"{sim.base_url}/simulator/pin", json=body, timeout=5)
    else:
        response = httpx.post(f"{sim.base_url}/simulator/pin", json={**body, "value": value})
    assert response.status_code == 200, response.text


@pytest.fixture
async def running(
    tmp_path: Path,
) -> AsyncIterator[tuple[RunningSimulator, AlertRunner, list[AlertEvent], Path]]:
    """A manual-clock floor, a polling controller and an alert runner logging to a file."""
    config = SimConfig(agents=20, queues=3, seed=4, clock="manual", start_time=SIM_START)
    with serve(config) as sim:
        _pin(sim, "CurrentNumberWaitingCalls", 0)
        layout = compile_layout(load_layout_text(LAYOUT, file="alerts.yaml"))
        plan = replace(plan_for(layout), interval=0.2)
        async with StatisticsClient(sim.base_url, API_KEY, retry=RetryPolicy(attempts=1)) as c:
            events: list[AlertEvent] = []
            log = AlertLog(tmp_path / "alerts.jsonl")
            log.open()
            controller = LiveController(
                c, plan, on_change=lambda _: None, on_status=lambda _: None, updates="poll"
            )
            runner = AlertRunner(
                layout.alerts,
                controller.store,
                interval=plan.interval,
                actions=AlertActions(terminal=None, say=lambda _: None),
                log=log,
                say=lambda _: None,
                on_events=events.extend,
            )
            controller.listeners.append(runner)
            controller.start()
            try:
                yield sim, runner, events, tmp_path / "alerts.jsonl"
            finally:
                await controller.close()


async def test_alert_lines_use_the_statistic_format_and_history_keeps_the_worst(
    running: tuple[RunningSimulator, AlertRunner, list[AlertEvent], Path],
) -> None:
    """`= 88%`, `= 0:04:10`; the backlog peaked at 12 and cleared at 0: worst 12."""
    sim, runner, events, log_path = running
    _pin(sim, "ServiceLevel", 88.24)
    _pin(sim, "CurrMaxCallWaitingTime", 250)
    _pin(sim, "CurrentNumberWaitingCalls", 7)
    await until_async(lambda: len(runner.book.active()) == 3)
    _pin(sim, "CurrentNumberWaitingCalls", 12)
    await until_async(lambda: any(a.value == 12.0 for a in runner.book.active()))
    _pin(sim, "CurrentNumberWaitingCalls", 5)
    await until_async(lambda: any(a.value == 5.0 for a in runner.book.active()))
    _pin(sim, "CurrentNumberWaitingCalls", 0)
    await until_async(lambda: bool(runner.book.history()))
    lines = [alert_line(event) for event in events]
    assert any(line.endswith("= 88%") for line in lines), lines
    assert any(line.endswith("= 0:04:10") for line in lines), lines
    assert any("cleared: Backlog" in line and line.endswith("= 0 (worst 12)") for line in lines), (
        lines
    )
    (cleared,) = runner.book.history()
    assert (cleared.value, cleared.worst) == (0.0, 12.0)
    records = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    backlog = [r for r in records if r["alert"] == "Backlog" and r["event"] == "cleared"]
    assert backlog == [{**backlog[0], "value": 0, "worst": 12, "worst_shown": "12"}]
    sl = next(r for r in records if r["alert"].startswith("SL"))
    assert (sl["value"], sl["shown"]) == (88.24, "88%")
