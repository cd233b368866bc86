"""Pilot tests of the whole dashboard against the real simulator over loopback HTTP."""

from __future__ import annotations

import gc
import inspect
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import CompositorUpdate
from textual.screen import Screen
from textual.widgets import ContentSwitcher

import statdash.ui.app as app_module
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.formats import MISSING
from statdash.layout.loader import load_layout, load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.controller import Listener, LiveController
from statdash.live.session import Phase, SessionStatus
from statdash.live.store import Ingested, Store
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.heap import YOUNG_THRESHOLD, hold_collections
from statdash.ui.launch import build_app
from statdash.ui.panels import KpiPanel, Panel, StatesPanel, TablePanel
from statdash.ui.screens.help import HelpScreen
from tests.support.sim import SIM_START, open_subscriptions, serve, shared_simulator
from tests.support.wait import until_async

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


class Clock:
    """A clock the test moves by hand (monotonic or wall)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# The demo contact center (50 agents, 5 queues) on a manual clock, for the whole module; the
# root `client` fixture is a client of it.
simulator = shared_simulator(
    SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
)


def demo_layout() -> CompiledLayout:
    return compile_layout(load_layout(LAYOUTS / "demo.yaml"))


def make_app(
    client: StatisticsClient, layout: CompiledLayout | None = None, **options: Any
) -> StatdashApp:
    """The dashboard as `statdash run` builds it; `options` go to `build_app` as they are."""
    options.setdefault("wall_clock", Clock(SIM_START + 30))
    options.setdefault("handle_signals", False)
    return build_app(layout or demo_layout(), client, server_label="simulator", **options)


def phase_of(app: StatdashApp) -> Phase:
    """The session's phase now (a call, so each read is a fresh one to the type checker)."""
    return app.controller.status.phase


def reload_done(app: StatdashApp) -> bool:
    """No layout reload is under way: the new layout is set early, its pages mounted last."""
    return not app._reloading


def agents_panel(app: StatdashApp) -> TablePanel:
    return next(p for p in app.query(TablePanel) if p.view.kind == "agents")


def has_data(app: StatdashApp) -> bool:
    return app.controller.store.revision > 0


async def test_lifecycle_subscribe_show_change_quit(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """Values appear after one subscription, change after the center moves, and q deletes it."""
    app = make_app(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        assert simulator.state()["open_subscriptions"] == 1
        table = agents_panel(app).table
        assert table.row_count == 50

        def state_shown() -> bool:
            state = table.get_cell("Agent:ana.silva", "c0")
            return state is not None and state.text.plain.strip() not in ("", MISSING)

        # The first values reach the screen through a message the app handles right after.
        await until_async(state_shown, pilot=pilot)
        before = app.controller.store.revision
        simulator.advance(600)
        await pilot.press("r")
        await until_async(lambda: app.controller.store.revision > before, pilot=pilot)
        await pilot.press("q")
        await pilot.pause()
    assert simulator.state()["open_subscriptions"] == 0
    assert app.return_code == 0


@pytest.fixture(autouse=True)
def nothing_left_open(simulator: RunningSimulator) -> Iterator[None]:
    """Every test leaves no subscription open on the shared simulator (one that an earlier,
    failed test left is that test's error, not this one's)."""
    before = set(open_subscriptions(simulator))
    yield
    assert set(open_subscriptions(simulator)) - before == set()


async def test_pause_stops_requests_and_resume_polls(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """p pauses polling (no peeks go out) and p again resumes it at once."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        await pilot.press("p")
        assert app.controller.status.phase is Phase.PAUSED
        peeks = simulator.state()["requests"].get("peek", 0)
        app.controller.poll_now()  # a wake-up while paused must not poll
        await pilot.pause(0.3)
        assert simulator.state()["requests"].get("peek", 0) == peeks
        await pilot.press("p")
        await until_async(lambda: simulator.state()["requests"].get("peek", 0) > peeks, pilot=pilot)
        assert phase_of(app) is Phase.LIVE
        await pilot.press("q")


async def test_filter_narrows_rows_and_escape_clears(client: StatisticsClient) -> None:
    """/ opens a filter that narrows the agents by any text; escape shows them all again."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
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
        await until_async(lambda: has_data(app), pilot=pilot)
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
        await until_async(lambda: has_data(app), pilot=pilot)
        await pilot.press("2")
        assert app.query_one("#p2").display and not app.query_one("#p1").display
        await pilot.press("9")
        assert app.query_one("#p2").display
        kpis = list(app.query(KpiPanel))
        await until_async(lambda: all(k.text != MISSING for k in kpis), pilot=pilot)
        await pilot.press("1")
        assert app.query_one("#p1").display
        await pilot.press("q")


async def test_stale_marking_when_the_server_stops_answering(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """When polls fail for over two intervals, panels dim but keep their values."""
    clock = Clock(1000.0)
    app = make_app(client, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        simulator.set_faults(error_rate={"peek": 1.0}, error_status=503)
        await pilot.press("r")
        await until_async(lambda: app.controller.status.phase is Phase.RETRYING, pilot=pilot)
        # Only now, after a failed poll: a poll already in flight when the fault was set may
        # still have succeeded, and it must not count as fresh at the advanced time.
        clock.now += 4.5  # more than two 2 s intervals
        app._tick()
        panel = agents_panel(app)
        assert panel.table.stale and panel.has_class("-stale")
        assert all(s.stale for s in app.query(StatesPanel))
        cell = panel.table.get_cell("Agent:ana.silva", "c0")
        assert cell is not None and cell.text.plain.strip() != MISSING
        simulator.clear_faults()
        clock.now += 1
        await pilot.press("r")
        await until_async(lambda: app.controller.status.phase is Phase.LIVE, pilot=pilot)
        app._tick()
        assert not panel.table.stale
        await pilot.press("q")


async def test_refused_statistics_are_shown_against_their_widget(
    client: StatisticsClient, simulator: RunningSimulator
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
        await until_async(
            lambda: has_data(app) and app.controller.status.item_problems, pilot=pilot
        )
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
    assert simulator.state()["open_subscriptions"] == 0


async def test_help_and_maximize(client: StatisticsClient) -> None:
    """? lists every key in a modal; m maximizes the focused panel and m again restores it."""
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
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
    client: StatisticsClient, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """A valid edit swaps the subscription; an invalid edit keeps the old layout running."""
    path = tmp_path / "demo.yaml"
    shutil.copy(LAYOUTS / "demo.yaml", path)
    app = make_app(client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        first_subscription = app.controller.status.subscription_id
        path.write_text(path.read_text().replace("Demo contact center", "Edited floor"))
        app._check_layout_file()
        await until_async(
            lambda: app.layout.title == "Edited floor" and reload_done(app), pilot=pilot
        )
        await until_async(
            lambda: app.controller.status.subscription_id not in (None, first_subscription),
            pilot=pilot,
        )
        assert simulator.state()["open_subscriptions"] == 1
        path.write_text(path.read_text().replace("kind: agents", "kind: agnets"))
        app._check_layout_file()
        await until_async(lambda: app._layout_message is not None, pilot=pilot)
        assert app.layout.title == "Edited floor"
        assert "problem" in (app._status_info().layout or "")
        await pilot.press("q")
    assert simulator.state()["open_subscriptions"] == 0


async def test_the_tick_draws_on_the_pages_on_screen_after_a_reload_without_a_search(
    client: StatisticsClient, tmp_path: Path
) -> None:
    """After a layout reload the once-a-second tick and the redraw reach exactly the panels
    of the new pages, and the tick finds them (and the status line) without searching the
    screen."""
    path = tmp_path / "demo.yaml"
    shutil.copy(LAYOUTS / "demo.yaml", path)
    app = make_app(client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        old_panels = set(app._panels())
        path.write_text(path.read_text().replace("Demo contact center", "Edited floor"))
        app._check_layout_file()
        await until_async(
            lambda: app.layout.title == "Edited floor" and reload_done(app), pilot=pilot
        )
        mounted = {widget for widget in app.query("*") if isinstance(widget, Panel)}
        assert set(app._panels()) == mounted and not old_panels & mounted
        first_page = {w for w in app.query_one("#p1").query("*") if isinstance(w, Panel)}
        assert set(app._panels(active_only=True)) == first_page
        searched: list[object] = []
        original = app.query

        def spy(selector: Any = None) -> Any:
            searched.append(selector)
            return original(selector)

        app.query = spy  # type: ignore[method-assign]
        app._tick()
        assert searched == []
        await pilot.press("q")


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
        await until_async(lambda: has_data(app), pilot=pilot)
        # Dozens of problems: more than any toast could hold.
        broken = good.replace("kind: agents", "kind: agnets").replace("label:", "lable:")
        path.write_text(broken)
        app._check_layout_file()
        await until_async(lambda: app._layout_message is not None, pilot=pilot)
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
        await until_async(lambda: app.layout.title == "Fixed" and reload_done(app), pilot=pilot)
        assert app._layout_message is None
        assert "layout:" not in str(app.query_one(StatusBar).render())
        await pilot.press("q")


async def test_hostile_edits_are_listed_behind_e_and_the_old_layout_runs(
    client: StatisticsClient, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Edits that once broke a reload silently or for ever (the file swapped for a FIFO, a
    4,301-digit integer, a 310-digit duration) each show under `e` like any bad edit; the
    old layout keeps running, and q still quits with the subscription deleted."""
    path = tmp_path / "demo.yaml"
    good = (LAYOUTS / "demo.yaml").read_text()
    path.write_text(good)
    app = make_app(client, layout_path=path, demo=True)

    def fifo() -> None:
        path.unlink()
        os.mkfifo(path)

    def text(refresh: str) -> Callable[[], None]:
        def write() -> None:
            path.unlink()
            path.write_text(good.replace("refresh: 2s", f"refresh: {refresh}"))

        return write

    edits = [
        (fifo, f"{path}: this is a FIFO (named pipe), not a file"),
        (text("9" * 4301), f"{path}:6:10: refresh: a number of 4,301 digits"),
        (text("9" * 310 + "s"), f"{path}:6:10: refresh: '{'9' * 39}…' is longer than any"),
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        for edit, expected in edits:
            edit()
            app._check_layout_file()

            def listed(expected: str = expected) -> bool:
                shown = [str(problem) for problem in app._layout_problems]
                return reload_done(app) and len(shown) == 1 and shown[0].startswith(expected)

            await until_async(listed, pilot=pilot)
            assert app._layout_message == "layout: 1 problem (press e)"
            assert app.layout.title == "Demo contact center"
        await pilot.press("q")
    assert simulator.state()["open_subscriptions"] == 0


async def test_hostile_server_strings_stay_plain_text(tmp_path: Path) -> None:
    """Markup and escape sequences in server data reach the screen as inert characters."""
    config = SimConfig(
        agents=50, queues=5, seed=3, clock="manual", start_time=SIM_START, hostile=True
    )
    with serve(config, advance=3600) as hostile:
        async with StatisticsClient(hostile.base_url, "k", retry=RetryPolicy(attempts=1)) as hc:
            app = make_app(hc, wall_clock=Clock(SIM_START + 3700))
            async with app.run_test(size=(160, 48)) as pilot:
                await until_async(lambda: has_data(app), pilot=pilot)
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
    from statdash.ui.app import INSECURE_MARK
    from statdash.ui.widgets.line import TextLine

    app = make_app(client, insecure=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        await pilot.press("2")
        title = app.query_one("#title", TextLine)
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
        await until_async(lambda: has_data(app), pilot=pilot)
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
        palette = app.get_system_commands(app.screen)
        next(c for c in palette if c.title.startswith("Page 2")).callback()
        assert app.query_one("#p2").display
        await pilot.press("q")


async def test_command_palette_lists_each_action_once(client: StatisticsClient) -> None:
    """One entry per action (none of Textual's Quit, Keys or Maximize beside the dashboard's),
    each with a description that says more than its name."""
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
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
        await until_async(lambda: has_data(app), pilot=pilot)
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
    client: StatisticsClient, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Two quick saves are applied one after the other; the dashboard ends on the second."""
    path = tmp_path / "demo.yaml"
    shutil.copy(LAYOUTS / "demo.yaml", path)
    first = path.read_text().replace("Demo contact center", "First save")
    final = path.read_text().replace("Demo contact center", "Second save")
    app = make_app(client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        path.write_text(first)
        app._check_layout_file()
        await pilot.pause(0.05)  # the first reload is now rebuilding the pages
        path.write_text(final)
        app._check_layout_file()
        await until_async(
            lambda: app.layout.title == "Second save" and reload_done(app), pilot=pilot
        )
        await until_async(lambda: app.controller.status.phase is Phase.LIVE, pilot=pilot)
        assert app._layout_message is None
        await pilot.press("q")


async def test_time_in_state_ticks_between_polls(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """The time in state moves with the clock every second without a new poll."""
    # Other tests move the shared simulator on: start from its own present.
    wall = Clock(float(simulator.state()["sim_time"]) + 30)
    app = make_app(client, wall_clock=wall)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
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


async def test_a_tick_sends_the_clocks_cells_not_their_rows(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """Paused, a second's frame sends each moved time in state by itself: no agent's name,
    no state word, none of the row before the clock."""
    wall = Clock(float(simulator.state()["sim_time"]) + 30)
    app = make_app(client, wall_clock=wall)
    frames: list[object] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        app.controller.pause()
        await pilot.pause()
        display = app._display

        def keep(screen: Screen[object], renderable: object) -> None:
            frames.append(renderable)
            display(screen, renderable)  # type: ignore[arg-type]

        app._display = keep  # type: ignore[method-assign]
        table = agents_panel(app).table
        before = table.get_cell("Agent:ana.silva", "t0")
        wall.now += 1
        app._tick()
        await until_async(lambda: bool(frames), pilot=pilot)
        assert table.get_cell("Agent:ana.silva", "t0") != before
        written = "".join(
            frame.render_segments(app.console)
            for frame in frames
            if isinstance(frame, CompositorUpdate)
        )
        text = re.sub(r"\x1b\[[0-9;]*[mH]", "|", written)
        clock = table.get_cell("Agent:ana.silva", "t0")
        assert clock is not None and clock.text.plain in text
        assert "ana.silva" not in text and "Ready" not in text
        await pilot.press("q")


async def test_new_values_bring_the_seconds_redraw_with_them(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """Values and the clock go out in one frame: handing over new values also moves every
    visible time in state, so a dashboard fed once a second is composed once a second."""
    wall = Clock(float(simulator.state()["sim_time"]) + 30)
    app = make_app(client, wall_clock=wall)
    # The timer's own tick does nothing here: only the hand-over of values may move the clock.
    app._tick = lambda: None  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        app.controller.pause()
        table = agents_panel(app).table

        def shown() -> str:
            cell = table.get_cell("Agent:ana.silva", "t0")
            return cell.text.plain if cell is not None else ""

        await pilot.pause()
        before = shown()
        wall.now += 65
        # A value of someone else changed: ana's own values did not.
        other = "Agent:ben.novak/unrelated"
        app.bridge.store_changed(Ingested(frozenset({other}), app.controller.store.revision))
        await pilot.pause()
        assert before.split()[-1] != shown().split()[-1]
        await pilot.press("q")


class Heard(Listener):
    """A listener keeping every status and change the controller reports (as benchmarks do)."""

    def __init__(self) -> None:
        self.statuses: list[SessionStatus] = []
        self.changed: list[int] = []

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        self.changed.append(len(ingested.changed))

    def health_changed(self, status: SessionStatus) -> None:
        self.statuses.append(status)


def test_build_app_has_no_benchmark_switches() -> None:
    """The app is built one way: benchmarks measure it as `statdash run` runs it, through
    public seams (a listener), not through switches of the factory."""
    parameters = inspect.signature(build_app).parameters
    assert not {"bridge", "tick", "settle_heap"} & parameters.keys()


async def test_a_listener_on_the_controller_hears_what_it_reports(
    client: StatisticsClient,
) -> None:
    """A listener added to the app's controller gets every status and change, and the app
    its data (the seam benchmarks time polls through)."""
    app = make_app(client)
    heard = Heard()
    assert isinstance(app.controller, LiveController)
    app.controller.listeners.append(heard)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        assert heard.changed and heard.changed[0] > 0
        assert any(status.polls >= 1 for status in heard.statuses)
        await pilot.press("q")


async def test_heap_is_settled_after_the_first_data(client: StatisticsClient) -> None:
    """The first data freezes the heap, and the end of the app releases it."""
    frozen_before = gc.get_freeze_count()
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        await until_async(lambda: gc.get_freeze_count() > frozen_before, pilot=pilot)
        await pilot.press("q")
    # Released when the app ends: the next app starts from a clean heap.
    assert gc.get_freeze_count() == frozen_before


async def test_the_tick_runs_every_second(client: StatisticsClient) -> None:
    """The once-a-second tick runs from the start."""
    app = make_app(client)
    ticks: list[None] = []
    app._tick = lambda: ticks.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await until_async(lambda: bool(ticks), pilot=pilot)
        await pilot.press("q")


async def test_the_subscription_goes_out_while_the_pages_mount(
    client: StatisticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request leaves before the pages are mounted (the network overlaps the
    screen's start), the exit signals already lead to the quit that deletes it, and the
    values it brings are on screen."""
    app = make_app(client, updates="poll", handle_signals=True)
    seen: list[tuple[str | None, bool]] = []
    open_subscription = client.open_subscription

    async def noted(*args: Any, **kwargs: Any) -> Any:
        pages = app.query_one(ContentSwitcher).current
        seen.append((pages, signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL))
        return await open_subscription(*args, **kwargs)

    monkeypatch.setattr(client, "open_subscription", noted)
    async with app.run_test(size=(160, 48)) as pilot:
        await until_async(lambda: has_data(app), pilot=pilot)
        table = agents_panel(app).table

        def state_shown() -> bool:
            state = table.get_cell("Agent:ana.silva", "c0")
            return state is not None and state.text.plain.strip() not in ("", MISSING)

        await until_async(state_shown, pilot=pilot)
        assert seen == [(None, True)]
        await pilot.press("q")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


async def test_a_start_holding_collections_collects_again_once_the_data_is_settled(
    client: StatisticsClient,
) -> None:
    """With collections held from the start (as `statdash run` holds them), the first data
    settles the heap and turns automatic collection back on, young collections then coming
    every `YOUNG_THRESHOLD` new objects rather than Python's 700."""
    app = make_app(client)
    gc.set_threshold(700, *gc.get_threshold()[1:])
    hold_collections()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until_async(lambda: has_data(app), pilot=pilot)
            await until_async(gc.isenabled, pilot=pilot)
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
            await pilot.press("q")
    finally:
        gc.enable()


async def test_a_start_without_data_collects_again_after_the_hold(
    dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server not reached does not hold collections for good: they resume after the hold
    while the dashboard keeps waiting for data."""
    monkeypatch.setattr(app_module, "HEAP_HOLD_SECONDS", 0.05)
    hold_collections()
    try:
        async with StatisticsClient(dead_url, "test-key") as dead:
            app = make_app(dead)
            async with app.run_test(size=(120, 40)) as pilot:
                await until_async(gc.isenabled, pilot=pilot)
                assert not has_data(app)
                await pilot.press("q")
    finally:
        gc.enable()
