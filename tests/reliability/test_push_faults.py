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
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from statdash.api.client import StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live import push_feed
from statdash.live.controller import LiveController, plan_for
from statdash.live.session import SessionStatus
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import (
    SIM_START,
    assert_nothing_left_open,
    faults_in_force,
    open_subscriptions,
    shared_simulator,
)
from tests.support.wait import until_async

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


# One simulator on a manual clock, holding connects only briefly; the root `client` fixture
# (no client retries, as in production; faults cleared around each test) is a client of it.
simulator = shared_simulator(
    SimConfig(
        agents=20,
        queues=3,
        seed=7,
        clock="manual",
        start_time=SIM_START,
        notification_hold=HOLD,
        time_driven_frequency=1.0,
    ),
    advance=1800,
)


@pytest.fixture(autouse=True)
def quick_reopen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost channel is tried again after a fraction of a second, not 5 s."""
    monkeypatch.setattr(push_feed, "RETRY_BASE", 0.2)
    monkeypatch.setattr(push_feed, "RETRY_CAP", 0.5)


@pytest.fixture
def client_api_key() -> str:
    """The root `client` fixture sends this module's key."""
    return API_KEY


@pytest.fixture(autouse=True)
def nothing_left_open(simulator: RunningSimulator) -> Iterator[None]:
    """Each test leaves no subscription and no CometD client on the shared simulator."""
    yield
    assert_nothing_left_open(simulator)


class Watched:
    """A controller under push and everything it reported."""

    def __init__(
        self, client: StatisticsClient, updates: str = "auto", *, reconcile: float | None = None
    ) -> None:
        self.statuses: list[SessionStatus] = []
        plan = plan_for(fast_layout())
        if reconcile is not None:
            plan = replace(plan, reconcile_interval=reconcile)
        self.controller = LiveController(
            client,
            plan,
            on_change=lambda _: None,
            on_status=self.statuses.append,
            open_channel=lambda: PushChannel(client),
            updates=updates,  # type: ignore[arg-type]
        )

    async def until(self, condition: Callable[[], object]) -> None:
        """Wait for `condition()` (which may be a coroutine function) while values flow."""
        await until_async(condition, detail=lambda: f"status: {self.controller.status}")

    async def changed_since(self, revision: int) -> None:
        """Wait until the store has moved past `revision`."""
        await self.until(lambda: self.controller.store.revision > revision)

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
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Under push, simulated time passing changes values on screen without a single peek."""
    async with Watched(client) as watched:
        peeks = simulator.state()["requests"].get("peek", 0)
        revision = watched.controller.store.revision
        simulator.advance(30)
        await watched.until(lambda: watched.controller.store.revision > revision)
        assert simulator.state()["requests"].get("peek", 0) == peeks
        assert watched.controller.status.updates == "push"


async def test_a_dropped_session_is_rejoined_and_the_subscription_reopened(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A Stat Server restart (CometD client and REST subscription gone): the client shakes
    hands again, finds the subscription gone, opens a new one, and values agree again."""
    async with Watched(client) as watched:
        old = watched.controller.status.subscription_id
        simulator.set_faults(drop_session=True)
        simulator.advance(30)
        await watched.until(
            lambda: (
                watched.controller.status.subscription_id not in (None, old)
                and watched.controller.pushing
            )
        )
        simulator.advance(30)
        await watched.until(lambda: len(open_subscriptions(simulator)) == 1)
        assert list(open_subscriptions(simulator)) == [watched.controller.status.subscription_id]
        await watched.until(lambda: _agrees_with_server(watched, client))


async def test_a_402_storm_falls_back_to_polling_visibly_then_push_returns(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Every connect answered 402: push is lost, auto polls and says so; once the storm
    ends, push is back and polling stops."""
    async with Watched(client) as watched:
        simulator.set_faults(unknown_client=True)
        await watched.until(lambda: watched.controller.status.updates == "push lost: polling")
        peeks = simulator.state()["requests"].get("peek", 0)
        await watched.until(lambda: simulator.state()["requests"].get("peek", 0) >= peeks + 2)
        simulator.set_faults(unknown_client=False)
        await watched.until(lambda: watched.controller.status.updates == "push")
        assert watched.controller.plan.interval == REFRESH
        simulator.advance(20)
        await watched.until(lambda: _agrees_with_server(watched, client))


async def test_malformed_replies_cost_a_round_not_the_dashboard(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """A garbled connect reply or garbage update items are survived; values keep coming."""
    async with Watched(client) as watched:
        for kind in ("invalid_json", "not_object", "bad_statistics"):
            simulator.set_faults(malformed_push={"kind": kind, "count": 1})
            # The damaged reply's values are lost (as on a real wire): later changes come.
            simulator.advance(10)
            await watched.until(lambda: faults_in_force(simulator)["malformed_push"] is False)
            revision = watched.controller.store.revision
            simulator.advance(30)
            await watched.changed_since(revision)
        assert watched.controller.pushing
        # What the damaged replies lost, a reconciliation (r) corrects.
        polls = watched.controller.status.polls
        watched.controller.poll_now()
        await watched.until(lambda: watched.controller.status.polls > polls)
        assert await _agrees_with_server(watched, client)


async def test_duplicated_and_out_of_order_deliveries_leave_the_newest_values(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Deliveries twice over, and older values sent after newer ones, end with the screen
    showing exactly what the server has now."""
    async with Watched(client) as watched:
        simulator.set_faults(duplicate_updates=True, reorder_updates=True)
        for _ in range(5):
            # Apart, so that each advance is its own delivery (duplicated, maybe reordered).
            revision = watched.controller.store.revision
            simulator.advance(15)
            await watched.changed_since(revision)
        await watched.until(lambda: _agrees_with_server(watched, client))
        assert watched.controller.status.corrected == 0


async def test_slow_connects_keep_push_live(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Connect replies that come a second late do not lose the channel."""
    async with Watched(client) as watched:
        simulator.set_faults(slow_connect_ms=1000)
        revision = watched.controller.store.revision
        simulator.advance(30)
        await watched.until(lambda: watched.controller.store.revision > revision)
        assert watched.controller.pushing
        assert all(status.updates != "push lost: polling" for status in watched.statuses)


async def test_push_only_mode_stays_off_polling_while_the_channel_is_lost(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """updates: push, channel lost: the status says so, and no poll at the refresh happens."""
    async with Watched(client, "push") as watched:
        simulator.set_faults(unknown_client=True)
        await watched.until(lambda: watched.controller.status.updates == "push lost")
        peeks = simulator.state()["requests"].get("peek", 0)
        await asyncio.sleep(10 * REFRESH)
        # At most the reconciliation each new handshake asks for (one per 5 s), no polling.
        assert simulator.state()["requests"].get("peek", 0) - peeks <= 1
        simulator.set_faults(unknown_client=False)
        await watched.until(lambda: watched.controller.status.updates == "push")


async def test_a_channel_lost_whose_disconnect_failed_is_disconnected_on_quit(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Connects and the disconnect after them fail (503): the lost client stays on the
    server, the feed opens a new one; on quit both get a /meta/disconnect, none is left."""
    async with Watched(client) as watched:
        before = simulator.state()["requests"].get("notifications.handshake", 0)
        # Two failed connects lose the channel; the third failure is its disconnect.
        simulator.set_faults(fail_next={"notifications": 3})
        # Every counted failure spent first: under load a connect can time out on our side
        # before the server fails it, leaving a failure for a later call (the quit's own
        # disconnect, which would then leave a client behind for the next tests).
        await watched.until(
            lambda: (
                simulator.state()["requests"].get("notifications.handshake", 0) > before
                and watched.controller.pushing
                and not faults_in_force(simulator)["fail_next"].get("notifications")
            )
        )
        # The lost client is still there beside the new one (more if a slow connect under
        # load lost a channel once more); on the way out every one is disconnected.
        assert simulator.state()["cometd_clients"] >= 2, "the lost client is still there"
    assert simulator.state()["cometd_clients"] == 0


async def test_a_subscription_the_server_forgot_under_push_is_found_and_reopened(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """The server forgets the REST subscription while the channel stays healthy: deliveries
    stop, the dashboard asks long before its routine check (an hour here), finds it gone,
    opens it again without counting an error, and values come by push again."""
    async with Watched(client, reconcile=3600.0) as watched:
        controller = watched.controller
        for _ in range(4):  # deliveries as simulated time passes: the server's cadence
            revision = controller.store.revision
            simulator.advance(5)
            await watched.changed_since(revision)
        old = controller.status.subscription_id
        simulator.set_faults(drop_subscriptions=True)
        await watched.until(lambda: controller.status.subscription_id not in (None, old))
        assert controller.pushing and controller.status.error_count == 0
        assert list(open_subscriptions(simulator)) == [controller.status.subscription_id]
        revision = controller.store.revision
        simulator.advance(5)
        await watched.changed_since(revision)


async def test_push_is_live_again_after_replies_that_are_not_json(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Connect replies that are not JSON until the channel is lost, then sound ones: push is
    live again and values come by it (how soon: test_push_feed's reopen waits, and
    benchmarks/faults.py push-recovery)."""
    async with Watched(client) as watched:
        controller = watched.controller
        simulator.set_faults(malformed_push="invalid_json")
        await watched.until(lambda: controller.status.updates == "push lost: polling")
        simulator.set_faults(malformed_push=None)
        await watched.until(lambda: controller.pushing)
        revision = controller.store.revision
        simulator.advance(5)
        await watched.changed_since(revision)
        assert controller.status.updates == "push"


async def test_deliveries_that_stop_let_the_values_go_stale_while_the_server_cannot_say(
    simulator: RunningSimulator, client: StatisticsClient
) -> None:
    """Deliveries stop on a healthy channel and the peek that asks why fails: the values
    are no longer shown as current (stale) instead of `live · push` with frozen figures."""
    async with Watched(client, reconcile=3600.0) as watched:
        controller = watched.controller
        for _ in range(4):  # the server's cadence
            revision = controller.store.revision
            simulator.advance(5)
            await watched.changed_since(revision)
        statistic_id = next(iter(controller.plan.items)).statistic_id
        simulator.set_faults(drop_subscriptions=True, error_rate={"peek": 1.0})
        await watched.until(
            lambda: controller.store.is_stale(statistic_id, time.monotonic(), REFRESH)
        )
        assert controller.status.error_count >= 1
        simulator.set_faults(error_rate={"peek": 0.0})
        await watched.until(
            lambda: not controller.store.is_stale(statistic_id, time.monotonic(), REFRESH)
        )
