"""Snapshot tests of the whole dashboard on the demo layout, with a frozen clock and seed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.formats import MISSING
from statdash.layout.loader import load_layout
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.panels import KpiPanel
from tests.support.sim import SIM_START, shared_simulator
from tests.support.wait import until_async

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
# Fifteen simulated minutes in: queues have history and agents have varied states.
SIM_ELAPSED = 900.0

SnapCompare = Callable[..., bool]


# The demo contact center, advanced to a fixed moment and held there.
frozen_sim = shared_simulator(
    SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START),
    advance=SIM_ELAPSED,
)


def frozen_app(simulator: RunningSimulator, layout: str = "demo.yaml") -> StatdashApp:
    """The dashboard with every clock frozen, so two runs draw the same screen."""
    client = StatisticsClient(simulator.base_url, "snapshot", retry=RetryPolicy(attempts=1))
    return build_app(
        compile_layout(load_layout(LAYOUTS / layout)),
        client,
        server_label="simulator",
        demo=True,
        handle_signals=False,
        clock=lambda: 1000.0,
        wall_clock=lambda: SIM_START + SIM_ELAPSED,
    )


async def data_shown(pilot: Pilot[Any]) -> None:
    """Wait for the first values and let every panel draw them."""
    app = pilot.app
    assert isinstance(app, StatdashApp)
    await until_async(lambda: app.controller.store.revision > 0, what="the first data", pilot=pilot)
    await pilot.pause(0.2)


def test_demo_80x24(frozen_sim: RunningSimulator, snap_compare: SnapCompare) -> None:
    """The demo floor page reads at 80x24: tables drop columns, nothing overlaps."""
    assert snap_compare(frozen_app(frozen_sim), terminal_size=(80, 24), run_before=data_shown)


def test_demo_160x48(frozen_sim: RunningSimulator, snap_compare: SnapCompare) -> None:
    """The demo floor page at 160x48 shows the layout's three-column grid."""
    assert snap_compare(frozen_app(frozen_sim), terminal_size=(160, 48), run_before=data_shown)


def test_demo_service_page(frozen_sim: RunningSimulator, snap_compare: SnapCompare) -> None:
    """The demo's second page: KPI tiles with thresholds and trends, and the team table."""

    async def second_page(pilot: Pilot[Any]) -> None:
        await data_shown(pilot)
        await pilot.press("2")
        # The tiles of page 2 draw their values on the next redraw: wait for them.
        app = pilot.app
        kpis = list(app.query("#p2 KpiPanel").results(KpiPanel))
        await until_async(lambda: all(k.text != MISSING for k in kpis), pilot=pilot)
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(frozen_sim), terminal_size=(120, 36), run_before=second_page)


def test_help_screen(frozen_sim: RunningSimulator, snap_compare: SnapCompare) -> None:
    """The help screen lists every key."""

    async def open_help(pilot: Pilot[Any]) -> None:
        await data_shown(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(frozen_sim), terminal_size=(80, 24), run_before=open_help)
