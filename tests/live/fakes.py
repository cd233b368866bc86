"""Fakes for live-session tests: a virtual clock and a scripted Statistics API client."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from statdash.api import errors
from statdash.api.models import StatisticValue, SubscriptionItem, Verbose


class VirtualClock:
    """Monotonic time that only moves when the session sleeps (or a fake call takes time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await asyncio.sleep(0)


@dataclass
class FakeItemError:
    statistic_id: str | None
    code: int | None
    message: str


@dataclass
class FakeSubscription:
    subscription_id: str
    statistics: Sequence[StatisticValue]
    errors: Sequence[FakeItemError] = ()


@dataclass
class FakePeek:
    statistics: Sequence[StatisticValue]


@dataclass
class FakeClient:
    """Scripted server: `peek_failures` are raised in order before peeks succeed."""

    clock: VirtualClock
    peek_failures: list[errors.StatisticsError] = field(default_factory=list)
    peek_duration: float = 0.0
    subscribe_errors: Sequence[FakeItemError] = ()
    subscribe_failures: list[errors.StatisticsError] = field(default_factory=list)
    delete_hangs: bool = False
    delete_failures: list[errors.StatisticsError] = field(default_factory=list)
    peek_gate: asyncio.Event | None = None
    """When set, a peek waits for it (a request in flight) before answering."""
    calls: list[tuple[str, float]] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    operation_ids: list[str | None] = field(default_factory=list)

    async def open_subscription(
        self,
        items: Sequence[SubscriptionItem],
        *,
        operation_id: str | None = None,
        verbose: Verbose = "INFO",
    ) -> FakeSubscription:
        self.calls.append(("open", self.clock.now))
        self.operation_ids.append(operation_id)
        if self.subscribe_failures:
            raise self.subscribe_failures.pop(0)
        subscription_id = f"sub{len(self.opened) + 1}"
        self.opened.append(subscription_id)
        return FakeSubscription(subscription_id, [_value("a", 0)], self.subscribe_errors)

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> FakePeek:
        self.calls.append(("peek", self.clock.now))
        self.clock.now += self.peek_duration
        if self.peek_gate is not None:
            await self.peek_gate.wait()
        if self.peek_failures:
            raise self.peek_failures.pop(0)
        return FakePeek([_value("a", len(self.calls))])

    async def delete_subscription(self, subscription_id: str) -> None:
        self.calls.append(("delete", self.clock.now))
        if self.delete_hangs:
            await asyncio.sleep(3600)
        if self.delete_failures:
            raise self.delete_failures.pop(0)
        self.deleted.append(subscription_id)


def _value(statistic_id: str, number: int) -> StatisticValue:
    return StatisticValue(statistic_id=statistic_id, value={"intValue": number})


@dataclass
class LargeClient(FakeClient):
    """A scripted server whose every answer (the subscribe reply and each peek) carries
    `size` statistics `s0`..`s<size-1>`, all of them with a value new to each answer."""

    size: int = 0

    async def open_subscription(
        self,
        items: Sequence[SubscriptionItem],
        *,
        operation_id: str | None = None,
        verbose: Verbose = "INFO",
    ) -> FakeSubscription:
        opened = await super().open_subscription(items, operation_id=operation_id)
        return FakeSubscription(opened.subscription_id, self._answer())

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> FakePeek:
        await super().peek_subscription(subscription_id)
        return FakePeek(self._answer())

    def _answer(self) -> list[StatisticValue]:
        number = len(self.calls)
        return [_value(f"s{index}", number) for index in range(self.size)]
