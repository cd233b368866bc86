"""The live session under push through the simulator's channel faults, over real loopback HTTP.

A `LiveController` with the real `StatisticsClient` and `PushChannel` runs against the
simulator (manual clock, a short connect hold). Each test injects one channel fault and
checks what a supervisor would care about: values keep coming and end up equal to what the
server says, push comes back (or polling covers for it, visibly), and at the end nothing is
left open on the server: no subscription, no CometD client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.compile import CompiledLayout, compile_layout
from statdash.layout.loader import load_layout_text
from statdash.live import push_feed
from statdash.live.controller import LiveController, plan_for
from statdash.live.session import SessionStatus
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator
from tests.reliability.support import API_KEY, SIM_START, open_subscriptions

REFRESH = 0.4
HOLD = 1.0
LAYOUT = """
title: Push faults
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak, carla.ortiz, dev.weber, elena.ivanova]
        columns: [{stat: InboundCalls, label: Calls}, {stat: TalkDuration, label: Talk}]
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}, {queue: 8002@SIP_Switch}]
        columns: [{stat: CurrentNumberWaitingCalls, label: Waiting}, {stat: Total_Answered}]
"""


def fast_layout() -> CompiledLayout:
    """The test layout at REFRESH seconds (below what a layout file may ask)."""
    return replace(compile_layout(load_layout_text(LAYOUT, file="push.yaml")), refresh=REFRESH)


@pytest.fixture(scope="module")
def push_sim() -> Iterator[RunningSimulator]:
    """One simulator on a manual clock, holding connects only briefly."""
    config = SimConfig(
        agents=20,
        queues=3,
        seed=7,
        clock="manual",
        start_time=SIM_START,
        notification_hold=HOLD,
        time_driven_frequency=1.0,
    )
    with running_simulator(config, log_level="critical") as simulator:
        simulator.advance(1800)
        yield simulator


@pytest.fixture(autouse=True)
def quick_reopen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost channel is tried again after a fraction of a second, not 5 s."""
    monkeypatch.setattr(push_feed, "RETRY_BASE", 0.2)
    monkeypatch.setattr(push_feed, "RETRY_CAP", 0.5)


@pytest.fixture
async def client(push_sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A production-like client; faults cleared before, nothing left open after."""
    push_sim.clear_faults()
    async with StatisticsClient(
        push_sim.base_url, API_KEY, retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client
    push_sim.clear_faults()
    assert open_subscriptions(push_sim) == {}
    assert push_sim.state()["cometd_clients"] == 0


class Watched:
    """A controller under push and everything it reported."""

    def __init__(self, client: StatisticsClient, updates: str = "auto") -> None:
        self.statuses: list[SessionStatus] = []
        self.controller = LiveController(
            client,
            plan_for(fast_layout()),
            on_change=lambda _: None,
            on_status=self.statuses.append,
            open_channel=lambda: PushChannel(client),
            updates=updates,  # type: ignore[arg-type]
        )

    async def until(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"condition never held; status: {self.controller.status}")

    async def __aenter__(self) -> Watched:
        self.controller.start()
        await self.until(lambda: self.controller.pushing and self.controller.store.revision > 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.controller.close()


async def _agrees_with_server(watched: Watched, client: StatisticsClient) -> bool:
    """Every value on screen is the server's current one."""
    subscription_id = watched.controller.status.subscription_id
    if subscription_id is None:
        return False
    peeked = await client.peek_subscription(subscription_id, verbose="OFF")
    from statdash.api.values import parse_value

    store = watched.controller.store
    return all(
        store.get(value.statistic_id) == parse_value(value.value, value.timestamp)
        for value in peeked.statistics
    )


async def test_changes_arrive_by_push_with_no_peek(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Under push, simulated time passing changes values on screen without a single peek."""
    async with Watched(client) as watched:
        peeks = push_sim.state()["requests"].get("peek", 0)
        revision = watched.controller.store.revision
        push_sim.advance(30)
        await watched.until(lambda: watched.controller.store.revision > revision)
        assert push_sim.state()["requests"].get("peek", 0) == peeks
        assert watched.controller.status.updates == "push"


async def test_a_dropped_session_is_rejoined_and_the_subscription_reopened(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """A Stat Server restart (CometD client and REST subscription gone): the client shakes
    hands again, finds the subscription gone, opens a new one, and values agree again."""
    async with Watched(client) as watched:
        old = watched.controller.status.subscription_id
        push_sim.set_faults(drop_session=True)
        push_sim.advance(30)
        await watched.until(
            lambda: (
                watched.controller.status.subscription_id not in (None, old)
                and watched.controller.pushing
            )
        )
        push_sim.advance(30)
        await watched.until(lambda: len(open_subscriptions(push_sim)) == 1)
        assert list(open_subscriptions(push_sim)) == [watched.controller.status.subscription_id]
        await asyncio.sleep(3 * REFRESH)
        assert await _agrees_with_server(watched, client)


async def test_a_402_storm_falls_back_to_polling_visibly_then_push_returns(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Every connect answered 402: push is lost, auto polls and says so; once the storm
    ends, push is back and polling stops."""
    async with Watched(client) as watched:
        push_sim.set_faults(unknown_client=True)
        await watched.until(lambda: watched.controller.status.updates == "push lost: polling")
        peeks = push_sim.state()["requests"].get("peek", 0)
        await watched.until(lambda: push_sim.state()["requests"].get("peek", 0) >= peeks + 2)
        push_sim.set_faults(unknown_client=False)
        await watched.until(lambda: watched.controller.status.updates == "push")
        assert watched.controller.plan.interval == REFRESH
        push_sim.advance(20)
        await asyncio.sleep(4 * REFRESH)
        assert await _agrees_with_server(watched, client)


async def test_malformed_replies_cost_a_round_not_the_dashboard(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """A garbled connect reply or garbage update items are survived; values keep coming."""
    async with Watched(client) as watched:
        for kind in ("invalid_json", "not_object", "bad_statistics"):
            push_sim.set_faults(malformed_push={"kind": kind, "count": 1})
            # The damaged reply's values are lost (as on a real wire): later changes come.
            for _ in range(3):
                push_sim.advance(10)
                await asyncio.sleep(3 * REFRESH)
            revision = watched.controller.store.revision
            push_sim.advance(30)
            await watched.until(lambda r=revision: watched.controller.store.revision > r)
        assert watched.controller.pushing
        # What the damaged replies lost, a reconciliation (r) corrects.
        polls = watched.controller.status.polls
        watched.controller.poll_now()
        await watched.until(lambda: watched.controller.status.polls > polls)
        assert await _agrees_with_server(watched, client)


async def test_duplicated_and_out_of_order_deliveries_leave_the_newest_values(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Deliveries twice over, and older values sent after newer ones, end with the screen
    showing exactly what the server has now."""
    async with Watched(client) as watched:
        push_sim.set_faults(duplicate_updates=True, reorder_updates=True)
        for _ in range(5):
            push_sim.advance(15)
            await asyncio.sleep(2 * REFRESH)
        await asyncio.sleep(4 * REFRESH)
        assert await _agrees_with_server(watched, client)
        assert watched.controller.status.corrected == 0


async def test_slow_connects_keep_push_live(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Connect replies that come a second late do not lose the channel."""
    async with Watched(client) as watched:
        push_sim.set_faults(slow_connect_ms=1000)
        revision = watched.controller.store.revision
        push_sim.advance(30)
        await watched.until(lambda: watched.controller.store.revision > revision)
        assert watched.controller.pushing
        assert all(status.updates != "push lost: polling" for status in watched.statuses)


async def test_push_only_mode_stays_off_polling_while_the_channel_is_lost(
    push_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """updates: push, channel lost: the status says so, and no poll at the refresh happens."""
    async with Watched(client, "push") as watched:
        push_sim.set_faults(unknown_client=True)
        await watched.until(lambda: watched.controller.status.updates == "push lost")
        peeks = push_sim.state()["requests"].get("peek", 0)
        await asyncio.sleep(10 * REFRESH)
        # At most the reconciliation each new handshake asks for (one per 5 s), no polling.
        assert push_sim.state()["requests"].get("peek", 0) - peeks <= 1
        push_sim.set_faults(unknown_client=False)
        await watched.until(lambda: watched.controller.status.updates == "push")
