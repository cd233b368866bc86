"""The dashboard process of `perf.py`'s stall runs: `statdash run`, plus a loop-lag probe.

    python benchmarks/benchkit/dash_worker.py LAYOUT URL PROBE_FILE|- [--updates auto|push|poll]
                                              [--probe-on-signal]

It does what `statdash run LAYOUT --url URL` does (load the layout, resolve the server from
the environment, `run_dashboard` with subscription records) and, on the same event loop, runs
a probe: a task that sleeps 5 ms again and again and records how late it wakes. A wake-up
that is late by X ms means the loop was busy for X ms, which is what a keypress would have
waited. With each lag it records the CPU time the process used meanwhile, which tells a busy
process from one the operating system did not schedule. `-` instead of a probe file runs
without the probe. The probe file also holds the response body bytes the dashboard's HTTP
client received (as they came off the socket, before decompression; headers not counted).

The probe is not free: 200 wake-ups a second cost about 2.5% of a core here, more than a
paused screen itself. With `--probe-on-signal` it starts only when the process gets SIGUSR1,
so that a window before the signal measures the dashboard's CPU without it (`perf.py
screen-cost` measures CPU and bytes first, then starts the probe for the stalls).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import httpx

from statdash.commands.common import load_compiled
from statdash.commands.server_options import resolve_server
from statdash.commands.voice import Voice
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.ui.start import run_dashboard

PROBE_SLEEP = 0.005
PROBE_START_SIGNAL = signal.SIGUSR1
"""What starts a probe created with `on_signal`."""
FLUSH_SECONDS = 1.0
received = 0
"""Response body bytes received so far, by every request of the process."""


class _CountedStream(httpx.AsyncByteStream):
    """A response stream that adds what passes through it to `received`."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        global received
        async for chunk in self._inner:
            received += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def count_received_bytes() -> None:
    """Wrap every response of httpx's async transport in a counting stream."""
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def counted(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        response = await original(self, request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CountedStream(response.stream)
        return response

    httpx.AsyncHTTPTransport.handle_async_request = counted  # type: ignore[method-assign]


def server_arguments() -> Callable[[argparse.ArgumentParser], None]:
    """`add_server_arguments` of the statdash imported: in `commands/arguments/server.py`
    since 90c5fbf, in `commands/server_options.py` before it, so that an older checkout can
    still be measured (`perf.py screen-cost --code before=DIR`)."""
    for name in ("statdash.commands.arguments.server", "statdash.commands.server_options"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, "add_server_arguments"):
            return cast(Callable[[argparse.ArgumentParser], None], module.add_server_arguments)
    raise ImportError("this statdash has no add_server_arguments")


async def probe(path: Path, start: asyncio.Event | None = None) -> None:
    """Record (monotonic time, lag seconds, process CPU seconds) of every late wake-up, from
    when `start` is set (at once without it)."""
    if start is not None:
        await start.wait()
    samples: list[tuple[float, float, float]] = []
    wakeups = 0
    last_flush = time.monotonic()
    while True:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(PROBE_SLEEP)
        lag = time.perf_counter() - started - PROBE_SLEEP
        wakeups += 1
        if lag >= 0.002:
            # Wake-ups on time are only counted: 200 a second would bloat the file.
            samples.append((time.monotonic(), lag, time.process_time() - cpu))
        now = time.monotonic()
        if now - last_flush >= FLUSH_SECONDS:
            last_flush = now
            temporary = path.with_suffix(".tmp")
            record = {"wakeups": wakeups, "late": samples, "received": received, "at": now}
            temporary.write_text(json.dumps(record))
            os.replace(temporary, path)


def start_probe(path: Path, *, on_signal: bool = False) -> asyncio.Task[None]:
    """The probe as a task of the running loop; with `on_signal` it waits for
    `PROBE_START_SIGNAL` before its first wake-up."""
    loop = asyncio.get_running_loop()
    start = None
    if on_signal:
        start = asyncio.Event()
        loop.add_signal_handler(PROBE_START_SIGNAL, start.set)
    return loop.create_task(probe(path, start))


async def main(
    layout_path: Path,
    url: str,
    probe_path: Path | None,
    updates: str | None = None,
    *,
    probe_on_signal: bool = False,
) -> int:
    """Run the dashboard with the probe on its loop."""
    voice = Voice("perf_dash")
    layout = load_compiled(layout_path)
    if layout is None:
        return 2
    # The same flags and environment `statdash run` resolves (the key is in the environment).
    parser = argparse.ArgumentParser()
    server_arguments()(parser)
    settings = resolve_server(parser.parse_args(["--url", url]), voice=voice)
    task = None if probe_path is None else start_probe(probe_path, on_signal=probe_on_signal)
    try:
        return await run_dashboard(
            layout,
            settings,
            layout_path=layout_path,
            records=SubscriptionRecords(),
            updates=updates,  # type: ignore[arg-type]
            say=voice.say,
        )
    finally:
        if task is not None:
            task.cancel()


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments.add_argument("layout", type=Path)
    arguments.add_argument("url")
    arguments.add_argument("probe", help="probe output file, or - for no probe")
    arguments.add_argument("--updates", choices=("auto", "push", "poll"))
    arguments.add_argument(
        "--probe-on-signal", action="store_true", help="start the probe at SIGUSR1, not at once"
    )
    options = arguments.parse_args()
    probe_file = None if options.probe == "-" else Path(options.probe)
    count_received_bytes()
    sys.exit(
        asyncio.run(
            main(
                options.layout,
                options.url,
                probe_file,
                options.updates,
                probe_on_signal=options.probe_on_signal,
            )
        )
    )
