"""Shared pieces of the reliability tests: statistics, a recorded live run, server truth."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from statdash.api.auth import AuthSource
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.models import SubscriptionItem
from statdash.api.values import StatValue, parse_value
from statdash.live.controller import LiveController, Plan
from statdash.live.session import Phase, SessionStatus
from statdash.live.store import Ingested
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.support.wait import CEILING, until_async

API_KEY = "reliability-key"
# Short, so a fault and its recovery take a second or two of wall time.
INTERVAL = 0.25


def item(statistic_id: str, object_id: str, object_type: str, name: str) -> SubscriptionItem:
    """One predefined statistic of one object."""
    return SubscriptionItem(
        statistic_id=statistic_id, object_id=object_id, object_type=object_type, name=name
    )


# Agent states, counts and fractional figures: every value shape the dashboard reads.
ITEMS: tuple[SubscriptionItem, ...] = (
    item("s1", "ana.silva", "Agent", "CurrentAgentState"),
    item("s2", "ben.novak", "Agent", "CurrentAgentState"),
    item("s3", "ana.silva", "Agent", "InboundCalls"),
    item("s4", "ben.novak", "Agent", "TalkDuration"),
    item("s5", "8001@SIP_Switch", "Queue", "Total_Answered"),
    item("s6", "8001@SIP_Switch", "Queue", "ServiceLevel"),
    item("s7", "Team_01", "GroupAgents", "CurrentReadyAgents"),
)


def server_values(
    sim: RunningSimulator, items: Sequence[SubscriptionItem] = ITEMS
) -> dict[str, StatValue]:
    """What the server says right now, read without a subscription (get-statistic-ex)."""
    body = {
        "data": {
            "statistics": [
                {"objectId": i.object_id, "objectType": i.object_type, "name": i.name}
                for i in items
            ]
        }
    }
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        response = http.post(
            f"{sim.api_url}/operations/get-statistic-ex", json=body, headers={"x-api-key": "k"}
        )
    response.raise_for_status()
    by_ref = {(i.object_id, i.object_type, i.name): i.statistic_id for i in items}
    values: dict[str, StatValue] = {}
    for entry in response.json()["data"]["statistics"]:
        key = (entry["objectId"], entry["objectType"], entry["name"])
        values[by_ref[key]] = parse_value(entry["value"], entry["timestamp"])
    return values


@dataclass
class Seen:
    """One status the session published, when (monotonic), and the values shown at that time."""

    at: float
    status: SessionStatus
    values: dict[str, StatValue]


@dataclass
class LiveRun:
    """A LiveController on a real client against `sim`, recording every status it publishes.

    Use as `async with LiveRun(sim) as run:`; leaving closes the controller (deleting the
    subscription) and the client.
    """

    sim: RunningSimulator
    items: Sequence[SubscriptionItem] = ITEMS
    interval: float = INTERVAL
    records: SubscriptionRecords | None = None
    auth: AuthSource | None = None
    api_key: str = API_KEY
    read_timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    seen: list[Seen] = field(default_factory=list)
    changes: list[Ingested] = field(default_factory=list)

    async def __aenter__(self) -> LiveRun:
        self.client = StatisticsClient(
            self.sim.base_url,
            self.api_key,
            auth=self.auth,
            retry=RetryPolicy(attempts=1),
            read_timeout=self.read_timeout,
            transport=self.transport,
        )
        records, server = self.records, self.client.server
        self.controller = LiveController(
            self.client,
            Plan(self.items, self.interval),
            on_change=self.changes.append,
            on_status=self._status,
            on_opened=(lambda sid: records.add(server, sid)) if records else None,
            on_deleted=(lambda sid: records.remove(server, sid)) if records else None,
        )
        self.controller.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.controller.close()
        await self.client.aclose()

    def _status(self, status: SessionStatus) -> None:
        self.seen.append(Seen(time.monotonic(), status, self.values()))

    @property
    def status(self) -> SessionStatus:
        """The session's current status."""
        return self.controller.status

    def values(self) -> dict[str, StatValue]:
        """The values the store holds now (what the screen shows)."""
        store = self.controller.store
        return {
            i.statistic_id: value
            for i in self.items
            if (value := store.get(i.statistic_id)) is not None
        }

    async def until(self, condition: Callable[[], bool], timeout: float = CEILING) -> float:
        """Wait until `condition()` holds; returns the monotonic time it first held."""
        return await until_async(
            condition, timeout=timeout, interval=0.005, detail=lambda: f"status: {self.status}"
        )

    async def live_with(self, polls: int) -> None:
        """Wait until the session is live and has polled `polls` times in all."""
        await self.until(lambda: self.status.phase is Phase.LIVE and self.status.polls >= polls)

    def first(self, condition: Callable[[Seen], bool], after: float = 0.0) -> Seen:
        """The first recorded status at or after `after` that satisfies `condition`."""
        for seen in self.seen:
            if seen.at >= after and condition(seen):
                return seen
        raise AssertionError("no such status was published")
