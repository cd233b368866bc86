"""Fixtures of the command tests: a clean environment, a demo-sized simulator, CLI runners."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from statdash.cli import add_command_arguments, invoke, main
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.support.sim import SIM_START

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ROOT / "layouts"
# Distinctive, so a leak into any output is found by a plain substring search.
API_KEY = "sd-test-key-7f3a9c41"


@dataclass(frozen=True)
class Result:
    """What one command run left behind: its exit status and both output streams."""

    code: int
    out: str
    err: str


@pytest.fixture
def sim_config() -> SimConfig:
    """The simulator the shipped demo and supervisor layouts are written for (50 / 5)."""
    return SimConfig(agents=50, queues=5, seed=7, clock="manual", start_time=SIM_START)


@pytest.fixture
def floor(simulator: RunningSimulator) -> RunningSimulator:
    """The demo-sized simulator ten minutes in, so counters and states have moved."""
    simulator.advance(600)
    return simulator


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No STATDASH_* of the developer's, the test API key, and config/state dirs in tmp."""
    for name in list(os.environ):
        if name.startswith("STATDASH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STATDASH_API_KEY", API_KEY)
    # The user's config file and default records file must never be read or written.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def records_path(tmp_path: Path) -> Path:
    """Where the command under test keeps its open-subscription records."""
    return tmp_path / "records.json"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `statdash ARGS...` in-process through `statdash.cli.main`."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_command(module: Any, argv: list[str]) -> int:
    """Parse `argv` with one command module's own arguments and run it, as statdash.cli does."""
    command = module.__name__.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser()
    add_command_arguments(command, parser)
    return invoke(command, module.run, parser.parse_args(argv))


def spawn(*argv: str) -> subprocess.Popen[str]:
    """`python -m statdash ARGS...` as a child process, in the test's environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "statdash", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
    )


@dataclass
class WebServer:
    """An ordinary web server on loopback (no Statistics API): every request gets `status`
    and a small HTML page, as `http.server` or a misconfigured proxy would answer."""

    url: str
    status: int = 501
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    """A `WebServer` in a thread; set `.status` to change what it answers."""
    import http.server
    import threading

    server_state = WebServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server_state.requests.append(f"{self.command} {self.path}")
            body = f"<html><body><h1>Error {server_state.status}</h1></body></html>".encode()
            self.send_response(server_state.status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
