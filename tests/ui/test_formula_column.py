"""Pilot test: a formula column shows the value computed from the simulator's figures, or n/a."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import TableView, compile_layout
from statdash.layout.formats import number_of
from statdash.layout.loader import load_layout_text
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.panels import KpiPanel, TablePanel

SIM_START = 1_700_000_000.0
LAYOUT = """\
title: Formulas
refresh: 2s
statistics:
  busy: {name: CurrentBusyAgents, label: Busy}
  logged_in: {name: CurrentLoggedInAgents, label: Logged in}
  occupancy: {formula: "100 * busy / logged_in", label: Occupancy, format: percent}
  nothing: {formula: "busy / (logged_in - logged_in)", label: Never}
pages:
  - widgets:
      - kind: queues
        objects: [{agent_group: Team_01}, {agent_group: Team_02}]
        columns: [$busy, $logged_in, $occupancy, $nothing]
      - {kind: kpi, object: {agent_group: Team_01}, stat: $occupancy, trend: true}
      - {kind: kpi, object: {agent_group: Team_01}, stat: $nothing}
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    """A small contact center on a manual clock, ten minutes into the shift."""
    config = SimConfig(agents=50, queues=5, seed=3, clock="manual", start_time=SIM_START)
    with running_simulator(config, log_level="critical") as simulator:
        simulator.advance(600)
        yield simulator


@pytest.fixture
async def client(sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A client of that simulator that does not retry (the session retries)."""
    async with StatisticsClient(
        sim.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client


async def until(pilot: Pilot[Any], condition: object, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds."""
    for _ in range(int(timeout / 0.05)):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


def shown(app: StatdashApp, row: str, column: int) -> str:
    """The text of one cell of the table, as drawn."""
    table = app.query_one(TablePanel).table
    cell = table.get_cell(f"GroupAgents:{row}", f"c{column}")
    assert cell is not None
    return cell.text.plain.strip()


async def test_formula_column_shows_the_computed_value_and_na(
    client: StatisticsClient, sim: RunningSimulator
) -> None:
    """Each team's Occupancy cell is 100 * busy / logged_in of its own row, and so is the KPI
    tile of Team_01; a division by zero is n/a in the cell and in its tile."""
    layout = compile_layout(load_layout_text(LAYOUT, file="formulas.yaml"))
    app = build_app(layout, client, server_label="simulator", handle_signals=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        await pilot.pause(0.1)
        for team in ("Team_01", "Team_02"):
            busy, logged_in = float(shown(app, team, 0)), float(shown(app, team, 1))
            assert logged_in > 0
            assert shown(app, team, 2) == f"{100 * busy / logged_in:.0f}%"
            assert shown(app, team, 3) == "n/a"
        never = app.query_one(TablePanel).table.get_cell("GroupAgents:Team_01", "c3")
        assert never is not None and "dim italic" in [str(span.style) for span in never.text.spans]
        table = layout.pages[0].widgets[0]
        assert isinstance(table, TableView)
        occupancy_id = table.cells[("GroupAgents", "Team_01", 2)]
        assert number_of(app.controller.store.get(occupancy_id)) is not None
        occupancy_tile, never_tile = app.query(KpiPanel)
        assert occupancy_tile.text == shown(app, "Team_01", 2)
        assert (never_tile.text, never_tile.problem) == ("n/a", None)
        await pilot.press("q")
    assert sim.state()["open_subscriptions"] == 0
