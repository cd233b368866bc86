"""Pilot test: a formula column shows the value computed from the simulator's figures, or n/a."""

from __future__ import annotations

from statdash.api.client import StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.formats import number_of
from statdash.layout.loader import load_layout_text
from statdash.layout.views import TableView
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.panels import KpiPanel, TablePanel
from tests.support.sim import SIM_START, shared_simulator
from tests.support.wait import until_async

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


# A small contact center on a manual clock, ten minutes into the shift; the root `client`
# fixture is a client of it.
simulator = shared_simulator(
    SimConfig(agents=50, queues=5, seed=3, clock="manual", start_time=SIM_START), advance=600
)


def shown(app: StatdashApp, row: str, column: int) -> str:
    """The text of one cell of the table, as drawn."""
    table = app.query_one(TablePanel).table
    cell = table.get_cell(f"GroupAgents:{row}", f"c{column}")
    assert cell is not None
    return cell.text.plain.strip()


async def test_formula_column_shows_the_computed_value_and_na(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """Each team's Occupancy cell is 100 * busy / logged_in of its own row, and so is the KPI
    tile of Team_01; a division by zero is n/a in the cell and in its tile."""
    layout = compile_layout(load_layout_text(LAYOUT, file="formulas.yaml"))
    app = build_app(layout, client, server_label="simulator", handle_signals=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
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
    assert simulator.state()["open_subscriptions"] == 0
