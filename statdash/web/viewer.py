"""One browser viewer's dashboard: a `statdash run` process on Textual's web driver, and its end.

textual-serve's `AppService` relays the web driver's packets between the process and the
websocket; this subclass changes how the process starts and stops. It starts from an argument
list (no shell: nothing in the command is ever parsed by /bin/sh) with an environment the
caller built (that is how the server's credentials reach the dashboard: never on its command
line, which `ps` shows to every user). It stops in bounded time: the "quit" the web
driver understands first (the dashboard then deletes its subscription on its way out), then
SIGTERM (which the dashboard also turns into a clean exit), then SIGKILL.

A dashboard too busy to quit in time (a browser flooded it with input: the quit waits behind
every queued key) is killed before it deletes its subscription; serve then deletes what that
process left in the open-subscription records (`WebFront`'s `leftovers`, within
LEFTOVER_TIMEOUT).
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
from asyncio.subprocess import PIPE, Process
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib.metadata import version

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

# After "quit" a dashboard normally deletes its subscription in well under a second; past
# this it is busy or hung, and a signal follows. 4 + 1.5 s, then serve's own delete of what
# it left (LEFTOVER_TIMEOUT, signing in included), stays inside the 10 s a closed tab may
# take to free its subscription.
QUIT_GRACE = 4.0
TERM_GRACE = 1.5
LEFTOVER_TIMEOUT = 3.0
# Input waiting to be written to a dashboard that is not reading it (stopped, hung): past
# this, the browser's input is dropped rather than waited on. Below asyncio's pipe buffer
# high-water mark (64 KiB), so a send never waits: the relay always gets to the tab's close.
MAX_INPUT_BACKLOG = 32 * 1024
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"


def viewer_environment(base: Mapping[str, str], width: int, height: int) -> dict[str, str]:
    """`base` plus what makes Textual draw for a browser (the web driver, its size, colours)."""
    return {
        **base,
        "TEXTUAL_DRIVER": WEB_DRIVER,
        "TEXTUAL_COLOR_SYSTEM": "truecolor",
        "TERM_PROGRAM": "textual",
        "TERM_PROGRAM_VERSION": version("textual-serve"),
        "COLUMNS": str(width),
        "ROWS": str(height),
    }


class ViewerProcess(AppService):
    """A per-viewer dashboard process, started from `argv` with exactly `environment`."""

    def __init__(
        self,
        argv: Sequence[str],
        environment: Mapping[str, str],
        *,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        on_stderr: Callable[[str], None] | None = None,
        quit_grace: float = QUIT_GRACE,
    ) -> None:
        super().__init__(
            shlex.join(argv),
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            # No download route is served: the dashboard delivers no files.
            download_manager=DownloadManager(),
        )
        self._argv = list(argv)
        self._environment = dict(environment)
        self._quit_grace = quit_grace
        self._on_stderr = on_stderr
        self._stderr_task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The dashboard process's id once started."""
        return self._process.pid if self._process is not None else None

    def takes_input(self) -> bool:
        """False while the dashboard has MAX_INPUT_BACKLOG bytes of input it has not read:
        below that, a send returns at once (the relay checks this before each one)."""
        stdin = self._stdin
        if stdin is None or stdin.is_closing():
            return False
        return stdin.transport.get_write_buffer_size() < MAX_INPUT_BACKLOG

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        """Start the dashboard from the argument list, in its own session.

        Its own session, so a Ctrl+C in the serving terminal reaches only the server, which
        then stops every viewer in order instead of all of them dying at once.
        """
        self._process = process = await asyncio.create_subprocess_exec(
            *self._argv,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=viewer_environment(self._environment, width, height),
            start_new_session=True,
        )
        assert process.stdin is not None and process.stderr is not None
        self._stdin = process.stdin
        # AppService would copy the dashboard's stderr onto the server's stdout (where serve
        # prints its URL) once the process ends; read it here, line by line, instead, and
        # give AppService an empty stream.
        self._stderr_task = asyncio.create_task(_read_lines(process.stderr, self._on_stderr))
        nothing = asyncio.StreamReader()
        nothing.feed_eof()
        process.stderr = nothing
        return process

    async def stop(self) -> None:
        """Ask the dashboard to quit, and make sure the process is gone (in at most ~8 s).

        Not `AppService.stop`: that waits for the relay without a bound, and the relay
        swallows cancellation, so a hung dashboard would hang the server with it.
        """
        process, relay = self._process, self._task
        if process is None:
            return
        if process.returncode is None:
            try:
                await asyncio.wait_for(self._quit(process), self._quit_grace)
            except TimeoutError:
                await _end(process)
        if relay is not None:
            # The relay reads until the process's output closes, which it has by now. It can
            # end cancelled with nobody cancelling it: when the process's output is all there
            # before it first waits, textual-serve 1.1.3 cancels its stderr reader before that
            # ever ran, and the cancellation escapes. So wait for it to end, not for its result.
            done, _ = await asyncio.wait({relay}, timeout=TERM_GRACE)
            if not done:
                relay.cancel()
            elif not relay.cancelled():
                relay.result()
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stderr_task, TERM_GRACE)
        self._task = None

    async def _quit(self, process: Process) -> None:
        # Bounded by the caller: a dashboard that stopped reading its input blocks the send.
        await self.send_meta({"type": "quit"})
        await process.wait()


async def _read_lines(stream: asyncio.StreamReader, hear: Callable[[str], None] | None) -> None:
    """Hand each line of `stream` to `hear` (or drop it) until the stream ends."""
    while line := await stream.readline():
        if hear is not None:
            hear(line.decode("utf-8", "replace").rstrip("\n"))


async def _end(process: Process) -> None:
    """SIGTERM, a short wait, then SIGKILL: the process is reaped when this returns."""
    for signum, grace in ((signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        try:
            await asyncio.wait_for(process.wait(), grace)
            return
        except TimeoutError:
            continue
