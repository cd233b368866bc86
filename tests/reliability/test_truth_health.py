"""The health line never flatters, against the simulator over real loopback HTTP.

`push lost: polling` only after push was up; under push the line reports the last
reconciliation (not a poll time) and `r` is "check now"; `check --url` starts with the
offline verdict and ends with the server's; a replay of a push session says push.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.push import PushChannel
from statdash.cli import main
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.controller import LiveController, plan_for
from statdash.live.recordings.file import Recording
from statdash.live.recordings.recorder import Recorder
from statdash.live.recordings.replay import ReplayController
from statdash.live.session import SessionStatus
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.keys import KEY_ACTIONS
from statdash.ui.widgets.status_bar import checked_text
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, serve
from tests.support.wait import until_async

LAYOUT = """
title: Health
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak, carla.ortiz]
        columns: [{stat: InboundCalls, label: Calls}, {stat: TalkDuration, label: Talk}]
"""


def _layout() -> CompiledLayout:
    return replace(compile_layout(load_layout_text(LAYOUT, file="health.yaml")), refresh=0.3)


@pytest.fixture(scope="module")
def floor() -> Iterator[RunningSimulator]:
    """A manual-clock floor with a short connect hold."""
    config = SimConfig(
        agents=20,
        queues=3,
        seed=2,
        clock="manual",
        start_time=SIM_START,
        notification_hold=1.0,
        time_driven_frequency=5.0,
    )
    with serve(config) as simulator:
        simulator.advance(900)
        yield simulator


def _controller(client: StatisticsClient, statuses: list[SessionStatus]) -> LiveController:
    return LiveController(
        client,
        plan_for(_layout()),
        on_change=lambda _: None,
        on_status=statuses.append,
        open_channel=lambda: PushChannel(client),
        updates="auto",
    )


async def test_a_server_never_reached_says_nothing_about_push(dead_url: str) -> None:
    """No server at the address: the status never says push was lost (it never was up)."""
    statuses: list[SessionStatus] = []
    async with StatisticsClient(dead_url, API_KEY, retry=RetryPolicy(attempts=1)) as client:
        controller = _controller(client, statuses)
        controller.start()
        await until_async(lambda: controller.status.last_error is not None)
        await asyncio.sleep(0.5)
        await controller.close()
    assert statuses
    assert not [s.updates for s in statuses if "lost" in s.updates]


async def test_under_push_the_status_reports_the_last_check_not_a_poll(
    floor: RunningSimulator,
) -> None:
    """After r under push: when it ran and what it found (newer values, none corrected)."""
    statuses: list[SessionStatus] = []
    async with StatisticsClient(floor.base_url, API_KEY, retry=RetryPolicy(attempts=1)) as c:
        controller = _controller(c, statuses)
        controller.start()
        await until_async(lambda: controller.pushing and controller.store.revision > 0)
        assert controller.status.checked_at is None
        floor.advance(30)
        await asyncio.sleep(0.3)
        controller.poll_now()
        await until_async(lambda: controller.status.checked_at is not None)
        status = controller.status
        await controller.close()
    assert status.updates == "push"
    assert status.check_corrected == 0 and status.corrected == 0
    assert checked_text(3, status.check_newer, 0).startswith("checked 3s ago: ")
    assert checked_text(125, 2, 0) == "checked 2m ago: 2 newer"
    assert checked_text(5, 0, 3) == "checked 5s ago: 3 corrected"
    assert checked_text(5, 0, 0) == "checked 5s ago: all current"
    (key,) = [k for k in KEY_ACTIONS if k.keys == "r"]
    assert (key.description, key.short) == ("Check now", "Check")


def test_check_url_says_offline_first_and_the_verdict_last(
    floor: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first line says the offline checks passed (no early `OK`); the last one is the
    server's verdict, success or not."""
    layout = tmp_path / "health.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    capsys.readouterr()
    argv = ["check", str(layout), "--url", floor.base_url, "--api-key", API_KEY]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{layout}: offline checks passed: ")
    assert out[-1].startswith(f"{layout}: OK on ")
    assert not [line for line in out[:-1] if ": OK" in line]
    bad = tmp_path / "stranger.yaml"
    bad.write_text(LAYOUT.replace("carla.ortiz", "no.such.agent"), encoding="utf-8")
    assert main(["check", str(bad), "--url", floor.base_url, "--api-key", API_KEY]) != 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith(f"{bad}: offline checks passed: ")
    assert "rejected" in captured.err.splitlines()[-1]
    assert ": OK" not in captured.out


async def test_a_replay_of_a_push_session_says_push(
    floor: RunningSimulator, tmp_path: Path
) -> None:
    """A shift recorded under push replays as push, not poll."""
    path = tmp_path / "shift.statdash"
    layout = _layout()
    recorder = Recorder(path, layout, server=floor.base_url)
    statuses: list[SessionStatus] = []
    async with StatisticsClient(floor.base_url, API_KEY, retry=RetryPolicy(attempts=1)) as c:
        controller = _controller(c, statuses)
        controller.listeners.append(recorder)
        controller.start()
        await until_async(lambda: controller.pushing and controller.store.revision > 0)
        for _ in range(3):
            floor.advance(20)
            await asyncio.sleep(0.5)
        await controller.close()
    recording = Recording(path)
    assert recording.updates == "push"
    replay = ReplayController(recording, on_change=lambda _: None, on_status=lambda _: None)
    assert replay.status.updates == "push"
