"""A viewer's process: started without a shell from its own environment, always ended."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual_serve.app_service import AppService

from statdash.web.viewer import ViewerProcess, viewer_environment
from tests.support.wait import CEILING, until_async

# A process that says it is a Textual app and then ignores everything: quit, and SIGTERM.
# It creates the file named by its argument once SIGTERM is ignored, so the test knows.
STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "open(sys.argv[1], 'w').close()\n"
    "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\n"
    "time.sleep(120)\n"
)


async def _ignore(_data: object) -> None:
    return None


async def _nothing() -> None:
    return None


def viewer(
    argv: list[str],
    environment: dict[str, str],
    quit_grace: float,
    on_stderr: Callable[[str], None] | None = None,
) -> ViewerProcess:
    return ViewerProcess(
        argv,
        environment,
        write_bytes=_ignore,
        write_str=_ignore,
        close=_nothing,
        on_stderr=on_stderr,
        quit_grace=quit_grace,
    )


def test_textual_serve_internals_this_module_relies_on() -> None:
    """AppService still has the private hooks ViewerProcess overrides and sets (pinned 1.1.3)."""
    service = AppService(
        "true",
        write_bytes=_ignore,
        write_str=_ignore,
        close=_nothing,
        download_manager=None,  # type: ignore[arg-type]  # never used: nothing is started
    )
    for name in ("_process", "_stdin", "_task"):
        assert hasattr(service, name), name
    for name in ("_open_app_process", "start", "stop", "run", "send_meta", "send_bytes"):
        assert callable(getattr(AppService, name)), name


def test_the_environment_adds_only_what_the_web_driver_needs() -> None:
    """The viewer's environment is the given one plus Textual's web driver and its size."""
    environment = viewer_environment({"STATDASH_API_KEY": "k", "PATH": "/bin"}, 120, 40)
    assert environment["STATDASH_API_KEY"] == "k"
    assert environment["TEXTUAL_DRIVER"] == "textual.drivers.web_driver:WebDriver"
    assert (environment["COLUMNS"], environment["ROWS"]) == ("120", "40")


async def test_a_process_that_ignores_quit_and_sigterm_is_killed(tmp_path: Path) -> None:
    """A dashboard that answers neither quit nor SIGTERM is killed: stop() always returns."""
    ignoring = tmp_path / "ignoring-sigterm"
    argv = [sys.executable, "-c", STUBBORN, str(ignoring)]
    process = viewer(argv, dict(os.environ), quit_grace=0.5)
    await process.start(80, 24)
    pid = process.pid
    assert pid is not None
    await until_async(ignoring.exists, what="the stubborn process to ignore SIGTERM")
    started = time.monotonic()
    await asyncio.wait_for(process.stop(), CEILING)
    assert time.monotonic() - started < 5
    assert not os.path.exists(f"/proc/{pid}")


async def test_the_process_gets_its_argv_verbatim_and_no_shell(tmp_path: object) -> None:
    """Shell characters in an argument reach the process as they are (no /bin/sh between)."""
    marker = os.path.join(str(tmp_path), "seen")
    script = f"import sys; open({marker!r}, 'w').write(sys.argv[1])"
    odd = "$(touch pwned); `id` > x; 'quoted'"
    process = viewer([sys.executable, "-c", script, odd], dict(os.environ), quit_grace=2)
    await process.start(80, 24)
    # On a busy machine the interpreter may not have started within the quit grace.
    await until_async(lambda: os.path.exists(marker), what="the process to write its argv")
    await asyncio.wait_for(process.stop(), CEILING)
    with open(marker, encoding="utf-8") as seen:
        assert seen.read() == odd


async def test_stderr_goes_to_the_listener_not_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    """Each line the dashboard writes on stderr reaches `on_stderr`; none reaches stdout."""
    heard: list[str] = []
    script = "import sys; sys.stderr.write('statdash run: one\\ntwo\\n')"
    process = viewer([sys.executable, "-c", script], dict(os.environ), 2, heard.append)
    await process.start(80, 24)
    await until_async(lambda: len(heard) >= 2, what="two lines on stderr")
    await asyncio.wait_for(process.stop(), CEILING)
    assert heard == ["statdash run: one", "two"]
    assert "one" not in capfd.readouterr().out
