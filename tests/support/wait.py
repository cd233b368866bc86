"""One bounded wait for a condition: `until` (threads, processes) and `until_async` (a loop).

Tests wait for the event itself, never for a guessed time. The ceiling is generous (CEILING)
because a busy 2-core machine can be many times slower than a quiet one; a condition that
holds returns at once, so the ceiling only costs time when the test is going to fail anyway.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

# Seconds: long enough for a child process to import Textual on a loaded machine.
CEILING = 60.0

Condition = Callable[[], object]
AsyncCondition = Callable[[], object | Awaitable[object]]
Detail = Callable[[], object]


def _failure(what: str, timeout: float, detail: Detail | None) -> AssertionError:
    message = f"{what} did not happen within {timeout:g} s"
    if detail is not None:
        message += f"; {detail()}"
    return AssertionError(message)


def until(
    condition: Condition,
    *,
    what: str = "the condition",
    timeout: float = CEILING,
    interval: float = 0.01,
    detail: Detail | None = None,
) -> float:
    """Poll `condition()` until it is truthy; return the monotonic time it first held.

    Fails the test with "`what` did not happen within `timeout` s" (and `detail()`, e.g. the
    tail of a process's output, when given).
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise _failure(what, timeout, detail)
        time.sleep(interval)


async def until_async(
    condition: AsyncCondition,
    *,
    what: str = "the condition",
    timeout: float = CEILING,
    interval: float = 0.01,
    pilot: Pilot[Any] | None = None,
    detail: Detail | None = None,
) -> float:
    """`until` on an event loop: the loop (or the `pilot`'s app) runs between checks.

    `condition` may be a coroutine function (e.g. one that asks a server). With `pilot`, each
    pause is `pilot.pause(interval)`, so the app under test processes its messages meanwhile.
    With `interval=0` it yields to the loop once per check (for fakes that need no real time).
    """
    deadline = time.monotonic() + timeout
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise _failure(what, timeout, detail)
        if pilot is not None:
            await pilot.pause(interval)
        else:
            await asyncio.sleep(interval)
