"""`statdash hub` as a process: a real simulator, a real nats-server, SIGTERM and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from statdash.hub import connection
from statdash.hub.natsd import LocalNats, start_nats
from statdash.hub.protocol import Subjects
from statdash.sim.runner import RunningSimulator
from tests.hub.support import declare, nats_client, new_subjects, peek, waiting
from tests.support import nats as nats_support
from tests.support.sim import assert_nothing_left_open, open_subscriptions
from tests.support.wait import CEILING, until, until_async

from .conftest import API_KEY, ROOT, Result, spawn

nats = nats_support.shared_nats()
# The fixture `own_nats` (a server of the test's own, to stop and start again).
own_nats = nats_support.own_nats


def _hub(
    simulator: RunningSimulator, server: LocalNats, subjects: Subjects, records: Path
) -> subprocess.Popen[str]:
    return spawn(
        "hub",
        "--url",
        simulator.base_url,
        "--nats",
        server.url,
        "--namespace",
        subjects.namespace,
        "--records",
        str(records),
        "--interval",
        "1",
    )


async def _answers(client: NatsClient, subjects: Subjects) -> bool:
    try:
        return (await peek(client, subjects, "nobody")).code == 404
    except Exception:
        return False


def _stop(child: subprocess.Popen[str]) -> tuple[str, str]:
    child.send_signal(signal.SIGTERM)
    try:
        return child.communicate(timeout=CEILING)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


async def test_sigterm_deletes_everything_and_exits_0(
    simulator: RunningSimulator, nats: LocalNats, records_path: Path
) -> None:
    """The hub opens what a declare needs, says so on stderr (stamped, no secret, no
    traceback), and on SIGTERM deletes it all and exits 0."""
    subjects = new_subjects()
    queue = simulator.state()["objects"]["Queue"][0]
    child = _hub(simulator, nats, subjects, records_path)
    try:
        async with nats_client(nats) as client:
            await until_async(lambda: _answers(client, subjects), what="the hub answering")
            reply = await declare(client, subjects, "lease", [waiting(queue)])
            assert reply.error is None and reply.values.keys == reply.keys
        assert len(open_subscriptions(simulator)) == 1
        assert len(json.loads(records_path.read_text())) == 1
    finally:
        out, err = _stop(child)
    assert child.returncode == 0, err
    assert_nothing_left_open(simulator)
    assert json.loads(records_path.read_text()) == []
    assert "hub up on namespace" in err
    assert "subscription 1 opened: 1 statistic" in err
    assert "stopping (SIGTERM)" in err and "hub stopped: 1 upstream subscription closed" in err
    assert all(line[:4].isdigit() for line in err.splitlines())  # every line stamped
    assert "Traceback" not in err and API_KEY not in err + out


async def test_a_hub_killed_with_9_is_cleaned_up_by_the_next(
    simulator: RunningSimulator, nats: LocalNats, records_path: Path
) -> None:
    """A hub killed with -9 leaves its upstream subscription on record; the next hub started
    with the same records deletes it before anything else."""
    subjects = new_subjects()
    queue = simulator.state()["objects"]["Queue"][0]
    first = _hub(simulator, nats, subjects, records_path)
    try:
        async with nats_client(nats) as client:
            await until_async(lambda: _answers(client, subjects), what="the first hub answering")
            await declare(client, subjects, "lease", [waiting(queue)])
        left = list(open_subscriptions(simulator))
        assert len(left) == 1
    finally:
        first.kill()
        first.communicate()
    assert list(open_subscriptions(simulator)) == left  # SIGKILL: nothing was deleted
    second = _hub(simulator, nats, subjects, records_path)
    try:
        until(lambda: not open_subscriptions(simulator), what="the leftover deleted")
    finally:
        _, err = _stop(second)
    assert second.returncode == 0, err
    assert "deleted 1 subscription a previous run left open" in err
    assert open_subscriptions(simulator) == {}
    assert json.loads(records_path.read_text()) == []


def test_an_unreachable_nats_server_is_one_line_and_exit_1(
    simulator: RunningSimulator,
    cli: Callable[..., Result],
    dead_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No NATS server at the URL: one line naming it and why, exit 1, nothing opened
    upstream (nats-py alone would try a refusing server for ever)."""
    monkeypatch.setattr(connection, "FIRST_CONNECT_TIMEOUT", 0.3)
    nats_url = dead_url.replace("http://", "nats://")
    result = cli("hub", "--url", simulator.base_url, "--nats", nats_url)
    assert result.code == 1
    [line] = result.err.splitlines()
    assert "cannot reach NATS at 127.0.0.1:" in line and "connection refused" in line
    assert open_subscriptions(simulator) == {}


def test_bad_settings_are_refused_before_anything_starts(
    simulator: RunningSimulator, cli: Callable[..., Result]
) -> None:
    """No NATS URL, a bad namespace, a bad interval: one line each, exit 2."""
    url = simulator.base_url
    nats_url = "nats://127.0.0.1:4222"
    cases = [
        (["hub", "--url", url], "no hub given"),
        (["hub", "--url", url, "--nats", nats_url, "--namespace", "a.b"], "namespace"),
        (["hub", "--url", url, "--nats", nats_url, "--interval", "0"], "--interval"),
        (["hub", "--url", url, "--nats", nats_url, "--grace", "-1"], "--grace"),
    ]
    for argv, words in cases:
        result = cli(*argv)
        assert result.code == 2, argv
        assert result.err.startswith("statdash hub: ") and words in result.err, result.err
    assert open_subscriptions(simulator) == {}


async def test_a_restarted_nats_server_is_told_lost_and_back(
    simulator: RunningSimulator, own_nats: LocalNats, records_path: Path, tmp_path: Path
) -> None:
    """The hub says when NATS goes away and comes back, reconnects by itself, and answers
    again on the restarted server."""
    subjects = new_subjects()
    log = tmp_path / "hub.log"
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "statdash",
                "hub",
                "--url",
                simulator.base_url,
                "--nats",
                own_nats.url,
                "--namespace",
                subjects.namespace,
                "--records",
                str(records_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env=dict(os.environ),
            cwd=ROOT,
        )
    restarted: LocalNats | None = None
    try:
        async with nats_client(own_nats) as client:
            await until_async(lambda: _answers(client, subjects), what="the hub answering")
        own_nats.stop()
        until(lambda: "NATS connection lost" in log.read_text(), what="the loss told")
        restarted = start_nats(own_nats.port)
        until(lambda: "NATS connection back" in log.read_text(), what="the return told")
        async with nats_client(restarted) as client:
            await until_async(lambda: _answers(client, subjects), what="answering again")
    finally:
        _stop(child)
        if restarted is not None:
            restarted.stop()
    assert child.returncode == 0
    assert "Traceback" not in log.read_text()
