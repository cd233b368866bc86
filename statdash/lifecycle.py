"""Exit paths Textual does not handle: SIGTERM, SIGHUP, SIGINT, and the terminal going away.

Textual installs no handler for SIGTERM or SIGHUP, so a closed SSH session would kill the
process with no cleanup, leaving the subscription open and the terminal raw. Here each
signal becomes a call to `on_exit(reason)` (the app then exits normally, which restores the
terminal and deletes the subscription). When SIGHUP is ignored (`nohup`), the hang-up is
noticed instead by polling the terminal: once it is gone, `isatty()` turns false and
`tcgetattr()` fails with EIO.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import termios
from collections.abc import Callable

log = logging.getLogger("statdash")

ExitCallback = Callable[[str], None]

TERMINAL_CHECK_INTERVAL = 1.0


def install_signal_handlers(
    loop: asyncio.AbstractEventLoop, on_exit: ExitCallback
) -> Callable[[], None]:
    """Route SIGTERM, SIGINT and (unless ignored) SIGHUP to `on_exit`; returns an undo."""
    installed: list[signal.Signals] = []
    wanted = [signal.SIGTERM, signal.SIGINT]
    # Under nohup SIGHUP is ignored on purpose; respect that and rely on the terminal watch.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        wanted.append(signal.SIGHUP)
    for signum in wanted:
        try:
            loop.add_signal_handler(signum, on_exit, signum.name)
        except (NotImplementedError, RuntimeError, ValueError):
            # Not the main thread, or a platform without signal support: nothing to route.
            continue
        installed.append(signum)

    def remove() -> None:
        for signum in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)

    return remove


def terminal_alive(fd: int) -> bool:
    """True while `fd` is still a working terminal."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return os.isatty(fd)


async def watch_terminal(
    fd: int, on_exit: ExitCallback, interval: float = TERMINAL_CHECK_INTERVAL
) -> None:
    """Call `on_exit('terminal closed')` once the terminal behind `fd` goes away."""
    if not terminal_alive(fd):
        # Not a terminal to begin with (tests, pipes): nothing to watch.
        return
    while True:
        await asyncio.sleep(interval)
        if not terminal_alive(fd):
            log.info("terminal went away; exiting")
            on_exit("terminal closed")
            return
