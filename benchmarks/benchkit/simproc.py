"""The simulator in its own process for `perf.py`: start it, find its URL, read its CPU, stop it.

It runs the real `statdash sim` command (`python -m statdash sim --port 0 ...`), so the server
never shares an interpreter, a GIL or a garbage collector with what is being measured.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

API_KEY = "perf-bench"
"""The simulator accepts only this key; children get it through STATDASH_API_KEY."""

_URL = re.compile(r"listening on (http://\S+)/statistics/v3")
_START_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def ended_by(process: subprocess.Popen[Any], signum: int, *, timeout: float) -> int:
    """Send `signum` to `process` if it still runs, wait `timeout` seconds for it to end (it
    cleans up in order), then kill it; its exit status."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def proc_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB: resident now, and the peak so far."""
    rss = hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def child_env(state_dir: Path) -> dict[str, str]:
    """The environment for every child: our API key, and no user config or records touched."""
    env = dict(os.environ)
    env.update(
        STATDASH_API_KEY=API_KEY,
        XDG_CONFIG_HOME=str(state_dir / "config"),
        XDG_STATE_HOME=str(state_dir / "state"),
        TERM="xterm-256color",
        COLORTERM="truecolor",
    )
    # A proxy setting must never route loopback traffic elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    return env


class SimProcess:
    """`statdash sim` with `agents`, `queues` and a clock that is realtime or manual."""

    def __init__(
        self,
        agents: int,
        queues: int,
        *,
        env: dict[str, str],
        time_scale: float = 1.0,
        manual_clock: bool = False,
        port: int = 0,
    ) -> None:
        self.agents = agents
        self.queues = queues
        self.time_scale = time_scale
        self.manual_clock = manual_clock
        self.port = port
        """0: any free port (a restart with the port it had keeps its URL)."""
        self._env = env
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._admin: httpx.Client | None = None

    @property
    def command(self) -> list[str]:
        """The command line, as a user would type it (after `python -m`)."""
        argv = [
            "statdash", "sim", "--port", str(self.port), "--agents", str(self.agents),
            "--queues", str(self.queues), "--time-scale", f"{self.time_scale:g}",
        ]  # fmt: skip
        if self.manual_clock:
            argv.append("--manual-clock")
        return argv

    @property
    def pid(self) -> int:
        """The simulator's process id."""
        assert self._process is not None
        return self._process.pid

    def start(self) -> SimProcess:
        """Start it and wait for its 'listening on' line."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", *self.command],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self._env | {"STATDASH_SIM_API_KEY": API_KEY},
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.5)
            if ready:
                line = self._process.stdout.readline()
                found = _URL.search(line)
                if found:
                    self.base_url = found.group(1)
                    self._admin = httpx.Client(base_url=self.base_url, trust_env=False, timeout=60)
                    return self
            if self._process.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the simulator did not start")

    def advance(self, seconds: float) -> None:
        """Move a manual clock on (POST /simulator/advance)."""
        assert self._admin is not None
        self._admin.post("/simulator/advance", json={"seconds": seconds}).raise_for_status()

    def state(self) -> dict[str, Any]:
        """GET /simulator/state: open subscriptions and statistics, request counts, ..."""
        assert self._admin is not None
        response = self._admin.get("/simulator/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def pin(self, object_type: str, object_id: str, name: str, value: object) -> None:
        """Hold a predefined statistic of one object at `value` (POST /simulator/pin)."""
        assert self._admin is not None
        body = {"objectType": object_type, "objectId": object_id, "name": name, "value": value}
        self._admin.post("/simulator/pin", json=body).raise_for_status()

    def kill(self) -> None:
        """SIGKILL: gone at once, everything it held with it."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def cpu_seconds(self) -> float:
        """CPU seconds the simulator has used so far."""
        return proc_cpu_seconds(self.pid)

    def stop(self) -> None:
        """Ctrl+C (uvicorn stops gracefully), then kill if it lingers."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process, self._process = self._process, None
        if process is not None:
            ended_by(process, signal.SIGINT, timeout=10)

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
