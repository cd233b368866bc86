"""A sleep that a control (pause, poll now, stop) can cut short: one helper for the loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


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
