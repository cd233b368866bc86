"""A recording that stops while the dashboard runs (its file removed) is said on the status
line, and the dashboard goes on, against the simulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live.controller import LiveController
from statdash.live.recordings.recorder import Recorder
from statdash.sim.runner import RunningSimulator
from statdash.ui.launch import build_app
from statdash.ui.widgets.status_bar import StatusBar
from tests.support.wait import until_async

LAYOUT = """
title: Team
refresh: 1s
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva]
        columns:
          - {stat: TotalNumberInboundCalls, label: Calls}
"""


async def test_the_status_line_says_recording_stopped_and_values_keep_coming(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """The recording's file removed under the running dashboard: the status line says
    `recording stopped` and why; polls go on."""
    layout = compile_layout(load_layout_text(LAYOUT, file="team.yaml"))
    path = tmp_path / "shift.sqlite"
    recorder = Recorder(path, layout, server="simulator", flush_seconds=0.01)
    async with StatisticsClient(
        simulator.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as client:
        app = build_app(
            layout,
            client,
            server_label="simulator",
            handle_signals=False,
            updates="poll",
            recorder=recorder,
        )
        async with app.run_test(size=(160, 30)) as pilot:
            await until_async(lambda: recorder.changes_recorded > 0, pilot=pilot)
            path.unlink()
            bar = app.query_one(StatusBar)
            await until_async(
                lambda: "recording stopped" in str(bar.render()), what="the notice", pilot=pilot
            )
            polls = app.controller.status.polls
            await until_async(lambda: app.controller.status.polls > polls, pilot=pilot)
            controller = app.controller
            assert isinstance(controller, LiveController)
            assert recorder not in controller.listeners
            await pilot.press("q")
        await app.controller.close()
