"""What the push status says is what happened, against the simulator over real loopback HTTP.

"N corrected" counts only what push should have delivered and did not: nothing in a
fault-free session (however often it reconciles), exactly what the simulator dropped under
its `malformed_push` and `service_blip` faults. A short outage inside one connect reply is
reconciled; a channel subscribe refused with `retry` advice is retried, not dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live import controller as controller_module
from statdash.live import push_feed
from statdash.live.controller import LiveController, plan_for
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, open_subscriptions, serve

REFRESH = 0.4
HOLD = 1.0
# Immediate statistics (counts, states) and Periodical ones (durations): both kinds of push.
LAYOUT = """
title: Truth
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
    return replace(compile_layout(load_layout_text(LAYOUT, file="truth.yaml")), refresh=REFRESH)


@pytest.fixture(scope="module")
def truth_sim() -> Iterator[RunningSimulator]:
    """One simulator on a manual clock; Periodical statistics every 5 simulated seconds."""
    config = SimConfig(
        agents=20,
        queues=3,
        seed=11,
        clock="manual",
        start_time=SIM_START,
        notification_hold=HOLD,
        time_driven_frequency=5.0,
    )
    with serve(config) as simulator:
        simulator.advance(1800)
        yield simulator


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost channel is tried again soon; channel-asked reconciliations are not spaced out."""
    monkeypatch.setattr(push_feed, "RETRY_BASE", 0.2)
    monkeypatch.setattr(push_feed, "RETRY_CAP", 0.5)
    monkeypatch.setattr(controller_module, "MIN_RESYNC_GAP", 0.0)


@pytest.fixture
async def client(truth_sim: RunningSimulator) -> AsyncIterator[StatisticsClient]:
    """A production-like client; faults cleared before, nothing left open after."""
    truth_sim.clear_faults()
    async with StatisticsClient(
        truth_sim.base_url, API_KEY, retry=RetryPolicy(attempts=1)
    ) as statistics_client:
        yield statistics_client
    truth_sim.clear_faults()
    assert open_subscriptions(truth_sim) == {}


class Pushed:
    """A controller under push and every status it reported."""

    def __init__(self, client: StatisticsClient) -> None:
        self.statuses: list[SessionStatus] = []
        self.controller = LiveController(
            client,
            plan_for(fast_layout()),
            on_change=self._changed,
            on_status=self.statuses.append,
            open_channel=lambda: PushChannel(client),
            updates="auto",
        )
        self.changes = 0

    def _changed(self, ingested: Ingested) -> None:
        self.changes += len(ingested.changed)

    async def until(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        """Wait until `condition` holds (AssertionError with the status after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"condition never held; status: {self.controller.status}")

    async def reconcile(self) -> None:
        """A reconciliation peek (the user's r), awaited."""
        polls = self.controller.status.polls
        self.controller.poll_now()
        await self.until(lambda: self.controller.status.polls > polls)

    async def __aenter__(self) -> Pushed:
        self.controller.start()
        await self.until(lambda: self.controller.pushing and self.controller.store.revision > 0)
        # The channel's first delivery (every value once, as the subscribe reply had them)
        # is done before a test injects a fault.
        await asyncio.sleep(3 * REFRESH)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.controller.close()


def dropped(sim: RunningSimulator) -> int:
    """How many pushed values the simulator's faults kept from clients so far."""
    return int(sim.state()["dropped_updates"])


async def test_a_fault_free_session_corrects_nothing_however_often_it_reconciles(
    truth_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Time passing between pushes makes Periodical values newer at every peek; with no
    fault, reconciliations (r, pause and resume) still count 0 corrected."""
    async with Pushed(client) as pushed:
        for _ in range(6):
            truth_sim.advance(7)
            await asyncio.sleep(0.3)
            await pushed.reconcile()
        pushed.controller.pause()
        truth_sim.advance(20)
        await asyncio.sleep(0.5)
        pushed.controller.resume()
        await pushed.reconcile()
        assert pushed.changes > 0
        assert pushed.controller.status.corrected == 0


@pytest.mark.parametrize("kind", ["bad_statistics", "invalid_json"])
async def test_under_malformed_push_corrected_equals_what_the_simulator_dropped(
    truth_sim: RunningSimulator, client: StatisticsClient, kind: str
) -> None:
    """Replies the client cannot read lose their values; the reconciliation the channel then
    asks for corrects exactly as many as the simulator counted dropped."""
    async with Pushed(client) as pushed:
        before = dropped(truth_sim)
        truth_sim.set_faults(malformed_push={"kind": kind, "count": 1})
        truth_sim.advance(30)
        await pushed.until(lambda: dropped(truth_sim) > before)
        await pushed.until(lambda: pushed.controller.status.corrected > 0)
        await asyncio.sleep(4 * REFRESH)
        assert pushed.controller.status.corrected == dropped(truth_sim) - before
        assert pushed.controller.pushing


async def test_an_outage_inside_one_reply_is_reconciled(
    truth_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """Unavailable then Available in one connect reply: what changed meanwhile is peeked
    and corrected once the service is back (as many as the simulator lost)."""
    async with Pushed(client) as pushed:
        before = dropped(truth_sim)
        peeks = truth_sim.state()["requests"].get("peek", 0)
        truth_sim.set_faults(service_blip=1)
        truth_sim.advance(30)
        await pushed.until(lambda: dropped(truth_sim) > before)
        await pushed.until(lambda: truth_sim.state()["requests"].get("peek", 0) > peeks)
        await pushed.until(lambda: pushed.controller.status.corrected > 0)
        await asyncio.sleep(4 * REFRESH)
        assert pushed.controller.status.corrected == dropped(truth_sim) - before
        assert pushed.controller.pushing


async def test_a_refused_channel_subscribe_with_retry_advice_is_retried(
    truth_sim: RunningSimulator, client: StatisticsClient
) -> None:
    """The server refuses the channel subscribe twice, advising retry: push is live within
    seconds (no five-minute fallback to polling)."""
    subscribes = truth_sim.state()["requests"].get("notifications.subscribe", 0)
    truth_sim.set_faults(refuse_channel_subscribe=2)
    started = time.monotonic()
    async with Pushed(client) as pushed:
        assert pushed.controller.status.updates == "push"
    assert time.monotonic() - started < 10
    assert truth_sim.state()["requests"]["notifications.subscribe"] >= subscribes + 4
