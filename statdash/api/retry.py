"""Trying again: which failures are worth it, and how long to wait first, for every caller.

One rule for the two places that retry. The client repeats a call that failed `transient`ly
when its caller gave it a `RetryPolicy` (the one-shot commands do: a single 503 should not be
their answer). The live session does not hand the client one: it retries every failure but
`refused` credentials at its own level, on its own schedule, and shows that schedule on the
status line. Both wait what a `Backoff` says.
"""

from __future__ import annotations

import asyncio
import math
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from statdash.api.errors import (
    AuthenticationError,
    AuthError,
    ConfigError,
    GatewayTimeoutError,
    PermissionDeniedError,
    ServiceUnavailableError,
    StatisticsError,
    TransportError,
)

Jitter = Literal["full", "half", "none"]


def transient(error: StatisticsError) -> bool:
    """Worth sending the same request again soon: no answer came, or a 503 or 504 did.

    The token endpoint counts too when it was unavailable. Any other answer (a 500, a
    malformed body, a refusal) would most likely come again.
    """
    if isinstance(error, TransportError | ServiceUnavailableError | GatewayTimeoutError):
        return True
    return isinstance(error, AuthError) and error.http_status in (503, 504)


def refused(error: StatisticsError) -> bool:
    """The credentials were refused: no retry can help until they change."""
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return True
    # The token endpoint said no (bad client secret, password or grant). Its 5xx and
    # unreadable answers are not a verdict on the credentials.
    return isinstance(error, AuthError) and error.http_status in (400, 401, 403)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Capped exponential delays, jittered, with the server's `Retry-After` winning.

    The longest wait after n consecutive failures (`ceiling`) is `base` for the first
    `steady` of them, then doubles with each further one, never above `cap`. The wait is
    drawn from [0, ceiling] with "full" jitter, from [ceiling/2, ceiling] with "half" (never
    near zero), or is the ceiling itself with "none". `random` is injectable so tests can
    pin the draw.
    """

    base: float
    cap: float = 30.0
    steady: int = 1
    jitter: Jitter = "full"
    random: Callable[[], float] = _random.random

    def __post_init__(self) -> None:
        for name in ("base", "cap"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"retry {name} delay must be a finite number >= 0, got {value}")

    def ceiling(self, failures: int) -> float:
        """The longest wait after `failures` consecutive failures (failures >= 1)."""
        # The exponent is bounded so a shift-long outage cannot overflow the float.
        exponent = min(max(0, failures - self.steady), 64)
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after `failures` consecutive failures; `retry_after` as the server
        asked (capped), when it did."""
        if retry_after is not None:
            return min(retry_after, self.cap)
        ceiling = self.ceiling(failures)
        if self.jitter == "none":
            return ceiling
        draw = min(max(self.random(), 0.0), 1.0)
        if self.jitter == "half":
            return ceiling / 2 + ceiling / 2 * draw
        return ceiling * draw


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently the client repeats a call that failed `transient`ly.

    `attempts` counts every try, the first included (1 = never retry). The wait before try
    n+1 is `Backoff(base=base_delay, cap=max_delay)`'s for n failures: uniform in
    [0, min(max_delay, base_delay * 2**(n-1))] ("full jitter"; without jitter, the upper
    bound itself), or the server's `Retry-After` seconds capped at `max_delay`. `sleep` and
    `random` are injectable so tests run without waiting.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = _random.random
    _backoff: Backoff = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        jitter: Jitter = "full" if self.jitter else "none"
        backoff = Backoff(
            base=self.base_delay, cap=self.max_delay, jitter=jitter, random=self.random
        )
        object.__setattr__(self, "_backoff", backoff)  # frozen: set once, here

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        return self._backoff.delay(attempt, retry_after)
