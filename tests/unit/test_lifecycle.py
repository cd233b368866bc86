"""Tests for statdash.lifecycle: signals and a vanished terminal become a clean exit."""

from __future__ import annotations

import asyncio
import os
import pty
import signal

from statdash.lifecycle import install_signal_handlers, terminal_alive, watch_terminal


async def test_sigterm_and_sighup_call_on_exit() -> None:
    """SIGTERM and SIGHUP sent to the process reach the exit callback, not the default action."""
    reasons: list[str] = []
    remove = install_signal_handlers(asyncio.get_running_loop(), reasons.append)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if len(reasons) == 2:
                break
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
    await asyncio.wait_for(watcher, 2)
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
