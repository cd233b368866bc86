"""Tests for `statdash watch`: headless alerts against the simulator, refusals, exit paths."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

from statdash.sim.runner import RunningSimulator
from tests.support.terminal import catches_signal
from tests.support.wait import CEILING, until

from .conftest import Result, spawn

# Fires at once on the simulator: no queue waits anywhere near 1,000 calls, so every queue
# sits at or below the alarm level of this "too few waiting" threshold.
ALERTING = """\
title: Watch test
refresh: 1s
alert_settings:
  actions: [log, bell]
statistics:
  waiting: {name: CurrentNumberWaitingCalls}
alerts:
  - name: Short queue
    when: "waiting < 1000"
    objects: [{queue: 8003@SIP_Switch}]
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}, {queue: 8002@SIP_Switch}]
        columns:
          - stat: CurrentNumberWaitingCalls
            label: Waiting
            thresholds: {alarm: 1000, direction: below, alert: true}
"""
QUIET = """\
title: No alerts
pages:
  - widgets:
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: CurrentNumberWaitingCalls
"""


def layout_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "layout.yaml"
    path.write_text(text)
    return path


def test_watch_writes_the_log_and_leaves_nothing_open_on_sigterm(
    tmp_path: Path, simulator: RunningSimulator, records_path: Path
) -> None:
    """Against the simulator, watch logs each raised alert (a threshold's and a rule's, its
    value the left side) as JSON, and SIGTERM deletes it all."""
    log = tmp_path / "alerts.jsonl"
    child = spawn(
        "watch",
        str(layout_file(tmp_path, ALERTING)),
        "--url",
        simulator.base_url,
        "--alert-log",
        str(log),
        "--records",
        str(records_path),
    )
    try:
        until(lambda: log.exists() and len(log.read_text().splitlines()) >= 3, what="3 alerts")
        assert simulator.state()["open_subscriptions"] == 1
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=CEILING)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert {(r["event"], r["alert"], r["object_id"]) for r in records} == {
        ("raised", "Waiting \u2264 1000", "8001@SIP_Switch"),
        ("raised", "Waiting \u2264 1000", "8002@SIP_Switch"),
        ("raised", "Short queue", "8003@SIP_Switch"),
    }
    assert all(r["level"] == "alarm" for r in records)
    assert all(isinstance(r["value"], int) for r in records)
    assert "ALARM raised: Waiting \u2264 1000 on Sales (Queue 8001@SIP_Switch)" in out
    # Not a terminal: no bell or escape sequence reaches the output.
    assert "\a" not in out and "\x1b" not in out
    assert "stopping (SIGTERM)" in err
    assert simulator.state()["open_subscriptions"] == 0
    assert json.loads(records_path.read_text()) == []  # crossed out once deleted


def test_a_layout_without_alerts_is_refused(
    tmp_path: Path, simulator: RunningSimulator, cli: Callable[..., Result]
) -> None:
    """watch on a layout with no rules and no alerting threshold exits 2 and starts nothing."""
    result: Result = cli("watch", str(layout_file(tmp_path, QUIET)), "--url", simulator.base_url)
    assert result.code == 2
    assert "has no alerts to watch" in result.err and result.err.startswith("statdash watch: ")
    assert simulator.state()["open_subscriptions"] == 0


def test_an_unwritable_alert_log_is_refused_before_starting(
    tmp_path: Path, simulator: RunningSimulator, cli: Callable[..., Result]
) -> None:
    """An alert log in a missing directory is one line naming it, exit 2, no subscription."""
    missing = tmp_path / "no-such-dir" / "alerts.jsonl"
    result: Result = cli(
        "watch",
        str(layout_file(tmp_path, ALERTING)),
        "--url",
        simulator.base_url,
        "--alert-log",
        str(missing),
    )
    assert result.code == 2
    assert f"cannot write the alert log {missing}: No such file or directory" in result.err
    assert "Traceback" not in result.err
    assert simulator.state()["open_subscriptions"] == 0


def test_a_fifo_as_the_alert_log_is_refused_before_starting(
    tmp_path: Path, simulator: RunningSimulator, cli: Callable[..., Result]
) -> None:
    """`--alert-log FIFO` is one line naming it, exit 2, no subscription, instead of blocking
    at start until a reader comes."""
    fifo = tmp_path / "alerts.fifo"
    os.mkfifo(fifo)
    result: Result = cli(
        "watch",
        str(layout_file(tmp_path, ALERTING)),
        "--url",
        simulator.base_url,
        "--alert-log",
        str(fifo),
    )
    assert result.code == 2
    assert result.err == (
        f"statdash watch: cannot write the alert log {fifo}: it is a FIFO (named pipe), not a"
        " regular file; nothing was started\n"
    )
    assert simulator.state()["open_subscriptions"] == 0


def test_a_server_never_reached_exits_one(tmp_path: Path, dead_url: str) -> None:
    """With nothing listening, watch says it never reached the server and exits 1 on SIGTERM."""
    child = spawn("watch", str(layout_file(tmp_path, ALERTING)), "--url", dead_url)
    try:
        # Stopped once it handles SIGTERM (before that, SIGTERM would just kill it).
        until(lambda: catches_signal(child.pid, signal.SIGTERM), what="watch to catch SIGTERM")
        assert child.poll() is None
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=CEILING)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 1
    assert "never reached" in err


def test_a_webhook_whose_variable_is_unset_is_refused_before_starting(
    tmp_path: Path, simulator: RunningSimulator, cli: Callable[..., Result]
) -> None:
    """`{webhook: {env: NAME}}` with NAME unset is one located line, exit 2, no subscription;
    plain http to another host is refused the same way, naming the host only."""
    hooked = ALERTING.replace("actions: [log, bell]", "actions: [log, {webhook: {env: HOOK_URL}}]")
    path = layout_file(tmp_path, hooked)
    result: Result = cli("watch", str(path), "--url", simulator.base_url)
    assert result.code == 2
    assert result.err == (
        f"statdash watch: {path}:4:28: webhook: the environment variable HOOK_URL is not set;"
        " export it with the webhook's URL; nothing was started\n"
    )
    assert simulator.state()["open_subscriptions"] == 0
    plain = hooked.replace("{env: HOOK_URL}", '"http://chat.example.com/s3cr3t"')
    result = cli("watch", str(layout_file(tmp_path, plain)), "--url", simulator.base_url)
    assert result.code == 2
    assert "refusing to post alerts over plain http to chat.example.com" in result.err
    assert "s3cr3t" not in result.err + result.out
