"""`read_once`: the record is written before the open is sent, an open whose outcome is
unknown stays recorded, missing values are peeked once, and errors find their statistic."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.errors import RequestTimeoutError
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.responses import ItemError, PeekResult, SubscriptionResult
from statdash.live.subscriptions.oneshot import read_once
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.support.wait import until

from .conftest import API_KEY

ITEMS = (
    SubscriptionItem(
        statistic_id="s1", object_id="ana.silva", object_type="Agent", name="CurrentAgentState"
    ),
    SubscriptionItem(
        statistic_id="s2", object_id="ben.novak", object_type="Agent", name="CurrentAgentState"
    ),
)


def client_for(sim: RunningSimulator, **options: Any) -> StatisticsClient:
    """A one-try client of the simulator."""
    return StatisticsClient(sim.base_url, API_KEY, retry=RetryPolicy(attempts=1), **options)


async def test_record_is_written_before_the_open_is_answered(
    simulator: RunningSimulator, records_path: Path
) -> None:
    """While the open is still on its way the subscription is already recorded, then crossed out."""
    simulator.set_faults(latency_ms={"subscribe": 300})
    records = SubscriptionRecords(records_path)
    async with client_for(simulator) as client:
        task = asyncio.create_task(read_once(client, ITEMS, records=records))
        await asyncio.to_thread(
            until, lambda: simulator.state()["requests"].get("subscribe", 0) >= 1
        )
        during = [entry.subscription_id for entry in records.entries()]
        read = await task
    assert during == [read.subscription_id]
    assert records.entries() == []
    assert set(read.values) == {"s1", "s2"} and read.deleted


async def test_timed_out_open_stays_recorded(
    simulator: RunningSimulator, records_path: Path
) -> None:
    """An open that timed out may still land after our delete, so its record is kept."""
    simulator.set_faults(latency_ms={"subscribe": 400})
    records = SubscriptionRecords(records_path)
    warnings: list[str] = []
    async with client_for(simulator, read_timeout=0.1) as client:
        with pytest.raises(RequestTimeoutError):
            await read_once(client, ITEMS, records=records, warn=warnings.append)
    [entry] = records.entries()
    assert entry.server == simulator.base_url
    assert [w for w in warnings if "did not answer opening" in w] == [
        f"the server did not answer opening subscription {entry.subscription_id}; it was"
        " deleted, but if the open lands late it stays open until `statdash cleanup`"
    ]
    assert simulator.state()["requests"]["delete"] == 1


class HalfAnsweringClient:
    """A client whose open returns one value of two; the peek supplies the other."""

    server = "http://fake"

    def __init__(self) -> None:
        self.peeked: list[Sequence[str] | None] = []
        self.deleted: list[str] = []

    async def open_subscription(
        self, items: Sequence[SubscriptionItem], *, operation_id: str, verbose: str
    ) -> SubscriptionResult:
        value = StatisticValue(statistic_id="s1", value={"intValue": 1, "stringValue": "1"})
        return SubscriptionResult(
            subscription_id=operation_id, operation_id=operation_id, statistics=(value,)
        )

    async def peek_subscription(
        self, subscription_id: str, *, statistic_ids: Sequence[str] | None, verbose: str
    ) -> PeekResult:
        self.peeked.append(statistic_ids)
        value = StatisticValue(statistic_id="s2", value={"intValue": 2, "stringValue": "2"})
        return PeekResult(statistics=(value,))

    async def delete_subscription(self, subscription_id: str) -> None:
        self.deleted.append(subscription_id)


async def test_values_missing_from_the_open_are_peeked_once() -> None:
    """Statistics the open answered with neither a value nor an error are peeked, only they."""
    fake = HalfAnsweringClient()
    read = await read_once(cast(StatisticsClient, fake), ITEMS)
    assert fake.peeked == [["s2"]]
    assert set(read.values) == {"s1", "s2"}
    assert fake.deleted == [read.subscription_id] and read.deleted


async def test_errors_without_an_id_are_placed_by_object_and_name() -> None:
    """A per-item error naming only object and statistic is matched to its statisticId."""

    class RefusingClient(HalfAnsweringClient):
        async def open_subscription(
            self, items: Sequence[SubscriptionItem], *, operation_id: str, verbose: str
        ) -> SubscriptionResult:
            errors = (
                ItemError(
                    code=404,
                    message="no",
                    object_id="ben.novak",
                    object_type="Agent",
                    name="CurrentAgentState",
                ),
                ItemError(code=500, message="who?"),
            )
            value = StatisticValue(statistic_id="s1", value={"intValue": 1})
            return SubscriptionResult(
                subscription_id=operation_id,
                operation_id=operation_id,
                statistics=(value,),
                errors=errors,
                status_code=2,
            )

    fake = RefusingClient()
    read = await read_once(cast(StatisticsClient, fake), ITEMS)
    assert read.refused["s2"].message == "no"
    assert [error.message for error in read.unplaced] == ["who?"]
    assert fake.peeked == []
