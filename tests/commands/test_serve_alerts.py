"""`statdash serve` runs the layout's alert rules itself, once, whatever the number of viewers."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx

from statdash.sim.runner import RunningSimulator
from tests.support.wait import until_async
from tests.support.web import browser, open_page

from .conftest import Result, spawn

RULE = "Pinned backlog"
# Rule names reach the banner as they are written; this one appears nowhere else on screen.
LAYOUT = """\
title: Served alerts
refresh: 1s
alert_settings:
  actions: [banner, log, {{command: {command}, timeout: 10s}}]
  log: {log}
statistics:
  waiting: {{name: CurrentNumberWaitingCalls}}
alerts:
  - name: {rule}
    when: "waiting >= 500"
    objects: [{{queue: 8001@SIP_Switch, label: Sales}}]
pages:
  - widgets:
      - kind: queues
        objects: [{{queue: 8001@SIP_Switch, label: Sales}}]
        columns: [$waiting]
"""
# Appends what the alert command reads on stdin (one JSON line per event) to a file.
APPEND = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read())"


class Served:
    """A layout whose rule fires when Sales' waiting calls are pinned at 500 or more: where
    its alert log and its command's output go."""

    def __init__(self, tmp_path: Path) -> None:
        self.log = tmp_path / "alerts.jsonl"
        self.ran = tmp_path / "command.jsonl"
        self.layout = tmp_path / "served.yaml"
        command = json.dumps([sys.executable, "-c", APPEND, str(self.ran)])
        self.layout.write_text(
            LAYOUT.format(command=command, log=json.dumps(str(self.log)), rule=RULE)
        )

    def raised(self) -> list[dict[str, object]]:
        """The `raised` records of the alert log."""
        return [r for r in _records(self.log) if r["event"] == "raised"]

    def commands(self) -> list[dict[str, object]]:
        """What each run of the alert command read, `raised` events only."""
        return [r for r in _records(self.ran) if r["event"] == "raised"]


def _records(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _pin(simulator: RunningSimulator, waiting: int) -> None:
    body = {
        "objectType": "Queue",
        "objectId": "8001@SIP_Switch",
        "name": "CurrentNumberWaitingCalls",
        "value": waiting,
    }
    with httpx.Client(trust_env=False) as http:
        http.post(simulator.base_url + "/simulator/pin", json=body).raise_for_status()


def _open_subscriptions(simulator: RunningSimulator) -> int:
    return int(simulator.state()["open_subscriptions"])


def _stop(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[str, str]:
    process.send_signal(signum)
    return process.communicate(timeout=30)


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate()


async def test_serve_runs_the_rules_with_no_viewer_and_deletes_its_subscription(
    tmp_path: Path, simulator: RunningSimulator
) -> None:
    """With no browser open, serve's own session raises the alert: one log line, the command
    run once; on SIGINT its subscription is deleted and crossed off the records."""
    served = Served(tmp_path)
    _pin(simulator, 999)
    process = spawn("serve", str(served.layout), "--url", simulator.base_url, "--port", "0")
    try:
        assert process.stdout is not None
        assert "/?token=" in process.stdout.readline()
        await until_async(
            lambda: len(served.commands()) == 1, timeout=60, what="the alert command ran"
        )
        assert [r["alert"] for r in served.raised()] == [RULE]
        assert _open_subscriptions(simulator) == 1, "serve's own, and no viewer's"
        out, err = await asyncio.to_thread(_stop, process, signal.SIGINT)
    finally:
        _kill(process)
    assert process.returncode == 0, err
    assert out == ""
    assert f"ALARM raised: {RULE} on Sales" in err
    assert _open_subscriptions(simulator) == 0
    records = tmp_path / "state" / "statdash" / "open-subscriptions.json"
    assert not records.exists() or json.loads(records.read_text()) == []


async def test_two_viewers_show_the_alert_and_serve_acts_on_it_once(
    tmp_path: Path, simulator: RunningSimulator
) -> None:
    """With two browsers open, both screens show the raised alert, while the alert log gets
    one line and the command runs once (serve's), not one per tab; SIGTERM deletes all three
    subscriptions."""
    served = Served(tmp_path)
    process = spawn("serve", str(served.layout), "--url", simulator.base_url, "--port", "0")
    screens: list[bytearray] = [bytearray(), bytearray()]
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        async with browser() as http:
            socket_url = await open_page(http, url)
            sockets = [await http.ws_connect(f"{socket_url}?width=120&height=30") for _ in screens]

            async def read(socket: aiohttp.ClientWebSocketResponse, screen: bytearray) -> None:
                async for message in socket:
                    if isinstance(message.data, bytes):
                        screen.extend(message.data)

            readers = [
                asyncio.create_task(read(s, b)) for s, b in zip(sockets, screens, strict=True)
            ]
            # serve's own subscription and one per viewer, each live before the pin.
            await until_async(
                lambda: _open_subscriptions(simulator) == 3, timeout=60, what="3 subscriptions"
            )
            await until_async(
                lambda: all(b"Sales" in s for s in screens), timeout=60, what="both screens drawn"
            )
            assert served.raised() == []
            _pin(simulator, 999)
            # Each viewer's screen shows the alert: its rules were judged on the pinned value
            # (a viewer writes its log before it shows an alert, so any line is there by now).
            rule = RULE.encode()
            await until_async(
                lambda: all(rule in s for s in screens), timeout=60, what="both screens' banner"
            )
            await until_async(
                lambda: len(served.commands()) >= 1, timeout=30, what="the alert command ran"
            )
            assert [r["alert"] for r in served.raised()] == [RULE]
            assert len(served.commands()) == 1
            _, err = await asyncio.to_thread(_stop, process, signal.SIGTERM)
            for reader in readers:
                reader.cancel()
    finally:
        _kill(process)
    assert process.returncode == 0, err
    assert err.count(f"ALARM raised: {RULE} on Sales") == 1
    assert _open_subscriptions(simulator) == 0
    assert len(served.commands()) == 1 and len(served.raised()) == 1


def test_a_screen_only_dashboard_takes_no_alert_log(cli: Callable[..., Result]) -> None:
    """`run --alert-actions screen` (what serve gives its viewers) refuses --alert-log in one
    line: that dashboard writes no log."""
    result = cli(
        "run",
        "layouts/demo.yaml",
        "--url",
        "http://127.0.0.1:9",
        "--alert-actions",
        "screen",
        "--alert-log",
        "alerts.jsonl",
    )
    assert result.code == 2
    assert result.err == (
        "statdash run: --alert-log cannot go with --alert-actions screen,"
        " which writes no alert log\n"
    )
