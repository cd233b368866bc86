"""The wallboard in the app: tiles share the screen, pages rotate, kiosk mode, clock and text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Footer

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.formats import MISSING, Level
from statdash.layout.loader import load_layout, load_layout_text
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import STYLESHEET, StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.panels import ClockPanel, KpiPanel, TextPanel
from statdash.ui.widgets.kpi import BIG_TILE_ROWS, KpiTile
from statdash.ui.widgets.line import TextLine
from tests.support.sim import SIM_START, serve, shared_simulator
from tests.support.wait import until_async

from .test_app import Clock, reload_done

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


# The default contact center on a manual clock, half an hour in; the root `client` fixture
# is a client of it.
simulator = shared_simulator(
    SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START), advance=1800
)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test, so a clock without a zone shows a known time."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def wallboard_app(client: StatisticsClient, monotonic: Clock, **options: Any) -> StatdashApp:
    """The shipped wallboard as `statdash run` builds it; `options` go to `build_app`."""
    return build_app(
        compile_layout(load_layout(LAYOUTS / "wallboard.yaml")),
        client,
        server_label="simulator",
        handle_signals=False,
        clock=monotonic,
        wall_clock=Clock(SIM_START + 1800),
        **options,
    )


def title_of(app: StatdashApp) -> str:
    return str(app.query_one("#title", TextLine).render())


async def test_pages_rotate_any_key_stops_and_shift_r_resumes(client: StatisticsClient) -> None:
    """Page 1 gives way after its 20 s, page 2 after its 10 s (to page 3); a key stops that, R
    resumes."""
    monotonic = Clock(1000.0)
    app = wallboard_app(client, monotonic)
    async with app.run_test(size=(120, 36)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        assert "next: 2 Queues in 20s" in title_of(app)
        monotonic.now += 19.0
        app.check_rotation()
        assert app.page_index == 0
        assert "next: 2 Queues in 1s" in title_of(app)
        monotonic.now += 1.0
        app.check_rotation()
        assert app.page_index == 1
        assert "next: 3 Team 01 in 10s" in title_of(app)
        await pilot.press("x")  # any key, bound or not
        monotonic.now += 60.0
        app.check_rotation()
        assert app.page_index == 1
        assert "rotation stopped: R resumes" in title_of(app)
        await pilot.press("R")
        assert "next: 3 Team 01 in 10s" in title_of(app)
        monotonic.now += 10.0
        app.check_rotation()
        assert app.page_index == 2
        assert "next: 1 Now in 20s" in title_of(app)
        monotonic.now += 20.0
        app.check_rotation()
        assert app.page_index == 0
        assert app.page_changes == 3
        await app.controller.close()


async def test_the_heap_is_collected_once_a_check_before_each_page_turn(
    client: StatisticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rotation's last check before a turn collects garbage (once), so a collection does
    not fall due in the frame that draws the next page; the turn itself does not collect."""
    monotonic = Clock(1000.0)
    app = wallboard_app(client, monotonic)
    collections: list[int] = []
    monkeypatch.setattr("statdash.ui.app.collect_ahead", lambda: collections.append(app.page_index))
    async with app.run_test(size=(120, 36)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        monotonic.now += 18.5  # page 1 stays 20 s; the rotation checks every second
        app.check_rotation()
        assert collections == []
        monotonic.now += 0.7
        app.check_rotation()
        monotonic.now += 0.2
        app.check_rotation()
        assert collections == [0]
        monotonic.now += 0.7
        app.check_rotation()
        assert (app.page_index, collections) == (1, [0])
        monotonic.now += 9.5  # page 2 stays 10 s
        app.check_rotation()
        assert collections == [0, 1]
        await app.controller.close()


async def test_the_rotation_moves_on_under_a_screen_on_top(client: StatisticsClient) -> None:
    """With the help screen on top (opened by no key), the pages still rotate beneath it."""
    from statdash.ui.screens.help import HelpScreen

    monotonic = Clock(1000.0)
    app = wallboard_app(client, monotonic)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.push_screen(HelpScreen())
        await pilot.pause(0.1)
        monotonic.now += 20.0
        app.check_rotation()
        await pilot.pause(0.1)
        assert app.page_index == 1
        assert isinstance(app.screen, HelpScreen)
        await app.controller.close()


async def test_an_edit_that_adds_rotate_starts_the_rotation(
    client: StatisticsClient, tmp_path: Path
) -> None:
    """A layout edited to say `rotate: 5s` rotates from then on, with a timer for 5 s pages."""
    path = tmp_path / "board.yaml"
    text = (LAYOUTS / "wallboard.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("rotate: 20s\n", "").replace("    show_for: 10s\n", ""))
    monotonic = Clock(1000.0)
    app = build_app(
        compile_layout(load_layout(path)),
        client,
        server_label="simulator",
        handle_signals=False,
        clock=monotonic,
        layout_path=path,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        assert "next:" not in title_of(app)
        path.write_text(text.replace("rotate: 20s", "rotate: 5s").replace("10s", "5s"))
        app._check_layout_file()
        await until_async(lambda: app.layout.rotates and reload_done(app), pilot=pilot)
        assert "next: 2 Queues in 5s" in title_of(app)
        assert app._rotation_timer is not None
        monotonic.now += 5.0
        app.check_rotation()
        assert app.page_index == 1
        await app.controller.close()


async def test_a_page_key_stops_the_rotation_on_that_page(client: StatisticsClient) -> None:
    """Pressing 2 shows page 2 and keeps it there however long it stays."""
    monotonic = Clock(1000.0)
    app = wallboard_app(client, monotonic)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        monotonic.now += 600.0
        app.check_rotation()
        assert app.page_index == 1
        await app.controller.close()


async def test_kiosk_hides_the_key_bar_and_the_palette(client: StatisticsClient) -> None:
    """In kiosk mode there is no Footer and ctrl+p opens nothing; the status line stays."""
    app = wallboard_app(client, Clock(1000.0), kiosk=True)
    async with app.run_test(size=(120, 36)) as pilot:
        assert not app.query(Footer)
        assert app.query("#status")
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0]
        await app.controller.close()
    normal = wallboard_app(client, Clock(1000.0))
    async with normal.run_test(size=(120, 36)):
        assert normal.query(Footer)
        await normal.controller.close()


async def test_tiles_share_a_big_screen_and_their_digits_grow(client: StatisticsClient) -> None:
    """At 200x60 the two tile rows fill the page; at 80x24 every row, the text too, is shown."""
    app = wallboard_app(client, Clock(1000.0), kiosk=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        await pilot.pause(0.2)
        tiles = [panel for panel in app.query(KpiPanel) if panel.display and panel.region.height]
        page = app.query_one("#p1")
        text = app.query_one(TextPanel)
        assert text.region.bottom == page.region.bottom
        rows = sorted({(tile.region.y, tile.region.height) for tile in tiles})
        assert len(rows) == 2  # two rows of tiles (the clock is the eighth tile)
        heights = [height for _, height in rows]
        assert max(heights) - min(heights) <= 1
        assert sum(heights) + text.region.height == page.region.height
        assert min(heights) > 20
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert text.region.height == 3
        assert text.region.bottom <= page.region.bottom
        await app.controller.close()


async def test_a_page_shown_the_first_time_draws_each_tile_once(client: StatisticsClient) -> None:
    """The Queues page, hidden until its turn, draws each of its tiles once when first shown
    (big, at one digit size per row); it was drawn three times over as its grid and tiles
    heard their sizes one after the other."""
    app = wallboard_app(client, Clock(1000.0))
    async with app.run_test(size=(200, 60)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        settle_rotation(app)
        tiles = list(app.query_one("#p2").query(KpiPanel))
        # Every value in before counting: one arriving late is a change a tile draws.
        await until_async(lambda: all(tile.text != MISSING for tile in tiles), pilot=pilot)
        await pilot.pause(0.2)
        drawn = counting_builds(tiles)
        app.action_page(1)
        await until_async(lambda: len(drawn) == len(tiles), pilot=pilot)
        # The frames a first showing asked for (each tile's resize) would come here.
        await frames_drawn(app, pilot)
        assert drawn == {tile.id: 1 for tile in tiles}
        assert all(tile.has_class("-big") for tile in tiles)
        assert len({tile.digit_size() for tile in tiles[:3]}) == 1
        await app.controller.close()


def settle_rotation(app: StatdashApp) -> None:
    """Check the rotation once now: on its stopped clock the title then stays as it is, and
    the rotation's timer, firing on real time, has nothing to show (its first check writes
    the title, and coming as a test ends, with the screen torn down, it found no title)."""
    app.check_rotation()


def counting_builds(tiles: list[KpiPanel]) -> dict[str, int]:
    """How often each tile builds its lines from now on, by id."""
    built: dict[str, int] = {}
    for tile in tiles:
        build = tile.content_lines

        def counted(width: int, height: int, tile: KpiPanel = tile, build: Any = build) -> Any:
            built[tile.id or ""] = built.get(tile.id or "", 0) + 1
            return build(width, height)

        tile.content_lines = counted  # type: ignore[method-assign]
    return built


async def frames_drawn(app: StatdashApp, pilot: Any, count: int = 3) -> None:
    """Let `count` frames of the app be drawn."""
    for _ in range(count):
        await pilot.pause()
        refreshed = asyncio.Event()
        app.screen.call_after_refresh(refreshed.set)
        await until_async(refreshed.is_set, pilot=pilot)


async def test_the_next_pages_tiles_are_drawn_before_the_turn(
    client: StatisticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rotation's last check before a turn builds each tile of the next page (a step of
    the loop each), for the size it will have though the page was never shown; the turn's
    frame then composes those lines and builds none (it drew every tile, 4-7 ms each)."""
    monotonic = Clock(1000.0)
    app = wallboard_app(client, monotonic)
    # The hand-moved clock leaves the data 20 s old, which would dim every tile at the turn
    # (a change each tile draws, rightly); here the data stays fresh.
    monkeypatch.setattr(app, "_update_stale", lambda: None)
    async with app.run_test(size=(200, 60)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        tiles = list(app.query_one("#p2").query(KpiPanel))
        await until_async(lambda: all(tile.text != MISSING for tile in tiles), pilot=pilot)
        await frames_drawn(app, pilot)
        built = counting_builds(tiles)
        # A count of the event loop's steps, to tell in which step each tile was built.
        loop, steps, in_step = asyncio.get_running_loop(), [0], {}

        def count_step() -> None:
            steps[0] += 1
            if len(built) < len(tiles):
                loop.call_soon(count_step)

        for tile in tiles:
            build = tile.content_lines

            def noted(width: int, height: int, tile: KpiPanel = tile, build: Any = build) -> Any:
                in_step[tile.id] = steps[0]
                return build(width, height)

            tile.content_lines = noted  # type: ignore[method-assign]
        monotonic.now += 19.2  # page 1 stays 20 s; the rotation checks every second
        loop.call_soon(count_step)
        app.check_rotation()
        await until_async(lambda: len(built) == len(tiles), pilot=pilot)
        assert app.page_index == 0 and built == {tile.id: 1 for tile in tiles}
        assert len(set(in_step.values())) == len(tiles)  # a step each
        monotonic.now += 1.0
        app.check_rotation()
        assert app.page_index == 1
        await frames_drawn(app, pilot)
        assert built == {tile.id: 1 for tile in tiles}
        for tile in tiles:
            # What is on screen is what the tile draws at the size it has now.
            width, height = tile.size
            wanted = [line.plain[:width].ljust(width) for line in tile.content_lines(width, height)]
            painted = [
                "".join(segment.text for segment in strip)[1:-1]
                for strip in tile.render_lines(tile.outer_size.region)
            ][1 : 1 + len(wanted)]
            assert tile.has_class("-big") and painted == wanted
        await app.controller.close()


async def test_a_tile_changed_while_hidden_shows_its_new_value_when_shown(
    client: StatisticsClient,
) -> None:
    """A tile of a hidden page that changed is shown with its new value, whether its page comes
    by rotation (prepared ahead) or by a key (built as the page is shown)."""
    app = wallboard_app(client, Clock(1000.0))
    async with app.run_test(size=(200, 60)) as pilot:
        await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
        settle_rotation(app)
        await frames_drawn(app, pilot)
        for page in (1, 0):
            tile = app.query(f"#p{page + 1} KpiPanel").first(KpiPanel)
            app.action_page(1 - page)
            await frames_drawn(app, pilot)
            tile.update_value("47", Level.ALARM)  # hidden now
            app.action_page(page)
            await frames_drawn(app, pilot, 1)
            painted = "\n".join(
                "".join(seg.text for seg in strip)
                for strip in tile.render_lines(tile.outer_size.region)
            )
            assert "ALARM" in painted and tile.has_class("-alarm")
        await app.controller.close()


async def test_the_clock_shows_the_wall_time_in_its_zone(client: StatisticsClient) -> None:
    """A clock in Asia/Tokyo shows 07:13 and the date there at 22:13 UTC on 14 Nov 2023."""
    layout = compile_layout(
        load_layout_text(
            "title: T\npages:\n  - widgets:\n"
            "      - {kind: clock, timezone: Asia/Tokyo, seconds: true}\n"
            "      - {kind: text, message: 'Huddle [b]at[/b] 3'}\n"
            "      - {kind: kpi, object: {queue: 8001@SIP_Switch},"
            " stat: CurrentNumberWaitingCalls}\n"
        )
    )
    app = build_app(
        layout,
        client,
        server_label="simulator",
        handle_signals=False,
        wall_clock=Clock(SIM_START + 20),  # 2023-11-14 22:13:40 UTC
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        clock = app.query_one(ClockPanel)
        assert (clock.time_text, clock.date_text) == ("07:13:40", "Wed 15 Nov 2023")
        assert app.query_one(TextPanel).message == "Huddle [b]at[/b] 3"
        await app.controller.close()


SnapCompare = object


def frozen_wallboard(simulator: RunningSimulator, *, kiosk: bool) -> StatdashApp:
    client = StatisticsClient(simulator.base_url, "snapshot", retry=RetryPolicy(attempts=1))
    return build_app(
        compile_layout(load_layout(LAYOUTS / "wallboard.yaml")),
        client,
        server_label="simulator",
        handle_signals=False,
        clock=lambda: 1000.0,
        wall_clock=lambda: SIM_START + 1800,
        kiosk=kiosk,
    )


async def data_shown(pilot: object) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    for _ in range(200):
        if app.controller.store.revision > 0:
            break
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await pilot.pause(0.3)  # type: ignore[attr-defined]


def test_wallboard_200x60_kiosk(
    simulator: RunningSimulator, snap_compare: object, utc: None
) -> None:
    """The wallboard at 200x60 in kiosk mode: big digits, a fired threshold, the next page."""
    app = frozen_wallboard(simulator, kiosk=True)
    assert snap_compare(app, terminal_size=(200, 60), run_before=data_shown)  # type: ignore[operator]


def test_wallboard_80x24(simulator: RunningSimulator, snap_compare: object, utc: None) -> None:
    """The same wallboard still reads at 80x24: small digits, every row on screen."""
    app = frozen_wallboard(simulator, kiosk=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=data_shown)  # type: ignore[operator]


async def test_kiosk_tries_refused_credentials_again_without_a_key() -> None:
    """Refused credentials stop polling; in kiosk mode the app asks the server again after
    5 minutes (the key may have been fixed there), with no key pressed, and not before."""
    from dataclasses import replace as replace_config

    from statdash.live.session import Phase
    from statdash.ui.app import KIOSK_RETRY_SECONDS

    config = SimConfig(agents=10, queues=2, seed=1, clock="manual", start_time=SIM_START)
    with serve(replace_config(config, api_key="right-key")) as simulator:
        async with StatisticsClient(
            simulator.base_url, "wrong-key", retry=RetryPolicy(attempts=1)
        ) as wrong:
            layout = compile_layout(
                load_layout_text(
                    "title: T\npages:\n  - widgets:\n      - {kind: kpi, object: {queue:"
                    " 8001@SIP_Switch}, stat: CurrentNumberWaitingCalls}\n"
                )
            )
            monotonic = Clock(1000.0)
            app = build_app(
                layout,
                wrong,
                server_label="simulator",
                handle_signals=False,
                clock=monotonic,
                kiosk=True,
            )
            async with app.run_test(size=(80, 24)) as pilot:
                await until_async(lambda: app.controller.status.phase is Phase.FAILED, pilot=pilot)
                requests = sum(simulator.state()["requests"].values())
                app._tick()  # the retry is planned, not made
                monotonic.now += KIOSK_RETRY_SECONDS - 1
                app._tick()
                await pilot.pause(0.2)
                assert sum(simulator.state()["requests"].values()) == requests
                monotonic.now += 1
                app._tick()
                await until_async(
                    lambda: sum(simulator.state()["requests"].values()) > requests, pilot=pilot
                )
                await app.controller.close()


class OneTile(App[None]):
    """One KPI tile filling a screen of the test's size."""

    CSS_PATH = STYLESHEET
    CSS = "KpiTile { height: 100%; }"

    def compose(self) -> ComposeResult:
        yield KpiTile("Calls waiting")


def inked(line: Text) -> bool:
    """True for a line that draws something: a glyph, or a reverse-video (full pixel) cell."""
    return bool(line.plain.strip()) or any(
        isinstance(span.style, Style) and span.style.reverse and line.plain[span.start : span.end]
        for span in line.spans
    )


@pytest.mark.parametrize(
    ("size", "digit_rows"), [((40, 6), 3), ((40, 9), 4), ((40, 13), 7), ((60, 30), 14)]
)
async def test_a_tile_draws_its_digits_as_big_as_it_is(
    size: tuple[int, int], digit_rows: int
) -> None:
    """A warning "12" takes 3 rows in a small tile, more as the tile grows, with its level."""
    app = OneTile()
    async with app.run_test(size=size) as pilot:
        tile = app.query_one(KpiTile)
        tile.size_hint = "888"  # what a KpiPanel of an integer sets
        tile.update_value("12", Level.WARN)
        await pilot.pause(0.1)
        lines = tile.content_lines(*tile.size)
        assert any("WARNING" in line.plain for line in lines)
        digits = [line for line in lines if inked(line) and "WARNING" not in line.plain]
        assert len(digits) == digit_rows
        assert tile.has_class("-big") == (size[1] >= BIG_TILE_ROWS)
