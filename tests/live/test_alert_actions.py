"""Tests for statdash.live.alerts.actions: bell, notifications, lines and commands (no shell)."""

from __future__ import annotations

import asyncio
import json
import sys
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertAction, AlertView, CommandAction, RowObject
from statdash.live.alerts.actions import (
    MAX_KEPT_OUTPUT,
    MAX_RUNNING_COMMANDS,
    MAX_WAITING_COMMANDS,
    AlertActions,
    alert_line,
    notification_flavour,
    notification_sequence,
)
from statdash.live.alerts.book import Alert, AlertEvent, AlertState
from tests.support.wait import CEILING, until_async

QUEUE = RowObject("8001@SIP_Switch", "Queue", "Sales")


def event(
    actions: tuple[AlertAction, ...], kind: str = "raised", *, name: str = "Backlog"
) -> AlertEvent:
    rule = AlertView(
        name=name,
        level="alarm",
        hold=0,
        clear_after=0,
        repeat=0,
        quiet=False,
        actions=actions,
        targets=(),
        location=SourceLocation("layout.yaml", 4, 5),
    )
    alert = Alert((name, "Queue", QUEUE.id), rule, QUEUE, AlertState.RAISED, 7.0, 1_700_000_000.0)
    return AlertEvent(kind, alert, 1_700_000_005.0)  # type: ignore[arg-type]


class Recorder:
    """Collects what the actions wrote to the terminal and said."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.said: list[str] = []
        self.banners: list[AlertEvent] = []

    def actions(self, flavour: Any = "osc9") -> AlertActions:
        return AlertActions(
            terminal=self.written.append,
            say=self.said.append,
            banner=self.banners.append,
            flavour=flavour,
        )


def test_raised_alert_rings_notifies_shows_a_banner_and_says_a_line() -> None:
    """Each named action does its one thing for a raised alert."""
    seen = Recorder()
    seen.actions().run(event(("bell", "notify", "banner", "log")))
    assert seen.written[0] == "\a"
    assert seen.written[1].startswith("\x1b]9;statdash alarm: ALARM raised: Backlog on Sales")
    assert seen.written[1].endswith("\x07")
    assert len(seen.banners) == 1
    assert seen.said == ["ALARM raised: Backlog on Sales (Queue 8001@SIP_Switch) = 7"]


def test_acknowledge_and_clear_make_no_noise_and_only_the_clear_is_said() -> None:
    """Only raised and repeated alerts ring or notify; a clear gets its line, an ack none."""
    seen = Recorder()
    for kind in ("acknowledged", "cleared"):
        seen.actions().run(event(("bell", "notify", "banner", "log"), kind))
    assert seen.written == [] and seen.banners == []
    assert [line.split(":")[0] for line in seen.said] == ["ALARM cleared"]


def test_events_together_ring_once_and_notify_once_with_capped_lines() -> None:
    """Five alerts raised by one poll ring once, flash once, send one notification, and
    their lines are capped with a count of the rest."""
    seen = Recorder()
    actions = AlertActions(
        terminal=seen.written.append,
        say=seen.said.append,
        banner=seen.banners.append,
        flavour="osc9",
        max_lines=3,
    )
    actions.run_all([event(("bell", "notify", "banner", "log"), name=f"R{n}") for n in range(5)])
    assert seen.written.count("\a") == 1
    (notification,) = [w for w in seen.written if w.startswith("\x1b]9;")]
    assert "R0" in notification and "(+4 more)" in notification
    assert len(seen.banners) == 1
    assert seen.said[:2] == [
        "ALARM raised: R0 on Sales (Queue 8001@SIP_Switch) = 7",
        "ALARM raised: R1 on Sales (Queue 8001@SIP_Switch) = 7",
    ]
    assert seen.said[2:] == ["... and 3 more alert events"]


def test_a_quiet_rule_does_nothing() -> None:
    """A quiet rule's alerts run no action at all."""
    seen = Recorder()
    quiet = event(("bell", "log"))
    quiet = replace(quiet, alert=replace(quiet.alert, rule=replace(quiet.alert.rule, quiet=True)))
    seen.actions().run(quiet)
    assert seen.written == [] and seen.said == []


@pytest.mark.parametrize("flavour", ["osc9", "osc777"])
def test_hostile_names_cannot_end_the_notification_sequence(flavour: Any) -> None:
    """ESC, BEL and C1 controls in a name are replaced, so the sequence holds one OSC only."""
    hostile = "x\x07\x1b]52;c;cHduZWQ=\x07\x1b\\\x9c;y"
    sequence = notification_sequence(hostile, hostile, flavour)
    inner = sequence[2:-1]  # between ESC ] and the final BEL
    assert "\x1b" not in inner and "\x07" not in inner and "\x9c" not in inner
    expected_fields = 4 if flavour == "osc777" else 2  # 777;notify;title;body vs 9;text
    assert len(inner.split(";")) == expected_fields


def test_flavour_follows_what_the_terminal_says_it_is() -> None:
    """VTE, urxvt and foot get OSC 777; anything else OSC 9."""
    assert notification_flavour({"VTE_VERSION": "7600", "TERM": "xterm-256color"}) == "osc777"
    assert notification_flavour({"TERM": "rxvt-unicode-256color"}) == "osc777"
    assert notification_flavour({"TERM": "xterm-256color"}) == "osc9"


def test_alert_line_names_the_object_and_the_value_without_escapes() -> None:
    """The line says level, event, rule, object and value, cleaned of control characters."""
    line = alert_line(event((), name="Back\x1b[31mlog"))
    assert line == "ALARM raised: Back\ufffd[31mlog on Sales (Queue 8001@SIP_Switch) = 7"


async def test_command_reads_the_alert_as_json_on_stdin(tmp_path: Path) -> None:
    """A command gets one JSON object on stdin with the log's fields and the object's label."""
    out = tmp_path / "stdin.json"
    code = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    seen = Recorder()
    actions = seen.actions()
    actions.run(event((CommandAction((sys.executable, "-c", code), 10.0),)))
    await actions.aclose()
    received = json.loads(out.read_text())
    assert received["event"] == "raised" and received["alert"] == "Backlog"
    assert received["object_id"] == QUEUE.id and received["object_label"] == "Sales"
    assert received["value"] == 7 and received["time"] == "2023-11-14T22:13:25Z"
    assert seen.said == []


async def test_command_arguments_reach_the_program_untouched_by_any_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shell syntax in an argument is passed literally, and no shell function is ever called."""

    async def no_shell(*args: object, **kwargs: object) -> None:
        raise AssertionError("a shell was asked to run an alert command")

    monkeypatch.setattr(asyncio, "create_subprocess_shell", no_shell)
    out = tmp_path / "argv.json"
    trap = tmp_path / "pwned"
    hostile = f"$(touch {trap}); `touch {trap}` | touch {trap}"
    code = f"import json, sys; open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))"
    actions = Recorder().actions()
    actions.run(event((CommandAction((sys.executable, "-c", code, hostile), 10.0),)))
    await actions.aclose()
    assert json.loads(out.read_text()) == [hostile]
    assert not trap.exists()


async def test_a_command_past_its_timeout_is_stopped_and_said() -> None:
    """A command that runs too long is killed and the user is told, in one line."""
    seen = Recorder()
    actions = seen.actions()
    slow = CommandAction((sys.executable, "-c", "import time; time.sleep(30)"), 0.3)
    actions.run(event((slow,)))
    await asyncio.wait_for(actions.aclose(), 10)
    assert len(seen.said) == 1 and "took longer than 0.3s; stopped it" in seen.said[0]


async def test_a_failing_or_missing_command_is_a_message_not_a_crash(tmp_path: Path) -> None:
    """A non-zero exit names the program and its error output; a missing program is said too."""
    seen = Recorder()
    actions = seen.actions()
    failing = (
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('no route\\x1b[2J'); sys.exit(3)",
    )
    actions.run(event((CommandAction(failing, 10.0),)))
    actions.run(event((CommandAction((str(tmp_path / "nothing-here"),), 10.0),)))
    await actions.aclose()
    assert any("failed (exit 3): no route\ufffd[2J" in line for line in seen.said)
    assert any("could not start" in line for line in seen.said)


async def test_a_command_writing_without_end_costs_no_memory(tmp_path: Path) -> None:
    """A failing command that writes 20 MB to stderr: the head is kept and said, the rest is
    read and counted (its size said), and this process never holds it (the sweep's 250 MB
    pushed `watch` to 3.3 GB)."""
    seen = Recorder()
    actions = seen.actions()
    size = 20 * 1024 * 1024
    code = (
        "import sys; sys.stderr.buffer.write(b'head of the error ' + b'x' * "
        f"{size - len('head of the error ')}); sys.exit(4)"
    )
    tracemalloc.start()
    try:
        actions.run(event((CommandAction((sys.executable, "-c", code), 30.0),)))
        await actions.aclose(timeout=30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"peak {peak:,} bytes while reading its output"
    (line,) = seen.said
    assert "failed (exit 4): head of the error xxx" in line
    assert line.endswith(f"({size - MAX_KEPT_OUTPUT:,} more bytes of its output not kept)")


def waiting_command(tmp_path: Path) -> CommandAction:
    """A command that marks its start, then waits for `go` (a shell: cheap to start)."""
    script = 'touch "started.$$"; while [ ! -e go ]; do sleep 0.02; done; touch "done.$$"'
    return CommandAction(("/bin/sh", "-c", f"cd {str(tmp_path)!r} && {script}"), 30.0)


async def test_concurrent_commands_are_capped_and_the_rest_queued_or_dropped(
    tmp_path: Path,
) -> None:
    """50 alerts at once, each with a command: 8 run, 32 wait for a turn, 10 are dropped and
    one line says so and why; once the running ones end, the waiting ones run, 8 at a time."""
    seen = Recorder()
    actions = seen.actions()
    command = waiting_command(tmp_path)
    actions.run_all([event((command,), name=f"Rule {n}") for n in range(50)])
    try:
        assert seen.said == [
            "dropped 10 alert command runs (/bin/sh x10): 8 were running and 32 waiting already;"
            " the alert log has every event"
        ]
        await until_async(
            lambda: len(list(tmp_path.glob("started.*"))) == MAX_RUNNING_COMMANDS,
            what="8 commands to start",
        )
        # None ends before `go`, so no ninth can have started.
        assert len(list(tmp_path.glob("started.*"))) == MAX_RUNNING_COMMANDS
        assert (actions.running, actions.waiting) == (MAX_RUNNING_COMMANDS, MAX_WAITING_COMMANDS)
    finally:
        (tmp_path / "go").touch()
        await actions.aclose(timeout=CEILING)
    assert len(list(tmp_path.glob("done.*"))) == MAX_RUNNING_COMMANDS + MAX_WAITING_COMMANDS
    assert (actions.running, actions.waiting) == (0, 0)
    assert len(seen.said) == 1
