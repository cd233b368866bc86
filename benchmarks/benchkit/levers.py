"""The levers `perf.py` measures one by one: the code as it is, and the code with one lever off.

A lever is measured only through a public seam; the product has no switch for benchmarks.
One lever is left that way: the session's verbose=OFF polls, turned off by a client whose
peeks ask for INFO whatever the session asks (a subclass overriding a public method). The
one-pass decoding of peeks is measured on the parser itself (`perf.py parse`), and settling
the heap no longer has a switch to turn it off, so neither is a step here. The history of
the earlier levers, measured cumulatively from the code before the performance work, is
kept in docs/performance-levers.md. None of this is imported by statdash itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from statdash.api.client import PeekResult, RetryPolicy, StatisticsClient
from statdash.api.models import Verbose


@dataclass(frozen=True, slots=True)
class Switches:
    """How the dashboard under measurement is built: every lever on unless switched off."""

    verbose_off: bool = True
    """Polls with verbose=OFF; off: names and object ids travel with every value (INFO)."""


ALL_ON = Switches()
"""The code as it is."""


class VerboseInfoClient(StatisticsClient):
    """The client, except that every peek asks for verbose=INFO whatever its caller asks."""

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult:
        """Peek as the client does, with verbose=INFO."""
        return await super().peek_subscription(
            subscription_id, statistic_ids=statistic_ids, verbose="INFO"
        )


def client_for(
    switches: Switches,
    base_url: str,
    api_key: str,
    *,
    retry: RetryPolicy,
    read_timeout: float,
) -> StatisticsClient:
    """The client of the dashboard under measurement, with the client's levers as `switches`."""
    kind = StatisticsClient if switches.verbose_off else VerboseInfoClient
    return kind(base_url, api_key, retry=retry, read_timeout=read_timeout)


@dataclass(frozen=True, slots=True)
class Lever:
    """One step of the lever table: the lever switched off, where it lives, and the switches."""

    name: str
    where: str
    switches: Switches

    @property
    def all_on(self) -> bool:
        """True for the step that is the code as it is."""
        return self.switches == ALL_ON


def lever_steps() -> list[Lever]:
    """The code as it is, then the same with one lever switched off at a time."""
    return [
        Lever("the code as it is (every lever on)", "-", ALL_ON),
        Lever("- verbose=OFF (poll with INFO)", "live/session.py", Switches(verbose_off=False)),
    ]
