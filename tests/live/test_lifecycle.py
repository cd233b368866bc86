"""Tests for statdash.lifecycle: signals and a vanished terminal become a clean exit."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

from statdash.lifecycle import hung_up, install_signal_handlers, terminal_alive, watch_terminal
from tests.support.wait import CEILING, until_async


async def test_sigterm_and_sighup_call_on_exit() -> None:
    """SIGTERM and SIGHUP sent to the process reach the exit callback, not the default action."""
    reasons: list[str] = []
    remove = install_signal_handlers(asyncio.get_running_loop(), reasons.append)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)
        await until_async(lambda: len(reasons) == 2, what="both signals handled")
    finally:
        remove()
    assert reasons == ["SIGTERM", "SIGHUP"]


async def test_ignored_sighup_is_left_ignored() -> None:
    """Under nohup (SIGHUP ignored) no SIGHUP handler is installed."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        remove = install_signal_handlers(asyncio.get_running_loop(), lambda reason: None)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        remove()
    finally:
        signal.signal(signal.SIGHUP, previous)


async def test_terminal_watch_notices_a_closed_terminal() -> None:
    """When the terminal's master side closes, the watch calls on_exit within its interval."""
    master, slave = pty.openpty()
    reasons: list[str] = []
    assert terminal_alive(slave)
    watcher = asyncio.create_task(watch_terminal(slave, reasons.append, interval=0.01))
    await asyncio.sleep(0.05)
    assert reasons == []
    os.close(master)
    await asyncio.wait_for(watcher, CEILING)
    os.close(slave)
    assert reasons == ["terminal closed"]


async def test_no_terminal_means_no_watch() -> None:
    """A pipe is not a terminal, so the watch returns at once without calling on_exit."""
    read_end, write_end = os.pipe()
    reasons: list[str] = []
    await asyncio.wait_for(watch_terminal(read_end, reasons.append, interval=0.01), 1)
    os.close(read_end)
    os.close(write_end)
    assert reasons == []


def test_hung_up_tells_a_dead_terminal_from_anything_else(tmp_path: Path) -> None:
    """Only a terminal whose other side went away counts as hung up: not a live terminal,
    a file, a pipe or /dev/null."""
    master, slave = pty.openpty()
    read_end, write_end = os.pipe()
    with (tmp_path / "f").open("w") as file, open(os.devnull, "w") as null:
        assert not any(hung_up(fd) for fd in (slave, read_end, file.fileno(), null.fileno()))
    os.close(master)
    assert hung_up(slave)
    for fd in (slave, read_end, write_end):
        os.close(fd)


DETACH_CHILD = """
import os, pty, sys
from statdash.lifecycle import detach_hung_up_terminal
master, slave = pty.openpty()
os.dup2(slave, 1)
os.dup2(slave, 2)
os.close(master)
report = os.fdopen(int(sys.argv[1]), "w")
report.write(f"detached={detach_hung_up_terminal()} ")
os.write(1, b"after the hang-up")
os.write(2, b"after the hang-up")
report.write("writes ok")
"""


def test_detach_makes_writes_to_a_hung_up_terminal_harmless() -> None:
    """After the terminal hangs up, detaching points stdout and stderr at /dev/null, so late
    writes (last frames, a traceback) succeed instead of failing with EIO."""
    read_end, write_end = os.pipe()
    child = subprocess.run(
        [sys.executable, "-c", DETACH_CHILD, str(write_end)],
        pass_fds=(write_end,),
        timeout=CEILING,
        check=False,
    )
    os.close(write_end)
    with os.fdopen(read_end) as report:
        assert report.read() == "detached=True writes ok"
    assert child.returncode == 0
