"""Dashboards through a real hub on a real simulator: the live controller, end to end.

Two dashboards whose layouts overlap open their statistics through one hub: the simulator
sees the union opened once, both show what the simulator has, a change reaches both by push,
and once both have gone (and the grace period has passed) nothing is left open upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from statdash.api.client import StatisticsClient
from statdash.api.models import SubscriptionItem
from statdash.api.settings import HubSettings
from statdash.api.values import AgentStateValue, NumberValue
from statdash.hub import collector, protocol
from statdash.hub.client import HubChannel, HubClient, HubLink
from statdash.hub.collector import Hub
from statdash.hub.connection import close, connect
from statdash.hub.natsd import LocalNats, free_port, start_nats
from statdash.hub.protocol import Subjects
from statdash.live.controller import LiveController, Plan
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.hub.support import nats_client, new_subjects, pin, unpin_all
from tests.support.nats import require_nats_server, shared_nats
from tests.support.sim import assert_nothing_left_open, open_subscriptions, shared_simulator
from tests.support.wait import until_async

simulator = shared_simulator(SimConfig(agents=12, queues=3, seed=11))
nats = shared_nats()
GRACE = 0.3


@dataclass
class Floor:
    """A hub serving the simulator, and how dashboards reach it."""

    hub: Hub
    settings: HubSettings


@pytest.fixture
async def floor(
    simulator: RunningSimulator, nats: LocalNats, tmp_path: Path
) -> AsyncIterator[Floor]:
    subjects: Subjects = new_subjects()
    async with (
        StatisticsClient(simulator.base_url, "test-key") as client,
        nats_client(nats) as connection,
    ):
        hub = Hub(
            client,
            connection,
            subjects,
            interval=1.0,
            updates="auto",
            grace=GRACE,
            records=SubscriptionRecords(tmp_path / "hub-records.json"),
            tick=0.1,
        )
        serving = asyncio.get_running_loop().create_task(hub.run())
        try:
            yield Floor(hub, HubSettings(url=nats.url, namespace=subjects.namespace))
        finally:
            hub.stop()
            await serving
    unpin_all(simulator)
    assert_nothing_left_open(simulator)


def _agents(simulator: RunningSimulator) -> list[str]:
    agents: list[str] = simulator.state()["objects"]["Agent"]
    return agents


def _items(prefix: str, agents: list[str]) -> list[SubscriptionItem]:
    return [
        SubscriptionItem(
            statistic_id=f"{prefix}:{agent}:{name}",
            object_id=agent,
            object_type="Agent",
            name=name,
        )
        for agent in agents
        for name in ("CurrentAgentState", "InboundCalls")
    ]


def _dashboard(floor: Floor, items: list[SubscriptionItem]) -> LiveController:
    link = HubLink(floor.settings, lease_seconds=3.0)
    controller = LiveController(
        HubClient(link),
        Plan(items, 1.0, updates="auto"),
        on_change=lambda ingested: None,
        on_status=lambda status: None,
        open_channel=lambda: HubChannel(link),
    )
    controller.start()
    return controller


async def _close(controller: LiveController) -> None:
    await controller.close()
    client = controller._client
    assert isinstance(client, HubClient)
    await client.aclose()


def _missing(controller: LiveController) -> list[str]:
    items = controller.plan.items
    return [item.statistic_id for item in items if controller.store.get(item.statistic_id) is None]


def _calls(controller: LiveController, statistic_id: str) -> float | None:
    value = controller.store.get(statistic_id)
    return value.number if isinstance(value, NumberValue) else None


async def test_two_dashboards_share_one_upstream_and_see_the_same_changes(
    floor: Floor, simulator: RunningSimulator
) -> None:
    """The union is opened once (a subscription per new set), each sees every value, a
    pinned change reaches both by push, and their leaving closes everything upstream."""
    agents = _agents(simulator)
    first = _dashboard(floor, _items("team1", agents[:8]))
    second = _dashboard(floor, _items("team2", agents[4:]))
    try:
        await until_async(
            lambda: first.status.updates == "hub: push" and second.status.updates == "hub: push",
            what="both dashboards on the hub's push",
        )
        await until_async(
            lambda: not _missing(first) and not _missing(second),
            what="every value of both layouts",
            detail=lambda: (_missing(first), _missing(second)),
        )
        upstream = open_subscriptions(simulator)
        # 12 agents x 2 statistics, each opened once, in at most one subscription per set.
        assert sum(len(ids) for ids in upstream.values()) == 24
        assert len(upstream) <= 2
        shared = agents[5]
        assert isinstance(first.store.get(f"team1:{shared}:CurrentAgentState"), AgentStateValue)
        pin(simulator, "Agent", shared, "InboundCalls", 4321)
        await until_async(
            lambda: (
                _calls(first, f"team1:{shared}:InboundCalls") == 4321
                and _calls(second, f"team2:{shared}:InboundCalls") == 4321
            ),
            what="the pinned figure on both dashboards",
        )
    finally:
        await _close(first)
        await _close(second)
    await until_async(
        lambda: not open_subscriptions(simulator), what="the hub closing what nobody needs"
    )


async def test_a_dashboard_outlives_a_restarted_hub(
    simulator: RunningSimulator, nats: LocalNats, tmp_path: Path
) -> None:
    """The hub goes away (the dashboard goes stale: the hub is lost) and a new one starts:
    the dashboard declares again by itself and is live on the new hub, no restart."""
    subjects = new_subjects()
    settings = HubSettings(url=nats.url, namespace=subjects.namespace)
    agents = _agents(simulator)
    records = SubscriptionRecords(tmp_path / "hub-records.json")
    async with StatisticsClient(simulator.base_url, "test-key") as client:
        first_hub = await _serving(client, nats, subjects, records)
        dashboard = _dashboard(Floor(first_hub.hub, settings), _items("team", agents[:3]))
        try:
            await until_async(lambda: not _missing(dashboard), what="the first frame")
            await first_hub.stop()
            await until_async(
                lambda: dashboard.status.updates.startswith("hub lost"),
                what="the dashboard saying the hub is lost",
            )
            second_hub = await _serving(client, nats, subjects, records)
            try:
                await until_async(
                    lambda: dashboard.status.updates == "hub: push" and second_hub.hub.clients == 1,
                    what="the dashboard back on the new hub",
                )
                pin(simulator, "Agent", agents[1], "InboundCalls", 77)
                await until_async(
                    lambda: _calls(dashboard, f"team:{agents[1]}:InboundCalls") == 77,
                    what="a change through the new hub",
                )
            finally:
                await _close(dashboard)
                await second_hub.stop()
        finally:
            unpin_all(simulator)
    assert_nothing_left_open(simulator)


@dataclass
class _Serving:
    """A hub serving in a task, on a NATS connection of its own."""

    hub: Hub
    task: asyncio.Task[None]
    connection: NatsClient

    async def stop(self) -> None:
        self.hub.stop()
        await self.task
        await close(self.connection)


async def _serving(
    client: StatisticsClient, nats: LocalNats, subjects: Subjects, records: SubscriptionRecords
) -> _Serving:
    connection = await connect(HubSettings(url=nats.url), name="test hub")
    hub = Hub(client, connection, subjects, interval=1.0, grace=GRACE, records=records, tick=0.1)
    return _Serving(hub, asyncio.get_running_loop().create_task(hub.run()), connection)


async def test_hub_and_dashboard_outlive_a_restarted_nats_server(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    """NATS goes down and comes back on its port: hub and dashboard reconnect by themselves,
    and a change made after it reaches the dashboard."""
    require_nats_server()
    port = free_port()
    subjects = new_subjects()
    agents = _agents(simulator)
    nats_server = start_nats(port)
    try:
        async with StatisticsClient(simulator.base_url, "test-key") as client:
            records = SubscriptionRecords(tmp_path / "hub-records.json")
            hub = await _serving(client, nats_server, subjects, records)
            settings = HubSettings(url=nats_server.url, namespace=subjects.namespace)
            dashboard = _dashboard(Floor(hub.hub, settings), _items("team", agents[:3]))
            try:
                await until_async(lambda: not _missing(dashboard), what="the first frame")
                nats_server.stop()
                await until_async(
                    lambda: dashboard.status.updates.startswith("hub lost"),
                    what="the dashboard saying the hub is lost",
                )
                nats_server = start_nats(port)
                await until_async(
                    lambda: dashboard.status.updates == "hub: push",
                    what="the dashboard back through the restarted NATS",
                )
                pin(simulator, "Agent", agents[2], "InboundCalls", 99)
                await until_async(
                    lambda: _calls(dashboard, f"team:{agents[2]}:InboundCalls") == 99,
                    what="a change after the restart",
                )
            finally:
                await _close(dashboard)
                await hub.stop()
    finally:
        nats_server.stop()
        unpin_all(simulator)
    assert_nothing_left_open(simulator)


async def test_a_large_layout_is_declared_in_parts_and_peeked_in_pages(
    floor: Floor, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts and pages keep every message under NATS's max_payload: the parts still make
    one subscription upstream, and a peek reads every page."""
    monkeypatch.setattr(protocol, "DECLARE_PART", 3)
    monkeypatch.setattr(collector, "PEEK_PAGE", 4)
    items = _items("big", _agents(simulator)[:5])  # 10 statistics: 4 parts, 3 pages
    link = HubLink(floor.settings)
    client = HubClient(link)
    try:
        opened = await client.open_subscription(items, operation_id="big-lease")
        assert {value.statistic_id for value in opened.statistics} == {
            item.statistic_id for item in items
        }
        assert len(open_subscriptions(simulator)) == 1
        peeked = await client.peek_subscription("big-lease")
        assert len(peeked.statistics) == len(items)
        await client.delete_subscription("big-lease")
    finally:
        await client.aclose()
