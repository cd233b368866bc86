"""Make the README's screenshots: the real app against the simulator, saved as SVG.

    .venv/bin/python scripts/make_screenshots.py [--out screenshots]

Each shot runs the dashboard headless against an in-process simulator on a manual clock,
steps the simulated contact center through some minutes (polling after every step so the
trends have history), then saves what the screen shows. Same seed, same pictures.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app

ROOT = Path(__file__).resolve().parents[1]
SIM_START = 1_700_000_000.0
WARM_UP = 1800.0  # half an hour in: a busy floor, not the quiet of a fresh start
STEPS = 40
STEP_SECONDS = 30.0


@dataclass(frozen=True)
class Shot:
    """One screenshot: which layout, at what size, which page, under which file name."""

    name: str
    layout: str
    size: tuple[int, int]
    page: int = 1
    theme: str | None = None


SHOTS = (
    Shot("demo", "demo.yaml", (140, 42)),
    Shot("demo-service", "demo.yaml", (140, 42), page=2),
    Shot("demo-80x24", "demo.yaml", (80, 24)),
    Shot("demo-ansi", "demo.yaml", (100, 30), theme="ansi-dark"),
    Shot("supervisor", "supervisor.yaml", (120, 36)),
    Shot("wallboard", "wallboard.yaml", (120, 36)),
)


class Clock:
    """Wall time that follows the simulator's manual clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def take(shot: Shot, simulator: RunningSimulator, out: Path) -> Path:
    """Run one layout, step the simulator with polls in between, save the screen."""
    layout = compile_layout(load_layout(ROOT / "layouts" / shot.layout))
    wall = Clock(SIM_START + WARM_UP - STEPS * STEP_SECONDS)
    async with StatisticsClient(
        simulator.base_url, "screenshots", retry=RetryPolicy(attempts=1)
    ) as client:
        app: StatdashApp = build_app(
            layout,
            client,
            server_label="stats.example.com",
            demo=shot.layout == "demo.yaml",
            theme=shot.theme,
            handle_signals=False,
            wall_clock=wall,
        )
        async with app.run_test(size=shot.size) as pilot:
            for _ in range(STEPS):
                revision = app.controller.store.revision
                simulator.advance(STEP_SECONDS)
                wall.now += STEP_SECONDS
                app.controller.poll_now()
                for _ in range(100):
                    await pilot.pause(0.02)
                    if app.controller.store.revision != revision:
                        break
            if shot.page != 1:
                await pilot.press(str(shot.page))
            app._tick()
            await pilot.pause(0.3)
            path = out / f"{shot.name}.svg"
            app.save_screenshot(str(path.name), path=str(out))
            await app.controller.close()
    return path


async def main(out: Path) -> None:
    """Take every shot against one simulator of the default contact center."""
    out.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        # A fresh simulator per shot, so every picture starts from the same moment.
        config = SimConfig(agents=50, queues=5, seed=1, clock="manual", start_time=SIM_START)
        with running_simulator(config, log_level="critical") as simulator:
            simulator.advance(WARM_UP - STEPS * STEP_SECONDS)
            print(await take(shot, simulator, out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    asyncio.run(main(parser.parse_args().out))
