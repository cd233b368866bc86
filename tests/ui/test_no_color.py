"""NO_COLOR with every theme: the screen stays readable, in `run` and in `replay`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from rich.segment import Segment
from textual.filter import Monochrome, NoColor
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.values import NumberValue, StatValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.live.recordings.file import Recording
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app, build_replay_app
from tests.live.recordings import record_stream, small_layout
from tests.support.sim import serve

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
SIM_START = 1_700_000_000.0
NO_COLOUR = (NoColor, Monochrome)


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[RunningSimulator]:
    """The demo contact center on a manual clock."""
    config = SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
    with serve(config) as simulator:
        yield simulator


@pytest.fixture
async def client(demo_sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A client of the demo simulator that does not retry (the session retries)."""
    async with StatisticsClient(
        demo_sim.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR is set, as a user's environment would have it before the app exists."""
    monkeypatch.setenv("NO_COLOR", "1")


def unreadable(app: StatdashApp) -> list[str]:
    """Visible text drawn in the same colour as its background, as `widget: text`."""
    found: list[str] = []
    for widget in app.screen.walk_children(Widget):
        width, height = widget.size
        if not widget.display or width == 0 or height == 0:
            continue
        for strip in widget.render_lines(Region(0, 0, width, height)):
            for segment in strip:
                if _same_colour(segment):
                    found.append(f"{type(widget).__name__}: {segment.text.strip()}")
    return found


def _same_colour(segment: Segment) -> bool:
    style = segment.style
    if not segment.text.strip() or style is None or style.reverse:
        return False
    ink, paper = style.color, style.bgcolor
    if ink is None or paper is None or ink.is_default or paper.is_default:
        return False
    return ink.get_truecolor() == paper.get_truecolor()


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `condition()` holds (bounded)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


@pytest.mark.usefixtures("no_color")
async def test_no_color_with_an_ansi_theme_draws_readable_text(
    client: StatisticsClient, demo_sim: RunningSimulator
) -> None:
    """NO_COLOR with --theme ansi-dark leaves the terminal's own colours (no black on black),
    and a truecolor theme chosen afterwards is drawn in greys."""
    app = build_app(
        compile_layout(load_layout(LAYOUTS / "demo.yaml")),
        client,
        server_label="simulator",
        handle_signals=False,
        theme="ansi-dark",
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.controller.store.revision > 0)
        await pilot.pause()
        assert app.no_color
        assert unreadable(app) == []
        assert [type(f) for f in app.get_line_filters() if isinstance(f, NO_COLOUR)] == [NoColor]
        app.theme = "statdash"
        await pilot.pause()
        assert unreadable(app) == []
        assert [type(f) for f in app.get_line_filters() if isinstance(f, NO_COLOUR)] == [Monochrome]
        await pilot.press("q")
    assert demo_sim.state()["open_subscriptions"] == 0


@pytest.mark.usefixtures("no_color")
async def test_no_color_replay_with_an_ansi_theme_draws_readable_text(tmp_path: Path) -> None:
    """`replay --theme ansi-dark` under NO_COLOR is readable too (the same app)."""
    layout = small_layout()
    ids = [item.statistic_id for item in layout.items]
    start = time.time() - 600
    stream: list[tuple[float, dict[str, StatValue], list[str]]] = [
        (start + second, {ids[3]: NumberValue(float(second), str(second))}, ids)
        for second in range(0, 60, 10)
    ]
    path = tmp_path / "shift.sqlite"
    record_stream(path, layout, stream)
    with Recording(path) as recording:
        app = build_replay_app(recording, theme="ansi-dark", handle_signals=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert unreadable(app) == []
            await pilot.press("q")
