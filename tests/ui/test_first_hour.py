"""The first hour on the dashboard (issue 22): what a new supervisor sees and types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets._toast import Toast

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout, load_layout_text
from statdash.layout.views import CompiledLayout, FormulaStat, TableView
from statdash.live.derived import compute, stored
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.palette import STATDASH_THEME
from statdash.ui.panels import TablePanel, value_cell
from statdash.ui.screens.alerts import AlertsScreen
from statdash.ui.widgets.alert_banner import AlertBanner
from tests.support.sim import serve

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
SIM_START = 1_700_000_000.0


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[RunningSimulator]:
    """The demo contact center (50 agents, 5 queues) on a manual clock, 15 minutes in."""
    config = SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
    with serve(config) as simulator:
        simulator.advance(900)
        yield simulator


@pytest.fixture
async def client(demo_sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A client of the demo simulator that does not retry."""
    async with StatisticsClient(
        demo_sim.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client


def demo_layout() -> CompiledLayout:
    """The layout `statdash demo` shows."""
    return compile_layout(load_layout(LAYOUTS / "demo.yaml"))


def make_app(client: StatisticsClient, layout: CompiledLayout | None = None) -> StatdashApp:
    """The dashboard as the CLI builds it, with no signal handlers."""
    return build_app(
        layout or demo_layout(),
        client,
        server_label="simulator",
        handle_signals=False,
        wall_clock=lambda: SIM_START + 900,
    )


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


def screen_lines(app: StatdashApp) -> list[str]:
    """The text of every line on the screen now."""
    return [
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    ]


def agents_panel(app: StatdashApp) -> TablePanel:
    """The demo's agents table."""
    return next(p for p in app.query(TablePanel) if p.view.kind == "agents")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_filter_line_shows_what_is_typed(
    client: StatisticsClient, size: tuple[int, int]
) -> None:
    """The filter line has a row for its text, and the typed text is on the screen."""
    app = make_app(client)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        await pilot.press("slash", *"silva")
        await pilot.pause(0.1)
        filter_input = agents_panel(app).filter_input
        assert filter_input.content_region.height == 1
        assert any("silva" in line and "Ana" not in line for line in screen_lines(app))
        await pilot.press("ctrl+q")
        await pilot.pause()


ALERT_LAYOUT = """\
title: Maximize pilot
alert_settings:
  actions: [banner]
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}]
        columns:
          - {stat: CurrentNumberWaitingCalls, label: Waiting, thresholds: {alarm: 0, alert: true}}
      - kind: agents
        agents: [ana.silva]
        columns: [{stat: CurrentAgentState, label: State}]
"""


async def test_maximize_keeps_title_banner_and_status(client: StatisticsClient) -> None:
    """`m` fills the page with one panel, and the title, the alarm banner and the status stay."""
    layout = compile_layout(load_layout_text(ALERT_LAYOUT, file="maximize.yaml"))
    app = make_app(client, layout)
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.query_one(AlertBanner)
        await until(pilot, lambda: bool(banner.display))
        await pilot.press("m")
        await pilot.pause(0.1)
        assert app.screen.maximized is not None
        lines = screen_lines(app)
        assert "Maximize pilot" in lines[0]
        assert "ALARM" in lines[1]
        assert "Sales" in "".join(lines[2:6])
        assert any("simulator" in line for line in lines[-3:])
        assert app.screen.maximized.region.y == 2
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen.maximized is None
        queues = next(p for p in app.query(TablePanel) if p.view.kind == "queues")
        assert queues.region.height == 4  # as tall as its one row again
        await pilot.press("ctrl+q")
        await pilot.pause()


def test_a_ratio_over_zero_is_n_a_and_not_judged() -> None:
    """Occupancy `100 * busy / logged_in` of a team with nobody logged in reads `n/a`, with
    no level, though its thresholds would judge 0% or any number."""
    teams = demo_layout().pages[1].widgets[-1]
    assert isinstance(teams, TableView)
    occupancy = next(c for c in teams.columns if c.label == "Occupancy")
    assert occupancy.thresholds is not None
    formula = next(iter(demo_layout().derived.values()))
    assert isinstance(formula, FormulaStat)
    result = compute(formula, lambda stat_id: 0.0)
    assert result is None
    cell = value_cell(stored(result), occupancy, STATDASH_THEME)
    assert cell.text.plain.strip() == "n/a"
    assert not any(glyph in cell.text.plain for glyph in ("‼", "▲", "!"))


async def test_sort_arrow_up_is_ascending_and_the_header_keeps_its_label(
    client: StatisticsClient,
) -> None:
    """Sorted by time in state, ▲ lists the shortest first and ▼ the longest; the header
    reads `In state ▲` whole, the column widening for the arrow into the spare room."""
    app = make_app(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        table = agents_panel(app).table
        await pilot.pause(0.2)
        for _ in range(3):  # name, state, then time in state
            await pilot.press("s")
        await pilot.pause(0.1)
        assert table.sort_column is not None and table.sort_column.startswith("t")

        def seconds_shown() -> list[int]:
            shown = []
            for key in table.visible_row_keys()[:12]:
                cell = table.get_cell(key, table.sort_column or "")
                assert cell is not None
                text = cell.text.plain.strip()
                if text.count(":") == 2:
                    hours, minutes, seconds = (int(part) for part in text.split(":"))
                    shown.append(hours * 3600 + minutes * 60 + seconds)
            return shown

        ascending = seconds_shown()
        assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
        assert any("In state ▲" in line for line in screen_lines(app))
        await pilot.press("S")
        await pilot.pause(0.1)
        descending = seconds_shown()
        assert descending == sorted(descending, reverse=True)
        assert any("In state ▼" in line for line in screen_lines(app))
        await pilot.press("ctrl+q")
        await pilot.pause()


async def test_screenshot_goes_to_a_directory_that_exists_and_says_where(
    client: StatisticsClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no Pictures or Downloads directory the palette's Screenshot lands in the working
    directory and the toast gives the path; a directory that cannot be written gives the reason."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "home" / "Pictures"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "home" / "Downloads"))
    monkeypatch.chdir(tmp_path)
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        await pilot.press("ctrl+p")
        await pilot.press(*"Screenshot")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await until(pilot, lambda: any(tmp_path.glob("statdash_*.svg")))
        saved = next(tmp_path.glob("statdash_*.svg"))
        assert "<svg" in saved.read_text(encoding="utf-8")
        await until(pilot, lambda: bool(app._notifications))
        messages = [str(n.message) for n in app._notifications]
        assert any(f"Screenshot saved to {saved}" in m for m in messages)

        assert app.screenshot_to(tmp_path / "missing") is None
        await pilot.pause(0.1)
        messages = [str(n.message) for n in app._notifications]
        assert any("Screenshot not saved" in m and "No such file" in m for m in messages)
        await pilot.press("ctrl+q")
        await pilot.pause()


@pytest.mark.parametrize("kiosk", [False, True])
async def test_toasts_leave_the_status_line_readable(client: StatisticsClient, kiosk: bool) -> None:
    """A toast stands above the status line (and the key footer), never over its right end."""
    app = build_app(
        demo_layout(),
        client,
        server_label="simulator",
        handle_signals=False,
        kiosk=kiosk,
        wall_clock=lambda: SIM_START + 900,
    )
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        app.notify("A message long enough to reach across the screen's right end", timeout=30)
        await until(pilot, lambda: bool(app.screen.query(Toast)))
        await pilot.pause(0.1)
        status = app.query_one("#status").region
        for toast in app.screen.query(Toast):
            assert toast.region.bottom <= status.y, (toast.region, status)
        await pilot.press("ctrl+q")
        await pilot.pause()


async def test_alerts_screen_lists_the_rules_when_none_has_fired(
    client: StatisticsClient,
) -> None:
    """`!` before any alert: the demo's rule is listed with its condition, and no alert."""
    app = make_app(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        assert app.alerts is not None and app.alerts.book.active() == []
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.pause(0.1)
        text = "\n".join(screen_lines(app))
        assert "Standing: 0 alerts" in text
        assert "Sales backlog" in text and "waiting > 5" in text
        await pilot.press("escape", "ctrl+q")
        await pilot.pause()


async def test_state_filter_on_the_demo_keeps_ready_agents_only(client: StatisticsClient) -> None:
    """`/state:ready` on the demo's agents: every row left is Ready, none Not ready."""
    app = make_app(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        await pilot.press("slash", *"state:ready")
        await pilot.pause(0.1)
        table = agents_panel(app).table
        shown = table.visible_row_keys()
        (state_key,) = [c.key for c in table._columns if c.label == "State"]
        cells = [table.get_cell(key, state_key) for key in shown]
        states = {cell.text.plain.split(" ", 1)[1] for cell in cells if cell is not None}
        assert 0 < len(shown) < table.row_count
        assert all(state.startswith("Ready") for state in states), states
        await pilot.press("ctrl+q")
        await pilot.pause()
