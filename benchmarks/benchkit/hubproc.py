"""The hub and headless clients in their own processes for `hub.py`: start, sample, kill, stop.

The hub is the real `statdash hub` command, so it never shares an interpreter with what is
measured; the clients are `client_worker.py` processes, many sessions each.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchkit.simproc import SimProcess, ended_by, proc_cpu_seconds, proc_memory_kib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
READY_LINE = "hub up on namespace"
START_TIMEOUT = 60.0
CLEANUP_TIMEOUT = 30.0


class _Child:
    """What the benchmark reads of a child process: its id, CPU, memory; and SIGKILL."""

    _process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float:
        """CPU seconds the child has used so far."""
        return proc_cpu_seconds(self.pid)

    def rss_mib(self) -> float:
        """Resident memory now, MiB."""
        return proc_memory_kib(self.pid)[0] / 1024

    def kill(self) -> None:
        """SIGKILL: no goodbye (a hub's upstream subscriptions, a worker's sessions stay)."""
        process, self._process = self._process, None
        if process is not None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


class HubProcess(_Child):
    """A hub for the simulator at `api_url` on the NATS server at `nats_url`."""

    def __init__(
        self,
        api_url: str,
        nats_url: str,
        *,
        env: dict[str, str],
        namespace: str,
        interval: float,
        grace: float,
        records: Path,
        updates: str = "auto",
    ) -> None:
        self.argv = [
            sys.executable, "-m", "statdash", "hub", "--url", api_url, "--nats", nats_url,
            "--namespace", namespace,
            "--interval", f"{interval:g}", "--updates", updates, "--grace", f"{grace:g}",
            "--records", str(records),
        ]  # fmt: skip
        self._env = env
        self._process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self.lines: list[str] = []
        """Everything the hub said, in order (its log: subscriptions opened, closed...)."""

    def start(self) -> HubProcess:
        """Start it and wait until it says it listens."""
        self._ready.clear()
        self._process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self._env,
            cwd=ROOT,
        )
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the hub did not start: {self.lines[-5:]}")
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip())
            if READY_LINE in line:
                self._ready.set()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (the hub deletes every upstream subscription); kill if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return None
        return ended_by(process, signal.SIGTERM, timeout=timeout)


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float | None:
    """Seconds until `condition()` is true, or None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    return None


class ClientProcess(_Child):
    """`client_worker.py`: headless sessions for some teams, direct or through the hub."""

    def __init__(
        self,
        mode: str,
        url: str,
        layouts: Path,
        teams: list[int],
        *,
        env: dict[str, str],
        namespace: str = "main",
    ) -> None:
        self.mode = mode
        self.teams = teams
        self.argv = [
            sys.executable, str(HERE / "client_worker.py"), mode, url, str(layouts),
            *map(str, teams), "--namespace", namespace,
        ]  # fmt: skip
        self._env = env
        self._process: subprocess.Popen[str] | None = None
        self.started_at = 0.0
        self.framed: dict[int, float] = {}
        """client index -> monotonic time of its first full frame."""
        self.seen: dict[int, list[float]] = {}
        """watch tag -> monotonic times at which its clients showed the value."""
        self.armed: dict[int, int] = {}
        self.statuses: list[list[list[str]]] = []
        self._lock = threading.Lock()

    def start(self) -> ClientProcess:
        """Start the worker (its sessions start at once)."""
        self.started_at = time.monotonic()
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self._env,
            cwd=ROOT,
        )
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                if "framed" in record:
                    self.framed[int(record["framed"])] = float(record["at"])
                elif "seen" in record:
                    self.seen.setdefault(int(record["seen"]), []).append(float(record["at"]))
                elif "armed" in record:
                    self.armed[int(record["armed"])] = int(record["clients"])
                elif "status" in record:
                    self.statuses.append(record["status"])

    def send(self, order: dict[str, object]) -> None:
        """One line to the worker."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(order) + "\n")
        self._process.stdin.flush()

    def watch(self, tag: int, object_id: str, name: str, value: float) -> int:
        """Arm a watch on every client that has the statistic; how many did."""
        self.send({"watch": tag, "object": object_id, "name": name, "value": value})
        if wait_until(lambda: tag in self.armed, 30.0) is None:
            raise RuntimeError("a client worker did not answer a watch")
        return self.armed[tag]

    def all_framed(self) -> bool:
        """Every client has shown a full frame."""
        return len(self.framed) == len(self.teams)

    def stop(self, timeout: float = 60.0) -> int | None:
        """Ask it to close every session and exit; kill it if it hangs."""
        process = self._process
        if process is None:
            return None
        try:
            self.send({"stop": 1})
            process.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        self._process = None
        return process.returncode


def stop_all(workers: list[ClientProcess]) -> None:
    """Ask every worker to stop at once (they close their sessions side by side), then wait."""
    for worker in workers:
        with contextlib.suppress(OSError, AssertionError):
            worker.send({"stop": 1})
    for worker in workers:
        worker.stop()


def left_open(sim: SimProcess) -> int:
    """Subscriptions the simulator still holds once everything stopped (waits up to
    `CLEANUP_TIMEOUT` for the last deletes to land)."""
    wait_until(lambda: sim.state()["open_subscriptions"] == 0, CLEANUP_TIMEOUT, 0.5)
    return int(sim.state()["open_subscriptions"])
