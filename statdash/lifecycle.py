"""Exit paths Textual does not handle: SIGTERM, SIGHUP, SIGINT, and the terminal going away.

No Textual here: the dashboard (`statdash.ui`) and the headless commands (`snapshot`) share it.

Textual installs no handler for SIGTERM or SIGHUP, so a closed SSH session would kill the
process with no cleanup, leaving the subscription open and the terminal raw. Here each
signal becomes a call to `on_exit(reason)` (the app then exits normally, which restores the
terminal and deletes the subscription). When SIGHUP is ignored (`nohup`), the hang-up is
noticed instead by polling the terminal: once it is gone, `isatty()` turns false and
`tcgetattr()` fails with EIO.

A hung-up terminal fails every write with EIO. Whatever still writes on the way out (the
UI's last frames, an error console, a final traceback) must not fail or block because of
that, so `detach_hung_up_terminal()` points stdout and stderr at /dev/null once the terminal
is gone; the SIGHUP handler and the terminal watch call it before asking the app to exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
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
            loop.add_signal_handler(signum, _on_signal, signum, on_exit)
        except (NotImplementedError, RuntimeError, ValueError):
            # Not the main thread, or a platform without signal support: nothing to route.
            continue
        installed.append(signum)

    def remove() -> None:
        for signum in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)

    return remove


def _on_signal(signum: signal.Signals, on_exit: ExitCallback) -> None:
    if signum is signal.SIGHUP:
        # A real hang-up (not `kill -HUP`): later writes must not fail on the dead terminal.
        detach_hung_up_terminal()
    on_exit(signum.name)


def hung_up(fd: int) -> bool:
    """True when `fd` is a terminal that has been hung up (its other side went away)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as error:
        # ENOTTY means "not a terminal" (a file, a pipe, /dev/null): not a hang-up.
        return bool(error.args and error.args[0] == errno.EIO)
    except OSError as error:
        return error.errno == errno.EIO
    return False


def detach_hung_up_terminal() -> bool:
    """Point stdout and stderr at /dev/null where they are a hung-up terminal; True if any were."""
    dead = [fd for fd in (1, 2) if hung_up(fd)]
    if not dead:
        return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in dead:
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    return True


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
            detach_hung_up_terminal()
            on_exit("terminal closed")
            return
