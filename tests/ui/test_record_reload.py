"""A layout edited while the dashboard records: the recording keeps both layouts and names
what the edit added (so `export` labels it), against the simulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.live.recordings.file import Recording
from statdash.live.recordings.recorder import Recorder
from statdash.sim.runner import RunningSimulator
from statdash.ui.launch import build_app
from tests.support.wait import until_async

FIRST = """
title: Team
refresh: 1s
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva]
        columns:
          - {stat: TotalNumberInboundCalls, label: Calls}
"""


async def test_an_edit_while_recording_is_stored_and_labelled(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """After a hot reload adds a column, the recording holds the new layout from then on and
    labels the added statistic with the column's name."""
    path = tmp_path / "team.yaml"
    path.write_text(FIRST)
    recording = tmp_path / "shift.sqlite"
    layout = compile_layout(load_layout(path))
    recorder = Recorder(recording, layout, server="simulator", flush_seconds=0.05)
    async with StatisticsClient(
        simulator.base_url, "test-key", retry=RetryPolicy(attempts=1)
    ) as client:
        app = build_app(
            layout,
            client,
            server_label="simulator",
            handle_signals=False,
            layout_path=path,
            updates="poll",
            recorder=recorder,
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await until_async(lambda: app.controller.store.revision > 0, pilot=pilot)
            path.write_text(
                FIRST + "          - {stat: TalkDuration, label: Talk, format: duration}\n"
            )
            app._check_layout_file()
            await until_async(lambda: len(app.layout.items) == 3, what="the reload", pilot=pilot)
            talk = next(i.statistic_id for i in app.layout.items if i.name == "TalkDuration")
            await until_async(lambda: app.controller.store.get(talk) is not None, pilot=pilot)
            await pilot.press("q")
        await app.controller.close()
    with Recording(recording) as recorded:
        assert len(recorded.layout_ticks) == 2
        assert recorded.layout_at(recorded.tick_count).items == app.layout.items
        assert recorded.labels()[talk] == ("Agent", "ana.silva", "Talk")
