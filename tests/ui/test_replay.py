"""Pilot tests of `statdash replay`: the same app on a recording, driven by the replay keys."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.live.recordings.file import Recording
from statdash.ui.launch import build_replay_app
from statdash.ui.screens.goto import GoToScreen
from statdash.ui.widgets.line import TextLine
from statdash.ui.widgets.status_bar import StatusBar
from tests.live.recordings import record_stream, small_layout

LAYOUT = small_layout()
IDS = [item.statistic_id for item in LAYOUT.items]
ANA_STATE, ANA_CALLS = IDS[0], IDS[3]
START = 1_800_000_000.0  # 08:00:00 UTC


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times of day in UTC whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a socket connection is noted and refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("a replay must not connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Recording]:
    """Five minutes from 08:00:00, a tick every 10 s; ana goes not ready at 08:02:00."""
    stream: list[tuple[float, dict[str, StatValue], list[str]]] = []
    for second in range(0, 300, 10):
        changed: dict[str, StatValue] = {ANA_CALLS: NumberValue(second / 10, str(second // 10))}
        if second == 0:
            changed[ANA_STATE] = AgentStateValue("WaitForNextCall", since=START - 60)
        if second == 120:
            changed[ANA_STATE] = AgentStateValue("NotReadyForNextCall", since=START + 120)
        stream.append((START + second, changed, IDS))
    path = tmp_path / "shift.sqlite"
    record_stream(path, LAYOUT, stream, keyframe_seconds=60)
    with Recording(path) as opened:
        yield opened


async def test_replay_keys_move_the_recorded_moment(
    recording: Recording, no_network: list[object]
) -> None:
    """space pauses, → and ← step a poll, ] and [ change speed, g goes to a time; the title
    and status line say REPLAY with the recorded time, and no connection is ever tried."""
    app = build_replay_app(recording, handle_signals=False)
    replay = app.replay
    assert replay is not None
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("space")
        assert replay.paused
        assert "REPLAY" in str(app.query_one("#title", TextLine).render())
        await pilot.press("right", "right")
        assert replay.moment() == START + 20
        assert replay.store.get(ANA_CALLS) == NumberValue(2.0, "2")
        await pilot.press("left")
        assert replay.moment() == START + 10
        await pilot.press("right_square_bracket")
        assert replay.speed == 2
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert replay.speed == 0.5
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GoToScreen)
        app.screen.query_one(Input).value = "08:02:35"
        await pilot.press("enter")
        await pilot.pause()
        assert replay.moment() == START + 155
        state = replay.store.get(ANA_STATE)
        assert isinstance(state, AgentStateValue) and state.status == "NotReadyForNextCall"
        # Time in state as at that moment: 35 s since 08:02:00.
        assert state.seconds_in_state(app._wall_clock()) == 35
        bar = app.query_one(StatusBar)
        assert bar.info.replay == "08:02:35 x0.5"
        assert bar.info.phase == "paused"
        assert bar.info.age == 5.0, "data age as at that moment: the tick at 08:02:30"
        await pilot.press("q")
    assert no_network == []


async def test_replay_plays_on_and_stops_at_the_end(recording: Recording) -> None:
    """Played fast from near the end, the replay reaches the last tick and pauses there."""
    app = build_replay_app(recording, speed=256, at=START + 280, handle_signals=False)
    replay = app.replay
    assert replay is not None
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if replay.at_end and replay.paused:
                break
        assert replay.at_end and replay.paused
        assert replay.store.get(ANA_CALLS) == NumberValue(29.0, "29")
        assert not app.check_action("poll_now", ()), "nothing to poll in a replay"
