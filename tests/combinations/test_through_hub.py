"""Every shipped layout through a hub: each command that shows live values, given a nats://
URL, against one `statdash hub` process on the combination simulator.

What a user combines when a floor shares one hub: `run` on a pty (with `--record`, then the
recording exports), `snapshot`, `watch` and `serve`, each a real `python -m statdash`
process, and `demo --hub`. Each case asserts the command's own success, no traceback, that
the status line names the hub, and at the end (the hub stopped with SIGTERM) that the
simulator has no subscription and no CometD client left.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from statdash.hub.natsd import LocalNats, running_nats
from statdash.hub.protocol import Status, Subjects, decode
from statdash.layout.shipped import layouts_dir
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.combinations.test_every_layout import (
    API_KEY,
    CEILING,
    LAYOUTS,
    WITH_ALERTS,
    _left_clean,
    _no_traceback,
    _on_screen,
    _page_cookies,
    _quit,
    _started,
    _statdash,
    _stopped,
    _text,
    _Viewer,
)
from tests.hub.support import nats_client
from tests.support.nats import require_nats_server
from tests.support.sim import serve
from tests.support.terminal import PtyApp, child_environment
from tests.support.wait import until

NAMESPACE = "combination"


@pytest.fixture(scope="module")
def floor() -> Iterator[RunningSimulator]:
    """A simulator big enough for every shipped layout, on a real clock."""
    with serve(SimConfig(agents=2000, queues=50, seed=7)) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def nats() -> Iterator[LocalNats]:
    require_nats_server()
    with running_nats() as server:
        yield server


@pytest.fixture(scope="module")
def hub(
    floor: RunningSimulator, nats: LocalNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[str]]:
    """One `statdash hub` for every case; stopped with SIGTERM, it leaves nothing open."""
    home = tmp_path_factory.mktemp("hub")
    env = child_environment(home, {"STATDASH_API_KEY": API_KEY})
    args = ["hub", "--url", floor.base_url, "--nats", nats.url, "--namespace", NAMESPACE]
    process = _started([*args, "--grace", "1"], env)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "hub up" in first, first
        yield process
    finally:
        out, err = _stopped(process)
    _no_traceback(out + err, "hub")
    assert process.returncode == 0, err
    _left_clean(floor)


def _env(tmp_path: Path) -> dict[str, str]:
    """A client's environment: the hub's namespace, and no API key (it needs none)."""
    return child_environment(tmp_path, {"STATDASH_HUB_NAMESPACE": NAMESPACE})


@pytest.mark.parametrize("layout", LAYOUTS)
def test_run_through_the_hub_records_and_exports(
    hub: subprocess.Popen[str], nats: LocalNats, tmp_path: Path, layout: str
) -> None:
    """`run --url nats://` goes live through the hub (the status line says so), records,
    quits clean, and its recording exports."""
    env = _env(tmp_path)
    recording = tmp_path / "shift.sqlite"
    path = str(layouts_dir() / layout)
    app = PtyApp(["run", path, "--url", nats.url, "--record", str(recording)], env, size=(200, 50))
    try:
        _on_screen(app, "hub: push", "the dashboard live through the hub")
    finally:
        code = _quit(app)
    screen = _text(app.output)
    _no_traceback(screen, "run")
    assert code == 0, screen[-2000:]
    export = _statdash(["export", str(recording), "--format", "jsonl"], env)
    assert export.returncode == 0, export.stderr
    assert [json.loads(line) for line in export.stdout.splitlines()]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_snapshot_through_the_hub(
    hub: subprocess.Popen[str], nats: LocalNats, tmp_path: Path, layout: str
) -> None:
    """`snapshot --url nats://` reads every statistic of the layout through the hub."""
    path = str(layouts_dir() / layout)
    snapshot = _statdash(["snapshot", path, "--url", nats.url, "--format", "json"], _env(tmp_path))
    _no_traceback(snapshot.stderr, "snapshot")
    assert snapshot.returncode == 0, snapshot.stderr
    assert json.loads(snapshot.stdout)


@pytest.mark.parametrize("layout", WITH_ALERTS)
def test_watch_through_the_hub(
    hub: subprocess.Popen[str], nats: LocalNats, tmp_path: Path, layout: str
) -> None:
    """`watch --url nats://` goes live through the hub and stops clean on SIGTERM."""
    path = str(layouts_dir() / layout)
    process = _started(["watch", path, "--url", nats.url], _env(tmp_path))
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "live on hub" in first, first
    finally:
        out, err = _stopped(process)
    _no_traceback(out + err, "watch")
    assert process.returncode == 0, err


def test_demo_through_a_hub_of_its_own(tmp_path: Path) -> None:
    """`demo --hub`: its own simulator, nats-server and hub; the status line names the hub;
    quit leaves no nats-server behind."""
    require_nats_server()
    app = PtyApp(["demo", "--hub", "--agents", "20"], _env(tmp_path), size=(160, 45))
    try:
        _on_screen(app, "hub: push", "the demo live through its hub")
        servers = _nats_servers_of(app.process.pid)
        assert servers, "the demo runs a nats-server of its own"
    finally:
        code = _quit(app)
    screen = _text(app.output)
    _no_traceback(screen, "demo --hub")
    assert code == 0, screen[-2000:]
    until(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in servers),
        what="the demo's nats-server gone",
        timeout=30,
    )


def _nats_servers_of(pid: int) -> list[int]:
    """The pids of the nats-server processes whose parent is `pid`."""
    found = subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line.split()[0]) for line in found.stdout.splitlines() if "nats-server" in line]


def test_serve_through_the_hub(hub: subprocess.Popen[str], nats: LocalNats, tmp_path: Path) -> None:
    """`serve --url nats://`: a viewer's dashboard takes a lease at the hub (the hub's
    status counts it), and serve stops clean on SIGTERM."""
    path = str(layouts_dir() / "wallboard.yaml")
    process = _started(["serve", path, "--url", nats.url, "--port", "0"], _env(tmp_path))
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert "/?token=" in url, url
        base, cookies = _page_cookies(url)
        before = _hub_clients(nats)
        viewer = _Viewer(f"{base.replace('http', 'ws', 1)}/ws?width=120&height=40", cookies)
        try:
            until(
                lambda: _hub_clients(nats) > before,
                what="the viewer's lease at the hub",
                timeout=CEILING,
            )
        finally:
            viewer.close()
    finally:
        out, err = _stopped(process)
    _no_traceback(out + err, "serve")
    assert process.returncode == 0, err


def _hub_clients(nats: LocalNats) -> int:
    """The leases the hub says it holds, from its next status message."""

    async def read() -> int:
        async with nats_client(nats) as connection:
            subscription = await connection.subscribe(Subjects(NAMESPACE).status)
            message = await subscription.next_msg(timeout=10)
            return decode(message.data, Status).clients

    return asyncio.run(read())
