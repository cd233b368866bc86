"""Make the README's screenshots: the real app against the simulator, saved as SVG.

    .venv/bin/python scripts/make_screenshots.py [--out screenshots]

Each shot runs the dashboard headless against an in-process simulator on a manual clock,
steps the simulated contact center through some minutes, then polls once per refresh
interval of the layout for the longest trend window it shows, so every chart and sparkline
is full (a chart draws one column per sample: a poll every 30 simulated seconds filled a
fifth of a 15-minute chart), then saves what the screen shows. Clocks show UTC. Same seed,
same pictures. The simulator warms up half an hour first, as `statdash demo`'s does, and
the dashboards run in their default mode (push on the simulator, `live · push`, as the demo
shows); after each step of the clock the script asks for a peek, which a push session also
takes, so the pictures do not wait on the channel.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.views import CompiledLayout, KpiView, TrendView
from statdash.live.controller import LiveController
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.messages import StatusChanged

ROOT = Path(__file__).resolve().parents[1]
SIM_START = 1_700_000_000.0
WARM_UP = 1800.0  # half an hour in, as `statdash demo` opens: a busy floor, not a fresh start


@dataclass(frozen=True)
class Shot:
    """One screenshot: which layout, at what size, which page, under which file name."""

    name: str
    layout: str
    size: tuple[int, int]
    page: int = 1
    theme: str | None = None
    kiosk: bool = False
    rotations: int = 0
    """How many times a rotating layout moves on to its next page before the picture."""
    pins: tuple[tuple[str, str, str, float], ...] = ()
    """(objectType, objectId, statistic, value) held by `POST /simulator/pin` first."""


SHOTS = (
    Shot("demo", "demo.yaml", (140, 42)),
    Shot("demo-service", "demo.yaml", (140, 42), page=2),
    Shot("demo-80x24", "demo.yaml", (80, 24)),
    # The demo's alert rule fired on purpose: Sales held at 9 calls waiting.
    Shot(
        "demo-alert",
        "demo.yaml",
        (140, 42),
        pins=(("Queue", "8001@SIP_Switch", "CurrentNumberWaitingCalls", 9),),
    ),
    Shot("demo-ansi", "demo.yaml", (100, 30), theme="ansi-dark"),
    Shot("supervisor", "supervisor.yaml", (120, 36)),
    Shot("wallboard", "wallboard.yaml", (200, 60), kiosk=True),
    Shot("wallboard-rotated", "wallboard.yaml", (200, 60), kiosk=True, rotations=1),
    Shot("wallboard-80x24", "wallboard.yaml", (80, 24)),
    Shot("wallboard-team", "wallboard.yaml", (200, 60), kiosk=True, rotations=2),
)


class Clock:
    """Wall time that follows the simulator's manual clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Monotonic:
    """A monotonic clock that stands still unless moved by hand (a page's time to pass): the
    pictures do not depend on how long the steps took (a rotating page must not turn while
    the script fills its charts)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._start = time.monotonic()

    def __call__(self) -> float:
        return self._start + self.offset


def history_seconds(layout: CompiledLayout) -> float:
    """The longest trend window the layout draws (what must be full in the picture)."""
    windows = [view.window for view in layout.widgets() if isinstance(view, TrendView)]
    windows += [
        view.trend_window
        for view in layout.widgets()
        if isinstance(view, KpiView) and view.trend_window is not None
    ]
    return max(windows, default=0.0)


async def take(shot: Shot, simulator: RunningSimulator, out: Path) -> Path:
    """Run one layout, poll once a refresh through its longest trend window, save the screen."""
    layout = compile_layout(load_layout(ROOT / "layouts" / shot.layout))
    polls = round(history_seconds(layout) / layout.refresh) + 1
    # The simulator has warmed up (SimConfig.warm_up): its clock reads SIM_START mid-shift.
    wall = Clock(SIM_START)
    monotonic = Monotonic()
    async with StatisticsClient(
        simulator.base_url, "screenshots", retry=RetryPolicy(attempts=1)
    ) as client:
        app: StatdashApp = build_app(
            layout,
            client,
            # The demo's simulator as `statdash sim` serves it; a production-like name else.
            server_label="127.0.0.1:8080" if shot.layout == "demo.yaml" else "stats.example.com",
            demo=shot.layout == "demo.yaml",
            theme=shot.theme,
            handle_signals=False,
            wall_clock=wall,
            clock=monotonic,
            kiosk=shot.kiosk,
        )
        for object_type, object_id, name, value in shot.pins:
            pin = {"objectType": object_type, "objectId": object_id, "name": name, "value": value}
            with httpx.Client(base_url=simulator.base_url, trust_env=False) as admin:
                admin.post("/simulator/pin", json=pin).raise_for_status()
        async with app.run_test(size=shot.size) as pilot:

            async def poll() -> None:
                done = app.controller.status.polls
                simulator.advance(layout.refresh)
                wall.now += layout.refresh
                # The app's own time passes too (an alert rule's `for:` is in it).
                monotonic.offset += layout.refresh
                app.controller.poll_now()
                for _ in range(200):
                    await pilot.pause(0.01)
                    if app.controller.status.polls > done:
                        break

            for _ in range(polls):
                await poll()
            if app.page_index != shot.page - 1:
                # A rotating layout turned its pages while the charts filled. The key stops
                # the rotation; it resumes from this page.
                await pilot.press(str(shot.page))
                if layout.rotates:
                    app.action_resume_rotation()
            for _ in range(shot.rotations):
                page = layout.pages[app.page_index]
                monotonic.offset += page.show_for or 0.0
                app.check_rotation()
                await poll()  # fresh data on the new page, not "stale" from the jump in time
            if layout.rotates and not shot.rotations:
                # The polls took real time: show the countdown from the page's full time.
                app.action_resume_rotation()
            if isinstance(app.controller, LiveController):
                # The script's jumps of the manual clock run ahead of the push channel, and
                # each peek after one "corrects" what the channel had not delivered yet; a
                # live run on a running clock shows no such count.
                app.controller._corrected = 0
                app.post_message(StatusChanged(app.controller.status))
            app._tick()
            await pilot.pause(0.3)
            path = out / f"{shot.name}.svg"
            app.save_screenshot(str(path.name), path=str(out))
            await app.controller.close()
    return path


async def main(out: Path) -> None:
    """Take every shot against one simulator of the default contact center."""
    out.mkdir(parents=True, exist_ok=True)
    # The wallboard's clock shows the same time wherever the pictures are made.
    os.environ["TZ"] = "UTC"
    time.tzset()
    for shot in SHOTS:
        # A fresh simulator per shot, so every picture starts from the same moment.
        config = SimConfig(
            agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START, warm_up=WARM_UP
        )
        with running_simulator(config, log_level="critical") as simulator:
            print(await take(shot, simulator, out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    asyncio.run(main(parser.parse_args().out))
