"""A dashboard process on a pseudo-terminal, as a supervisor's terminal would run it.

The benchmark reads everything the app writes (so it never blocks on a full terminal), notes
when the first frame showing data arrives, and samples the process's CPU and memory from
/proc. "Shows data" means the screen stream holds an agent state word ("Inbound", "Not
ready", "After call"): before the first values arrive every cell shows a dash, and these
words appear only in data rows and the state summary.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from benchkit.simproc import ended_by, proc_cpu_seconds, proc_memory_kib

DATA_MARKERS: tuple[bytes, ...] = (b"Inbound", b"Not ready", b"After call")
_TAIL = 32  # bytes kept between reads, so a marker split across two reads is still seen


class PtyProcess:
    """`argv` started on a new pty of `size` (columns, rows)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        size: tuple[int, int],
        markers: Sequence[bytes] = DATA_MARKERS,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self._env = env
        # `python -m` puts the working directory first on sys.path: a checkout measured
        # with `-m` must be its own working directory, or the caller's statdash runs.
        self._cwd = cwd
        self._size = size
        self._markers = tuple(markers)
        self._process: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._reader: threading.Thread | None = None
        self.started_at = 0.0
        """time.monotonic() just before the process was created."""
        self.first_data_at: float | None = None
        """time.monotonic() when the first data frame was read from the terminal."""
        self.bytes_read = 0
        self._data_seen = threading.Event()

    @property
    def pid(self) -> int:
        """The dashboard's process id."""
        assert self._process is not None
        return self._process.pid

    def start(self) -> PtyProcess:
        """Open the pty, size it, start the process and the reader thread."""
        master, slave = os.openpty()
        columns, rows = self._size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self.started_at = time.monotonic()
        self._process = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self._env,
            cwd=self._cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        tail = b""
        while True:
            try:
                chunk = os.read(self._master, 1 << 16)
            except OSError:
                return  # EIO: the process has gone and the pty is closed
            if not chunk:
                return
            self.bytes_read += len(chunk)
            if self.first_data_at is None:
                window = tail + chunk
                if any(marker in window for marker in self._markers):
                    self.first_data_at = time.monotonic()
                    self._data_seen.set()
                tail = window[-_TAIL:]

    def wait_for_data(self, timeout: float) -> float | None:
        """Seconds from process start to the first data frame, or None after `timeout`."""
        if not self._data_seen.wait(timeout) or self.first_data_at is None:
            return None
        return self.first_data_at - self.started_at

    def send(self, data: bytes) -> None:
        """Type `data` on the terminal (a key press)."""
        os.write(self._master, data)

    def alive(self) -> bool:
        """True while the process runs."""
        return self._process is not None and self._process.poll() is None

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system, all threads) the process has used so far."""
        return proc_cpu_seconds(self.pid)

    def memory_kib(self) -> tuple[int, int]:
        """(resident now, peak resident) in KiB."""
        return proc_memory_kib(self.pid)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the app quits in order and deletes its subscription); kill if it hangs."""
        process = self._process
        if process is None:
            return None
        code = ended_by(process, signal.SIGTERM, timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._master)
        return code
