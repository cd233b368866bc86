"""Every way a dashboard ends, in a real process on a real pseudo-terminal: nothing left open.

`statdash run` runs as a child process whose controlling terminal is a pty; the test ends it
by a key, a signal, an exception, or by closing the terminal, then checks through
`GET /simulator/state` that its subscription is gone and its CometD client disconnected,
that its crash record is crossed out, and (where the terminal still exists) that the terminal
was given back: the alternate screen left and the pty's modes back to what they were before
the app started. The dashboards take values by push (the default); one runs polling.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, open_subscriptions, shared_simulator
from tests.support.terminal import ALT_SCREEN_OFF, ALT_SCREEN_ON, PtyApp, child_environment
from tests.support.wait import CEILING

LAYOUT = """
title: Exit paths
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak]
        columns: [{stat: InboundCalls, label: Calls}]
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}]
        columns: [{stat: CurrentNumberWaitingCalls, label: Waiting}]
"""
# Loaded by the child through PYTHONPATH: once the dashboard has polled, its once-a-second
# tick raises, as a bug in a handler would. Test-only; the product has no hook for this.
CRASH_HOOK = """
import statdash.ui.app as app_module

_tick = app_module.StatdashApp._tick


def _failing_tick(self):
    if self.controller.status.polls >= 1:
        raise RuntimeError("injected failure in a handler")
    _tick(self)


app_module.StatdashApp._tick = _failing_tick
"""


# One simulator for every child dashboard of this module.
simulator = shared_simulator(
    SimConfig(agents=10, queues=2, seed=3, clock="manual", start_time=SIM_START)
)


@pytest.fixture(scope="module")
def layout_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-panel layout: enough to draw a real screen, cheap to start."""
    path = tmp_path_factory.mktemp("layout") / "exit.yaml"
    path.write_text(LAYOUT, encoding="utf-8")
    return path


@pytest.fixture
def sim(simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """The module's simulator, with nothing open before and after each test."""
    assert open_subscriptions(simulator) == {}
    yield simulator
    assert open_subscriptions(simulator) == {}


def start(
    sim: RunningSimulator,
    layout: Path,
    home: Path,
    *,
    nohup: bool = False,
    hooks: tuple[Path, ...] = (),
    updates: str = "auto",
) -> PtyApp:
    """`statdash run LAYOUT --url SIM` on a fresh pty, once its subscription is open and live
    (and, unless polling, its push channel too)."""
    app = PtyApp(
        ["run", str(layout), "--url", sim.base_url, "--updates", updates],
        child_environment(home, {"STATDASH_API_KEY": API_KEY}, hooks=hooks),
        nohup=nohup,
    )
    word = b"poll" if updates == "poll" else b"push"
    app.wait_for(
        lambda: len(open_subscriptions(sim)) == 1 and b"live" in app.output and word in app.output,
        "the dashboard to be live",
    )
    if updates != "poll":
        assert sim.state()["cometd_clients"] >= 1
    return app


def records(home: Path) -> list[dict[str, object]]:
    """The crash records in the child's state directory (none when it has no record file)."""
    path = home / "state" / "statdash" / "open-subscriptions.json"
    if not path.exists():
        return []
    entries: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


def screen_restored(output: bytes) -> bool:
    """The app left the alternate screen after it last entered it."""
    return ALT_SCREEN_ON in output and output.rfind(ALT_SCREEN_OFF) > output.rfind(ALT_SCREEN_ON)


def ended_cleanly(
    app: PtyApp, sim: RunningSimulator, home: Path, code: int = 0, *, other_clients: int = 0
) -> None:
    """The child exited with `code` in time, deleted its subscription, disconnected its
    CometD client (`other_clients` are those of other processes) and gave the tty back."""
    exit_code = app.wait_exit()
    output = app.finish_output()
    outcome = {
        "exit code": exit_code,
        "open subscriptions": open_subscriptions(sim),
        "CometD clients": sim.state()["cometd_clients"],
        "records": records(home),
        "alternate screen left": screen_restored(output),
        "terminal modes restored": app.terminal_is_cooked(),
    }
    expected = {
        "exit code": code,
        "open subscriptions": {},
        "CometD clients": other_clients,
        "records": [],
        "alternate screen left": True,
        "terminal modes restored": True,
    }
    assert outcome == expected, output[-600:]


@pytest.mark.parametrize("key", [b"q", b"\x11", b"\x03"], ids=["q", "ctrl+q", "ctrl+c"])
def test_quit_keys_delete_the_subscription_and_restore_the_terminal(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path, key: bytes
) -> None:
    """q, ctrl+q and ctrl+c end the app with status 0, nothing open, the terminal restored."""
    app = start(sim, layout_file, tmp_path)
    try:
        app.send(key)
        ended_cleanly(app, sim, tmp_path)
    finally:
        app.close()


def test_quit_while_polling_deletes_the_subscription_and_restores_the_terminal(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path
) -> None:
    """q ends a polling dashboard (--updates poll) as cleanly as a pushed one."""
    app = start(sim, layout_file, tmp_path, updates="poll")
    try:
        app.send(b"q")
        ended_cleanly(app, sim, tmp_path)
    finally:
        app.close()


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name
)
def test_signals_delete_the_subscription_and_restore_the_terminal(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    """SIGTERM, SIGHUP and SIGINT end the app cleanly: nothing open, the terminal restored."""
    app = start(sim, layout_file, tmp_path)
    try:
        app.kill(signum)
        ended_cleanly(app, sim, tmp_path)
    finally:
        app.close()


def test_unhandled_exception_deletes_the_subscription_and_restores_the_terminal(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path
) -> None:
    """A handler that raises ends the app with status 1 and a traceback printed after the
    terminal is restored, and the subscription is still deleted."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK, encoding="utf-8")
    app = start(sim, layout_file, tmp_path, hooks=(hook,))
    try:
        ended_cleanly(app, sim, tmp_path, code=1)
        output = app.finish_output()
        after = output[output.rfind(ALT_SCREEN_OFF) :]
        assert b"injected failure in a handler" in after
    finally:
        app.close()


@pytest.mark.parametrize("nohup", [False, True], ids=["sighup", "nohup"])
def test_closed_terminal_ends_the_app_and_deletes_the_subscription(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path, nohup: bool
) -> None:
    """When the terminal goes away (the pty's master closes, as when SSH drops), the app exits
    within seconds and deletes its subscription, with SIGHUP delivered or ignored (nohup)."""
    app = start(sim, layout_file, tmp_path, nohup=nohup)
    try:
        app.hang_up()
        app.wait_exit()
        assert open_subscriptions(sim) == {}
        assert sim.state()["cometd_clients"] == 0
        assert records(tmp_path) == []
    finally:
        app.close()


def test_killed_run_leaves_a_record_and_the_next_start_deletes_it(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path
) -> None:
    """SIGKILL cannot be caught: the subscription stays open and on record, and the next
    `statdash run` with the same state directory deletes it before opening its own."""
    killed = start(sim, layout_file, tmp_path)
    try:
        (left_behind,) = open_subscriptions(sim)
        assert [r["subscription_id"] for r in records(tmp_path)] == [left_behind]
        killed.kill(signal.SIGKILL)
        assert killed.wait_exit() == -signal.SIGKILL
        assert list(open_subscriptions(sim)) == [left_behind]
    finally:
        killed.close()
    deletes = sim.state()["requests"].get("delete", 0)
    again = start(sim, layout_file, tmp_path)
    try:
        (current,) = open_subscriptions(sim)
        assert current != left_behind
        assert sim.state()["requests"]["delete"] == deletes + 1
        assert [r["subscription_id"] for r in records(tmp_path)] == [current]
        again.send(b"q")
        # The killed run could not disconnect: its CometD client stays until the server
        # forgets it (it holds nothing; the subscription was the thing to delete).
        ended_cleanly(again, sim, tmp_path, other_clients=1)
    finally:
        again.close()


def test_cleanup_command_deletes_what_a_killed_run_left(
    sim: RunningSimulator, layout_file: Path, tmp_path: Path
) -> None:
    """`statdash cleanup --url URL` deletes the subscription a SIGKILLed run left open."""
    killed = start(sim, layout_file, tmp_path)
    try:
        killed.kill(signal.SIGKILL)
        killed.wait_exit()
    finally:
        killed.close()
    assert len(open_subscriptions(sim)) == 1
    done = subprocess.run(
        [sys.executable, "-m", "statdash", "cleanup", "--url", sim.base_url],
        env=child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY}),
        capture_output=True,
        timeout=CEILING,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert open_subscriptions(sim) == {}
    assert records(tmp_path) == []


def test_a_run_that_never_reached_its_server_exits_1_and_says_why(
    layout_file: Path, tmp_path: Path, dead_url: str
) -> None:
    """`run` against a port where nothing listens, then q: exit 1, one line on stderr after
    the screen is restored naming the URL and why, and no subscription left on record."""
    app = PtyApp(
        ["run", str(layout_file), "--url", dead_url],
        child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY}),
    )
    try:
        app.wait_for(lambda: b"cannot reach the server" in app.output, "the refusal on screen")
        app.send(b"q")
        code = app.wait_exit()
        output = app.finish_output()
        after = output[output.rfind(ALT_SCREEN_OFF) :].decode("utf-8", "replace")
        assert code == 1, after
        assert after.count("statdash run: ") == 1, after
        assert f"statdash run: never reached {dead_url}: cannot reach the server: " in after
        assert after.rstrip().endswith("; nothing was shown"), after
        assert records(tmp_path) == []
        assert app.terminal_is_cooked()
    finally:
        app.close()
