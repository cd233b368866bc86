"""Pilot tests of the whole dashboard against the real simulator over loopback HTTP."""

from __future__ import annotations

import gc
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import CompiledLayout, compile_layout
from statdash.layout.formats import MISSING
from statdash.layout.loader import load_layout, load_layout_text
from statdash.live.session import Phase, SessionStatus
from statdash.live.store import Ingested
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.messages import Bridge
from statdash.ui.panels import KpiPanel, StatesPanel, TablePanel
from statdash.ui.screens.help import HelpScreen

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
SIM_START = 1_700_000_000.0


class Clock:
    """A clock the test moves by hand (monotonic or wall)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[RunningSimulator]:
    """The demo contact center (50 agents, 5 queues) on a manual clock."""
    config = SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
    with running_simulator(config, log_level="critical") as simulator:
        yield simulator


@pytest.fixture
async def client(demo_sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A client of the demo simulator that does not retry (the session retries)."""
    async with StatisticsClient(
        demo_sim.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client
    demo_sim.clear_faults()


def demo_layout() -> CompiledLayout:
    return compile_layout(load_layout(LAYOUTS / "demo.yaml"))


def make_app(
    client: StatisticsClient, layout: CompiledLayout | None = None, **options: object
) -> StatdashApp:
    options.setdefault("wall_clock", Clock(SIM_START + 30))
    return build_app(  # type: ignore[arg-type]
        layout or demo_layout(), client, server_label="simulator", handle_signals=False, **options
    )


async def until(pilot: Pilot[object], condition: object, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds."""
    for _ in range(int(timeout / 0.05)):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


def agents_panel(app: StatdashApp) -> TablePanel:
    return next(p for p in app.query(TablePanel) if p.view.kind == "agents")


def has_data(app: StatdashApp) -> bool:
    return app.controller.store.revision > 0


async def test_lifecycle_subscribe_show_change_quit(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """Values appear after one subscription, change after the center moves, and q deletes it."""
    app = make_app(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: has_data(app))
        assert demo_sim.state()["open_subscriptions"] == 1
        table = agents_panel(app).table
        assert table.row_count == 50

        def state_shown() -> bool:
            state = table.get_cell("Agent:ana.silva", "c0")
            return state is not None and state.text.plain.strip() not in ("", MISSING)

        # The first values reach the screen through a message the app handles right after.
        await until(pilot, state_shown)
        before = app.controller.store.revision
        demo_sim.advance(600)
        await pilot.press("r")
        await until(pilot, lambda: app.controller.store.revision > before)
        await pilot.press("q")
        await pilot.pause()
    assert demo_sim.state()["open_subscriptions"] == 0
    assert app.return_code == 0


@pytest.fixture(autouse=True)
def nothing_left_open(demo_sim: RunningSimulator) -> Iterator[None]:
    """Every test starts and ends with no subscription open on the shared simulator."""
    assert demo_sim.state()["open_subscriptions"] == 0
    yield
    assert demo_sim.state()["open_subscriptions"] == 0, demo_sim.state()["subscriptions"]


async def test_pause_stops_requests_and_resume_polls(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """p pauses polling (no peeks go out) and p again resumes it at once."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("p")
        assert app.controller.status.phase is Phase.PAUSED
        peeks = demo_sim.state()["requests"].get("peek", 0)
        app.controller.poll_now()  # a wake-up while paused must not poll
        await pilot.pause(0.3)
        assert demo_sim.state()["requests"].get("peek", 0) == peeks
        await pilot.press("p")
        await until(pilot, lambda: demo_sim.state()["requests"].get("peek", 0) > peeks)
        assert app.controller.status.phase is Phase.LIVE
        await pilot.press("q")


async def test_filter_narrows_rows_and_escape_clears(client: StatisticsClient) -> None:
    """/ opens a filter that narrows the agents by any text; escape shows them all again."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        panel = agents_panel(app)
        await pilot.press("slash")
        await pilot.press(*"silva")
        assert panel.table.visible_row_keys() == ["Agent:ana.silva"]
        await pilot.press("enter")
        assert panel.table.has_focus
        await pilot.press("escape")
        assert panel.table.filtered_count == 50
        await pilot.press("slash", *"ready")
        ready = panel.table.filtered_count
        assert 0 < ready < 50
        # ctrl+q quits even while the filter line has the focus (q would be typed there).
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_sort_keeps_cursor_on_the_same_agent(client: StatisticsClient) -> None:
    """s sorts by the next column and the cursor stays on the agent it was on."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        table = agents_panel(app).table
        await pilot.press("down", "down", "down", "down", "down")
        chosen = table.cursor_row_key
        assert chosen == "Agent:farid.lopez"
        await pilot.press("s")
        await pilot.press("s")
        assert table.sort_column == "c0"
        assert table.cursor_row_key == chosen
        await pilot.press("S")
        assert table.sort_reverse and table.cursor_row_key == chosen
        await pilot.press("q")


async def test_number_keys_switch_pages(client: StatisticsClient) -> None:
    """2 shows the second page, a key past the last page does nothing, 1 goes back."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("2")
        assert app.query_one("#p2").display and not app.query_one("#p1").display
        await pilot.press("9")
        assert app.query_one("#p2").display
        kpis = list(app.query(KpiPanel))
        await until(pilot, lambda: all(k.text != MISSING for k in kpis))
        await pilot.press("1")
        assert app.query_one("#p1").display
        await pilot.press("q")


async def test_stale_marking_when_the_server_stops_answering(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """When polls fail for over two intervals, panels dim but keep their values."""
    clock = Clock(1000.0)
    app = make_app(client, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        demo_sim.set_faults(error_rate={"peek": 1.0}, error_status=503)
        clock.now += 4.5  # more than two 2 s intervals
        await pilot.press("r")
        await until(pilot, lambda: app.controller.status.phase is Phase.RETRYING)
        app._tick()
        panel = agents_panel(app)
        assert panel.table.stale and panel.has_class("-stale")
        assert all(s.stale for s in app.query(StatesPanel))
        cell = panel.table.get_cell("Agent:ana.silva", "c0")
        assert cell is not None and cell.text.plain.strip() != MISSING
        demo_sim.clear_faults()
        clock.now += 1
        await pilot.press("r")
        await until(pilot, lambda: app.controller.status.phase is Phase.LIVE)
        app._tick()
        assert not panel.table.stale
        await pilot.press("q")


async def test_refused_statistics_are_shown_against_their_widget(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """A statistic the server refuses marks its cells n/a and its panel; the rest works."""
    text = (LAYOUTS / "supervisor.yaml").read_text()
    layout = compile_layout(
        load_layout_text(
            """
title: Refusals
refresh: 2s
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva, ben.novak]
        columns:
          - {stat: NoSuchStatistic, label: Bogus}
          - {stat: InboundCalls, label: Calls}
      - {kind: kpi, object: {queue: 8001@SIP_Switch}, stat: AlsoMissing}
""",
            file="refusals.yaml",
        )
    )
    assert text  # the shipped layouts are present beside the tests
    app = make_app(client, layout)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: has_data(app) and app.controller.status.item_problems)
        await pilot.pause(0.1)
        panel = agents_panel(app)
        assert "refused" in str(panel.border_subtitle)
        bogus = panel.table.get_cell("Agent:ana.silva", "c1")
        calls = panel.table.get_cell("Agent:ana.silva", "c2")
        assert bogus is not None and bogus.text.plain == "n/a"
        assert calls is not None and calls.text.plain.strip().isdigit()
        kpi = app.query_one(KpiPanel)
        assert kpi.problem is not None and "AlsoMissing" in kpi.problem
        await pilot.press("q")
    assert demo_sim.state()["open_subscriptions"] == 0


async def test_help_and_maximize(client: StatisticsClient) -> None:
    """? lists every key in a modal; m maximizes the focused panel and m again restores it."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("m")
        assert app.screen.maximized is agents_panel(app)
        await pilot.press("m")
        assert app.screen.maximized is None
        await pilot.press("q")


async def test_edited_layout_is_applied_and_a_broken_one_is_not(
    client: StatisticsClient, demo_sim: RunningSimulator, tmp_path: Path
) -> None:
    """A valid edit swaps the subscription; an invalid edit keeps the old layout running."""
    path = tmp_path / "demo.yaml"
    shutil.copy(LAYOUTS / "demo.yaml", path)
    app = make_app(client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        first_subscription = app.controller.status.subscription_id
        path.write_text(path.read_text().replace("Demo contact center", "Edited floor"))
        app._check_layout_file()
        await until(pilot, lambda: app.layout.title == "Edited floor")
        await until(
            pilot,
            lambda: app.controller.status.subscription_id not in (None, first_subscription),
        )
        assert demo_sim.state()["open_subscriptions"] == 1
        path.write_text(path.read_text().replace("kind: agents", "kind: agnets"))
        app._check_layout_file()
        await until(pilot, lambda: app._layout_message is not None)
        assert app.layout.title == "Edited floor"
        assert "problem" in (app._status_info().layout or "")
        await pilot.press("q")
    assert demo_sim.state()["open_subscriptions"] == 0


async def test_a_broken_edit_lists_every_problem_behind_e(
    client: StatisticsClient, tmp_path: Path
) -> None:
    """A broken edit: the status line says "layout: N problems (press e)" whole at 120
    columns, e lists every problem with file:line:column in a scrollable screen, escape
    closes it, and a good edit clears the notice."""
    from statdash.ui.screens.problems import LayoutProblemsScreen
    from statdash.ui.widgets.status_bar import StatusBar

    path = tmp_path / "demo.yaml"
    good = (LAYOUTS / "demo.yaml").read_text()
    path.write_text(good)
    app = make_app(client, layout_path=path, demo=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        # Dozens of problems: more than any toast could hold.
        broken = good.replace("kind: agents", "kind: agnets").replace("label:", "lable:")
        path.write_text(broken)
        app._check_layout_file()
        await until(pilot, lambda: app._layout_message is not None)
        await pilot.pause(0.1)
        problems = app._layout_problems
        assert len(problems) > 20
        notice = f"layout: {len(problems)} problems (press e)"
        bar = app.query_one(StatusBar)
        assert notice in str(bar.render())
        await pilot.press("e")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, LayoutProblemsScreen)
        shown = "\n".join(str(static.render()) for static in screen.query("Static"))
        for problem in problems:
            assert f"{path}:{problem.line}:{problem.column}:" in str(problem)
            assert str(problem) in shown.replace("\n", " ") or str(problem) in shown
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, LayoutProblemsScreen)
        path.write_text(good.replace("Demo contact center", "Fixed"))
        app._check_layout_file()
        await until(pilot, lambda: app.layout.title == "Fixed")
        assert app._layout_message is None
        assert "layout:" not in str(app.query_one(StatusBar).render())
        await pilot.press("q")


async def test_hostile_server_strings_stay_plain_text(tmp_path: Path) -> None:
    """Markup and escape sequences in server data reach the screen as inert characters."""
    config = SimConfig(
        agents=50, queues=5, seed=3, clock="manual", start_time=SIM_START, hostile=True
    )
    with running_simulator(config, log_level="critical") as hostile:
        hostile.advance(3600)
        async with StatisticsClient(hostile.base_url, "k", retry=RetryPolicy(attempts=1)) as hc:
            app = make_app(hc, wall_clock=Clock(SIM_START + 3700))
            async with app.run_test(size=(160, 48)) as pilot:
                await until(pilot, lambda: has_data(app))
                await pilot.pause(0.2)
                table = agents_panel(app).table
                texts = [
                    cell.text.plain
                    for key in table.visible_row_keys()
                    for column in table.columns
                    if (cell := table.get_cell(key, column.key)) is not None
                ]
                assert all(text.isprintable() for text in texts)
                # The simulator's hostile reasons are shown, literally, somewhere on the floor.
                assert any("[" in text for text in texts)
                screenshot = app.export_screenshot()
                assert "\x1b" not in screenshot and "\x07" not in screenshot
                assert app.is_running
                await pilot.press("q")
            assert hostile.state()["open_subscriptions"] == 0


async def test_disabled_tls_verification_stays_visible(client: StatisticsClient) -> None:
    """With TLS verification off, the title line says so for the whole run."""
    from textual.widgets import Static

    from statdash.ui.app import INSECURE_MARK

    app = make_app(client, insecure=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("2")
        title = app.query_one("#title", Static)
        assert INSECURE_MARK in str(title.render())
        await pilot.press("q")


async def test_command_palette_offers_every_action_and_page(client: StatisticsClient) -> None:
    """The palette lists each key's action and each page, with layout text kept literal."""
    from textual.content import Content

    from statdash.ui.keys import KEY_ACTIONS

    layout = compile_layout(
        load_layout_text(
            """
title: Palette
pages:
  - title: "[@click=app.quit]Floor[/]"
    widgets: [{kind: agents, agents: [ana.silva]}]
  - title: Second
    widgets: [{kind: states, agents: [ana.silva]}]
""",
            file="palette.yaml",
        )
    )
    app = make_app(client, layout)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: has_data(app))
        commands = list(app.get_system_commands(app.screen))
        titles = [command.title for command in commands]
        for key_action in KEY_ACTIONS:
            if "." not in key_action.action and key_action.action != "command_palette":
                assert any(
                    getattr(command.callback, "__name__", "") == f"action_{key_action.action}"
                    for command in commands
                ), key_action.action
        page_title = next(t for t in titles if t.startswith("Page 1"))
        shown = Content.from_markup(page_title)
        assert shown.plain == "Page 1: [@click=app.quit]Floor[/]"
        assert not any(span.style for span in shown.spans if "click" in str(span.style))
        commands = app.get_system_commands(app.screen)
        next(c for c in commands if c.title.startswith("Page 2")).callback()
        assert app.query_one("#p2").display
        await pilot.press("q")


async def test_command_palette_lists_each_action_once(client: StatisticsClient) -> None:
    """One entry per action (none of Textual's Quit, Keys or Maximize beside the dashboard's),
    each with a description that says more than its name."""
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("m")  # a maximized panel: Textual would offer Minimize too
        commands = list(app.get_system_commands(app.screen))
        titles = [command.title for command in commands]
        assert len(titles) == len(set(titles))
        callbacks = [getattr(c.callback, "__name__", repr(c.callback)) for c in commands]
        named = [name for name in callbacks if name != "<lambda>"]
        assert len(named) == len(set(named))
        assert not {"Quit", "Keys", "Maximize", "Minimize"} & set(titles)
        for command in commands:
            assert command.help and command.help.casefold() != command.title.casefold()
            assert command.title.casefold() not in command.help.casefold()
        await pilot.press("q")


async def test_help_says_escape_clears_the_filter(client: StatisticsClient) -> None:
    """? lists escape, and what it does to a filter."""
    app = make_app(client)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        screen = [
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        ]
        lines = [line for line in screen if "│ escape " in line]
        assert lines and "clear the filter" in lines[0].lower()
        await pilot.press("escape")
        await pilot.press("q")


async def test_two_quick_saves_end_on_the_second_layout(
    client: StatisticsClient, demo_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Two quick saves are applied one after the other; the dashboard ends on the second."""
    path = tmp_path / "demo.yaml"
    shutil.copy(LAYOUTS / "demo.yaml", path)
    first = path.read_text().replace("Demo contact center", "First save")
    final = path.read_text().replace("Demo contact center", "Second save")
    app = make_app(client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        path.write_text(first)
        app._check_layout_file()
        await pilot.pause(0.05)  # the first reload is now rebuilding the pages
        path.write_text(final)
        app._check_layout_file()
        await until(pilot, lambda: app.layout.title == "Second save")
        await until(pilot, lambda: app.controller.status.phase is Phase.LIVE)
        assert app._layout_message is None
        await pilot.press("q")


async def test_time_in_state_ticks_between_polls(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """The time in state moves with the clock every second without a new poll."""
    # Other tests move the shared simulator on: start from its own present.
    wall = Clock(float(demo_sim.state()["sim_time"]) + 30)
    app = make_app(client, wall_clock=wall)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        app.controller.pause()
        table = agents_panel(app).table

        def shown() -> str:
            # The time in state has its own column beside the state ("In state").
            cell = table.get_cell("Agent:ana.silva", "t0")
            return cell.text.plain if cell is not None else ""

        before = shown()
        wall.now += 65
        app._tick()
        await pilot.pause(0.1)
        after = shown()
        assert before != after
        # 65 s later the clock part of the cell reads one minute and five seconds more.
        assert before.split()[-1] != after.split()[-1]
        await pilot.press("q")


class RecordingBridge(Bridge):
    """The app's bridge, also keeping every status and change the controller reports."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[SessionStatus] = []
        self.changed: list[int] = []

    def store_changed(self, ingested: Ingested) -> None:
        self.changed.append(len(ingested.changed))
        super().store_changed(ingested)

    def status_changed(self, status: SessionStatus) -> None:
        self.statuses.append(status)
        super().status_changed(status)


async def test_a_bridge_given_to_build_app_sees_what_the_controller_reports(
    client: StatisticsClient,
) -> None:
    """A Bridge subclass passed to build_app gets every status and change, and the app its data."""
    bridge = RecordingBridge()
    app = make_app(client, bridge=bridge)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        assert app.bridge is bridge
        assert bridge.changed and bridge.changed[0] > 0
        assert any(status.polls >= 1 for status in bridge.statuses)
        await pilot.press("q")


@pytest.mark.parametrize("settle", [True, False])
async def test_heap_is_settled_after_the_first_data_unless_switched_off(
    client: StatisticsClient, settle: bool
) -> None:
    """The first data freezes the heap; with settle_heap=False nothing is ever frozen."""
    frozen_before = gc.get_freeze_count()
    app = make_app(client, settle_heap=settle)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: has_data(app))
        await pilot.pause(0.1)
        assert (gc.get_freeze_count() > frozen_before) is settle
        await pilot.press("q")
    # Released when the app ends (or never frozen): the next app starts from a clean heap.
    assert gc.get_freeze_count() == frozen_before


@pytest.mark.parametrize("tick", [True, False])
async def test_the_tick_runs_every_second_unless_switched_off(
    client: StatisticsClient, tick: bool
) -> None:
    """build_app(tick=False) leaves out the once-a-second tick; by default it runs."""
    app = make_app(client, tick=tick)
    ticks: list[None] = []
    app._tick = lambda: ticks.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.3)
        assert bool(ticks) is tick
        await pilot.press("q")
