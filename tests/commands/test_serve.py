"""`statdash serve`: what it refuses before listening, what a viewer is started with, a real run."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from statdash.api.settings import Credentials, ServerSettings
from statdash.commands import run as run_command
from statdash.commands import serve
from statdash.commands.arguments.serve import add_arguments
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.support.wait import CEILING, until_async
from tests.support.web import browser, open_page, read_until_closed

from .conftest import API_KEY, LAYOUTS, ROOT, Result, spawn

WALLBOARD = str(LAYOUTS / "wallboard.yaml")
# How soon a dashboard whose serve was killed must notice and delete its subscription.
DASHBOARD_EXIT_BOUND = 10.0


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_it_listens_on_loopback_by_default() -> None:
    """Without --host, serve listens on 127.0.0.1 only, on port 8000, for at most 10 viewers."""
    args = parse(WALLBOARD)
    assert (args.host, args.port, args.max_viewers) == ("127.0.0.1", 8000, 10)
    assert serve.address_problem(args.host, args.port, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "wallboard.example.com"])
def test_a_reachable_address_needs_allow_remote(cli: Callable[..., Result], host: str) -> None:
    """Listening where other machines reach it is refused (exit 2) unless --allow-remote."""
    result = cli("serve", WALLBOARD, "--url", "http://127.0.0.1:9", "--host", host)
    assert result.code == 2
    assert result.err.startswith(f"statdash serve: refusing to listen on {host},")
    assert "--allow-remote" in result.err
    assert serve.address_problem(host, 8000, allow_remote=True) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "wallboard.example.com"])
def test_a_reachable_address_is_warned_about_plain_http(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --allow-remote, serve's log says once, at start, that the page and the key go
    over plain HTTP, and points to the TLS recipe, which docs/serve.md has."""
    serve.announce(parse(WALLBOARD, "--host", host, "--allow-remote"), "Wallboard", 8000, "K")
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "plain HTTP" in line]
    assert len(warnings) == 1
    assert f"listening on {host} over plain HTTP" in warnings[0]
    assert "access key travel in the clear" in warnings[0]
    assert '(docs/serve.md, "TLS through a reverse proxy")' in warnings[0]
    assert captured.out.strip() == serve.viewer_url(host, 8000, "K")
    assert "\n## TLS through a reverse proxy\n" in (ROOT / "docs" / "serve.md").read_text()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_is_not_warned_about(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    """On loopback (even with --allow-remote) nothing leaves the machine: no warning."""
    serve.announce(parse(WALLBOARD, "--host", host, "--allow-remote"), "Wallboard", 8000, "K")
    assert "plain HTTP" not in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_need_no_flag(host: str) -> None:
    """Every loopback address is allowed without --allow-remote."""
    assert serve.address_problem(host, 8000, allow_remote=False) is None


def test_bad_numbers_are_refused(cli: Callable[..., Result]) -> None:
    """A port outside 0-65535 or fewer than one viewer is refused before anything starts."""
    bad_port = cli("serve", WALLBOARD, "--url", "http://127.0.0.1:9", "--port", "70000")
    assert (bad_port.code, bad_port.err) == (
        2,
        "statdash serve: --port 70000 is not a port (0-65535)\n",
    )
    none = cli("serve", WALLBOARD, "--url", "http://127.0.0.1:9", "--max-viewers", "0")
    assert (none.code, none.err) == (2, "statdash serve: --max-viewers must be at least 1\n")


def test_a_bad_layout_is_refused_before_listening(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """A layout with problems is reported and nothing listens (exit 2)."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: x\npages: 3\n", encoding="utf-8")
    result = cli("serve", str(broken), "--url", "http://127.0.0.1:9")
    assert result.code == 2
    assert result.out == ""
    assert "nothing was started" in result.err


def test_no_credentials_is_refused(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an API key serve says so and exits 2, as run does."""
    monkeypatch.delenv("STATDASH_API_KEY")
    result = cli("serve", WALLBOARD, "--url", "http://127.0.0.1:9")
    assert result.code == 2
    assert result.err.startswith("statdash serve: no API key given")


def settings_with_secrets() -> ServerSettings:
    return ServerSettings(
        url="https://gcxapi.example.com",
        credentials=Credentials(
            api_key=SecretStr("key-1"),
            client_id="dash",
            client_secret=SecretStr("secret-2"),
            username="T\\ana",
            password=SecretStr("pass-3"),
        ),
        verify="/etc/ssl/ca.pem",
    )


def test_secrets_go_to_the_viewer_environment_not_its_command_line() -> None:
    """Every resolved setting reaches the viewer as STATDASH_*; none of the secrets is in argv."""
    settings = settings_with_secrets()
    args = parse(WALLBOARD, "--api-key", "key-1", "--theme", "ansi-dark")
    argv = serve.viewer_argv(args, settings)
    assert not any(secret in word for word in argv for secret in ("key-1", "secret-2", "pass-3"))
    assert argv[3:] == [
        "run",
        str(Path(WALLBOARD).resolve()),
        "--url",
        "https://gcxapi.example.com",
        "--theme",
        "ansi-dark",
        "--alert-actions",
        "screen",
    ]
    environment = serve.viewer_environment(settings, {"PATH": "/bin"})
    assert environment == {
        "PATH": "/bin",
        "STATDASH_URL": "https://gcxapi.example.com",
        "STATDASH_API_KEY": "key-1",
        "STATDASH_CLIENT_ID": "dash",
        "STATDASH_CLIENT_SECRET": "secret-2",
        "STATDASH_USERNAME": "T\\ana",
        "STATDASH_PASSWORD": "pass-3",
        "STATDASH_CA_BUNDLE": "/etc/ssl/ca.pem",
    }


def test_kiosk_and_updates_are_forwarded() -> None:
    """--kiosk and --updates reach the viewer's run, whose own parser accepts them."""
    settings = settings_with_secrets()
    args = parse(WALLBOARD, "--kiosk", "--updates", "push")
    argv = serve.viewer_argv(args, settings)
    assert "--kiosk" in argv
    assert argv[argv.index("--updates") + 1] == "push"
    viewer = run_command.parse_run_args(argv[argv.index("run") + 1 :])
    assert (viewer.kiosk, viewer.updates) == (True, "push")


def test_the_url_carries_the_key() -> None:
    """The printed URL is the page with the key; IPv6 hosts are bracketed."""
    assert serve.viewer_url("127.0.0.1", 8000, "K") == "http://127.0.0.1:8000/?token=K"
    assert serve.viewer_url("::1", 8080, "K") == "http://[::1]:8080/?token=K"


async def test_serve_end_to_end(simulator: RunningSimulator) -> None:
    """A real `statdash serve` prints one URL with a fresh key; a viewer's dashboard opens a
    subscription with the key from serve's environment; SIGTERM ends serve, and the
    subscription with it, while the browser is still connected."""
    process = spawn("serve", WALLBOARD, "--url", simulator.base_url, "--port", "0")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        _, key = url.split("/?token=")
        assert len(key) >= 43
        async with browser() as http:
            socket_url = await open_page(http, url)
            socket = await http.ws_connect(f"{socket_url}?width=100&height=30")
            # Read all along, as a browser does: unread frames would hold serve's writes back.
            reader = asyncio.create_task(read_until_closed(socket))
            await _wait_for_subscriptions(simulator, 1)
            process.send_signal(signal.SIGTERM)
            await _wait_for_subscriptions(simulator, 0)
            _, err = await asyncio.to_thread(process.communicate, timeout=CEILING)
            # The browser is told (or finds the connection gone): its socket ends.
            await reader
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert API_KEY not in err
    assert "viewer connected" in err and "viewer left" in err


async def test_a_killed_serve_leaves_no_dashboard_running(simulator: RunningSimulator) -> None:
    """When serve dies outright (SIGKILL), each viewer's dashboard notices its input end,
    exits and deletes its subscription within 10 s."""
    process = spawn("serve", WALLBOARD, "--url", simulator.base_url, "--port", "0")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        async with browser() as http:
            socket_url = await open_page(http, url)
            socket = await http.ws_connect(f"{socket_url}?width=100&height=30")
            await _wait_for_subscriptions(simulator, 1)
            process.kill()
            await asyncio.to_thread(process.communicate, timeout=CEILING)
            # The browser's socket is still open on this side: only the dashboard can act.
            assert not socket.closed
            await _wait_for_subscriptions(simulator, 0, DASHBOARD_EXIT_BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


async def _wait_for_subscriptions(
    simulator: RunningSimulator, count: int, timeout: float = CEILING
) -> None:
    """Wait until the simulator holds `count` subscriptions; fail after `timeout` seconds."""
    async with httpx.AsyncClient(trust_env=False) as http:

        async def reached() -> bool:
            state = (await http.get(f"{simulator.base_url}/simulator/state")).json()
            return bool(state["open_subscriptions"] == count)

        await until_async(
            reached, what=f"{count} open subscriptions", timeout=timeout, interval=0.1
        )


def test_a_taken_port_is_one_line(cli: Callable[..., Result], simulator: RunningSimulator) -> None:
    """A port something else listens on is refused in one line, exit 2, and no URL printed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", WALLBOARD, "--url", simulator.base_url, "--port", str(port))
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"statdash serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


@pytest.mark.parametrize("under_nohup", [False, True])
def test_sighup_stops_serve_unless_ignored(simulator: RunningSimulator, under_nohup: bool) -> None:
    """SIGHUP (the terminal closed) stops serve with status 0; under nohup it keeps serving."""

    def ignore_hangups() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    argv = ["serve", WALLBOARD, "--url", simulator.base_url, "--port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "statdash", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        preexec_fn=ignore_hangups if under_nohup else None,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        process.send_signal(signal.SIGHUP)
        if under_nohup:
            # A window for a wrongly handled SIGHUP to end it: nothing to wait for but time.
            time.sleep(1)
            assert process.poll() is None
            # Still serving: the first hop answers (its cookie and a redirect to the clean URL).
            assert httpx.get(url, trust_env=False, timeout=CEILING).status_code == 303
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=CEILING) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


async def test_leftovers_of_an_ended_viewer_are_deleted_or_kept_with_why(tmp_path: Path) -> None:
    """serve's delete of what a killed viewer left recorded: only that pid's records; a
    server that does not answer keeps the record for `cleanup`, and the line says why."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(ended.stdout)
    settings = ServerSettings(
        url="http://127.0.0.1:9", credentials=Credentials(api_key=SecretStr("k"))
    )
    records = SubscriptionRecords(tmp_path / "open-subscriptions.json")
    entries = [
        {
            "server": "http://127.0.0.1:9",
            "subscription_id": "sub-1",
            "pid": dead_pid,
            "opened_at": time.time(),
        },
        {
            "server": "http://127.0.0.1:9",
            "subscription_id": "sub-2",
            "pid": dead_pid + 1,
            "opened_at": time.time(),
        },
    ]
    records.path.write_text(json.dumps(entries), encoding="utf-8")
    assert await serve.delete_leftovers(dead_pid + 2, settings, records, timeout=3) == []
    (line,) = await serve.delete_leftovers(dead_pid, settings, records, timeout=3)
    assert line.startswith("could not delete sub-1 on http://127.0.0.1:9 (")
    assert line.endswith("); it stays recorded for `statdash cleanup`")
    assert {entry.subscription_id for entry in records.entries()} == {"sub-1", "sub-2"}
