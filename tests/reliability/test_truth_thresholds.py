"""Thresholds judge the figure as shown, against the simulator over real loopback HTTP.

Two queues whose service level reads `85%` (84.96 and 85.3 on the server) carry the same
level in `snapshot` and the same alert verdict, as in the dashboard and the wallboard (all
judge through the compiled `Thresholds`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from statdash.api.values import parse_value
from statdash.cli import main
from statdash.layout.compile import compile_layout
from statdash.layout.formats import Level, format_value
from statdash.layout.loader import load_layout_text
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, serve

LAYOUT = """
title: Shown
refresh: 2s
pages:
  - title: Queues
    widgets:
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}, {queue: 8002@SIP_Switch}]
        columns:
          - stat: ServiceLevel
            label: SL
            format: percent
            decimals: 0
            thresholds: {warn: 90, alarm: 85, direction: below, alert: true}
"""
FIGURES = {"8001@SIP_Switch": 84.96, "8002@SIP_Switch": 85.3}


@pytest.fixture(scope="module")
def pinned() -> Iterator[RunningSimulator]:
    """A manual-clock floor whose two queues' service levels are pinned either side of 85."""
    config = SimConfig(agents=20, queues=3, seed=3, clock="manual", start_time=SIM_START)
    with serve(config) as simulator:
        for queue, figure in FIGURES.items():
            body = {
                "objectType": "Queue",
                "objectId": queue,
                "name": "ServiceLevel",
                "value": figure,
            }
            response = httpx.post(f"{simulator.base_url}/simulator/pin", json=body, timeout=5)
            assert response.status_code == 200, response.text
        yield simulator


def test_two_cells_that_read_85_percent_carry_the_same_level(
    pinned: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """84.96 and 85.3 both read `85%`: snapshot gives both the alarm level (85 <= 85)."""
    layout = tmp_path / "shown.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    capsys.readouterr()
    argv = ["snapshot", str(layout), "--url", pinned.base_url, "--format", "json"]
    assert main([*argv, "--api-key", API_KEY]) == 0
    rows = json.loads(capsys.readouterr().out)["statistics"]
    shown = {row["object_id"]: (row["value"], row["level"]) for row in rows}
    assert shown == {queue: ("85%", "alarm") for queue in FIGURES}


def test_alerts_and_cells_judge_the_shown_figure_too() -> None:
    """The alert rule of `alert: true` and the cell's level agree with what the cell reads."""
    layout = compile_layout(load_layout_text(LAYOUT, file="shown.yaml"))
    (rule,) = layout.alerts
    column = next(
        column
        for page in layout.pages
        for widget in page.widgets
        for column in getattr(widget, "columns", ())
        if column.label == "SL"
    )
    assert column.thresholds is not None
    for figure in (84.96, 85.3, 85.49):
        value = parse_value({"intValue": round(figure), "stringValue": f"{figure:.2f}"})
        assert format_value(value, "percent", decimals=0) == "85%"
        assert column.thresholds.level(figure) is Level.ALARM
        assert all(target.condition((value,)).holds for target in rule.targets)
    assert column.thresholds.level(85.5) is Level.WARN
