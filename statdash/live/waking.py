"""Waits for the loops: a sleep a control (pause, poll now, stop) can cut short, and a bounded
wait for tasks on the way out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection


async def sleep_unless_woken(
    sleep: Callable[[float], Awaitable[None]], seconds: float, wake: asyncio.Event
) -> bool:
    """Sleep `seconds` through `sleep` (injectable, for tests' virtual clocks) unless `wake`
    is set first; True when woken early. Clears `wake` first, so only a new wake counts."""
    wake.clear()
    sleeper = asyncio.ensure_future(sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        done, _ = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
    return waker in done


async def finish_or_cancel(tasks: Collection[asyncio.Task[None]], timeout: float) -> None:
    """Let `tasks` finish within `timeout` seconds, then cancel the ones still running and
    wait for them to end (a quit waits this long at most)."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    for task in late:
        with contextlib.suppress(asyncio.CancelledError):
            await task
