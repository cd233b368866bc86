"""The one pty driver: a statdash process on its own pseudo-terminal, for exit-path and
terminal-safety tests.

The child gets the pty as its controlling terminal (so closing the master side hangs it up
like a dropped SSH session), an isolated config and state directory, and nothing from the
caller's `STATDASH_*` environment. A thread drains the master side into `output`, because
Textual writes the whole screen there (stdout and stderr both) and would block on a full pty.
`screen_text()` is what the terminal shows: a frame sends only the cells that changed, so a
word on screen need not be in the output whole (the status line's "hub: push" after "hub
connecting" arrives as the cells after "hub").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyte

from tests.support.wait import CEILING, until

# Runs in the child before statdash: optionally ignore SIGHUP (what `nohup` does: an ignored
# disposition survives exec), make the pty the controlling terminal, then become statdash.
_LAUNCHER = (
    "import fcntl, os, signal, sys, termios\n"
    "if sys.argv[1] == 'nohup':\n"
    "    signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'statdash', *sys.argv[2:]])\n"
)

ALT_SCREEN_OFF = b"\x1b[?1049l"
ALT_SCREEN_ON = b"\x1b[?1049h"
# The checkout these tests belong to: children import statdash from it, like the tests do.
ROOT = Path(__file__).resolve().parents[2]


def child_environment(
    home: Path, extra: Mapping[str, str] | None = None, *, hooks: Sequence[Path] = ()
) -> dict[str, str]:
    """The caller's environment minus anything statdash or Textual reads, plus private dirs.

    `hooks` are directories put first on the child's PYTHONPATH (e.g. a test's
    `sitecustomize.py`).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STATDASH_", "TEXTUAL", "XDG_")) and key != "PYTHONPATH"
    }
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(str(path) for path in (*hooks, ROOT)),
        }
    )
    env.update(extra or {})
    return env


def catches_signal(pid: int, signum: int) -> bool:
    """True once process `pid` has a handler for `signum` (Linux: SigCgt in /proc/PID/status).

    How a test knows a child is far enough along to handle a signal, with no output to wait
    for; False when the process is gone.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except OSError:
        return False
    return False


class PtyApp:
    """One `python -m statdash ARGS` child on a fresh pty of `size` (columns, rows)."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        size: tuple[int, int] = (100, 30),
        nohup: bool = False,
        cwd: Path | None = None,
    ) -> None:
        self.master, self.slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.cooked = termios.tcgetattr(self.slave)
        self._output = bytearray()
        self._lock = threading.Lock()
        # The terminal the output is played on, fed up to `_shown` bytes of it.
        self._screen = pyte.Screen(columns, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._shown = 0
        self._master_open = True
        self._reading = True
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, "nohup" if nohup else "-", *args],
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        self._reader = threading.Thread(target=self._drain, name="pty-reader", daemon=True)
        self._reader.start()

    # --- output -----------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._master_open or not self._reading:
                    return
                master = self.master
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                chunk = os.read(master, 65536) if ready else b""
            except OSError:
                return
            if chunk:
                with self._lock:
                    self._output.extend(chunk)

    @property
    def output(self) -> bytes:
        """Every byte the child wrote to its terminal so far."""
        with self._lock:
            return bytes(self._output)

    def screen_text(self) -> str:
        """The screen as the terminal shows it now, its lines joined by newlines (played
        from the output so far, the new part only each time)."""
        with self._lock:
            new = bytes(self._output[self._shown :])
            self._shown = len(self._output)
        self._stream.feed(new)
        return "\n".join(self._screen.display)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = CEILING) -> None:
        """Wait until `condition()` holds or the child exits; fail naming `what`, with the
        output's tail."""
        until(
            lambda: condition() or self.process.poll() is not None,
            what=what,
            timeout=timeout,
            detail=self._tail,
        )
        if not condition():
            raise AssertionError(f"{what} did not happen: {self._tail()}")

    def _tail(self) -> str:
        tail = self.output[-1500:].decode("utf-8", "replace")
        return f"exit code {self.process.poll()}; output ends: {tail!r}"

    def finish_output(self) -> bytes:
        """Every byte the child wrote, once it has exited: the reader thread is stopped and
        what it had not yet taken is read here, so nothing depends on its timing."""
        with self._lock:
            self._reading = False
            master_open = self._master_open
        self._reader.join(timeout=CEILING)
        while master_open and select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            with self._lock:
                self._output.extend(chunk)
        return self.output

    # --- input and ending -------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Type `data` on the terminal."""
        os.write(self.master, data)

    def kill(self, signum: signal.Signals) -> None:
        """Send `signum` to the child process."""
        self.process.send_signal(signum)

    def hang_up(self) -> None:
        """Close the master side, as a terminal window or SSH connection going away does."""
        with self._lock:
            self._master_open = False
            master = self.master
        self._reader.join(timeout=CEILING)
        os.close(master)

    def wait_exit(self, timeout: float = CEILING) -> int:
        """The exit code, after waiting up to `timeout` seconds (fails the test on timeout)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"statdash did not exit within {timeout:.0f} s") from None

    def terminal_is_cooked(self) -> bool:
        """True when the terminal's modes are back to what they were before the child ran."""
        now = termios.tcgetattr(self.slave)
        lflag = termios.ICANON | termios.ECHO | termios.ISIG
        return bool(now[3] & lflag == self.cooked[3] & lflag) and now[0] == self.cooked[0]

    def close(self) -> None:
        """Kill the child if it still runs and release the pty (idempotent)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        if self._master_open:
            self.hang_up()
        with contextlib.suppress(OSError):
            os.close(self.slave)
