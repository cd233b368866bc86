"""Tests for statdash.live.controller under push: ordering, fallback, reconciliation, close."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from statdash.api import errors
from statdash.api.models import StatisticValue, SubscriptionItem, Verbose
from statdash.live.controller import INGEST_SLICE, LiveController, Plan
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested
from tests.live.fakes import FakeClient, FakePeek, VirtualClock
from tests.live.test_push_feed import Batch, FakeChannel, Update
from tests.support.wait import until_async


def _item(statistic_id: str) -> SubscriptionItem:
    return SubscriptionItem(
        statistic_id=statistic_id, object_id="ana.silva", object_type="Agent", name="X"
    )


class Calls:
    """The order of channel and REST calls, as one list."""

    def __init__(self, client: FakeClient, channel: FakeChannel) -> None:
        self.order: list[str] = []
        original_open = channel.open

        async def open_channel() -> Batch:
            self.order.append("channel")
            return await original_open()

        channel.open = open_channel  # type: ignore[method-assign]
        self.client = client


def _controller(
    client: FakeClient,
    channels: list[FakeChannel],
    updates: str = "auto",
    *,
    changes: list[Ingested] | None = None,
    statuses: list[SessionStatus] | None = None,
) -> LiveController:
    def open_channel() -> FakeChannel:
        # The last channel stands in for every later reopen.
        return channels.pop(0) if len(channels) > 1 else channels[0]

    return LiveController(
        client,
        Plan([_item("a"), _item("b")], 1.0, updates=updates),  # type: ignore[arg-type]
        on_change=(changes if changes is not None else []).append,
        on_status=(statuses if statuses is not None else []).append,
        open_channel=open_channel,
        clock=client.clock,
        sleep=client.clock.sleep,
    )


async def test_the_channel_is_confirmed_before_the_subscription_opens() -> None:
    """Push opens the updates channel first; the subscribe reply is the first frame."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    calls = Calls(client, channel)
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    assert calls.order == ["channel"]
    assert client.calls[0][0] == "open"
    assert controller.status.updates == "push"
    assert controller.pushing
    await controller.close()


async def test_pushed_values_reach_the_store_without_polling() -> None:
    """Under push, updates change the store and the session only reconciles (no 1 s polls)."""
    clock = VirtualClock()
    client = FakeClient(clock)
    channel = FakeChannel()
    changes: list[Ingested] = []
    controller = _controller(client, [channel], changes=changes)
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    channel.rounds.put_nowait(Batch((Update("b", {"intValue": 7}),)))
    await until_async(lambda: controller.store.get("b") is not None, interval=0)
    assert any(change.changed == {"b"} for change in changes)
    for _ in range(500):
        await asyncio.sleep(0)
    peeks = [at for name, at in client.calls if name in ("open", "peek")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(peeks)]
    assert all(gap >= 60 for gap in gaps), f"only reconciliation peeks under push: {gaps}"
    await controller.close()


async def test_auto_falls_back_to_polling_when_the_server_has_no_push() -> None:
    """auto polls at the refresh interval when the channel cannot open, and says so."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel(opening=errors.PushUnavailable("no CometD"))
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: sum(name == "peek" for name, _ in client.calls) >= 2, interval=0)
    assert controller.status.updates == "poll: no push"
    assert not controller.pushing
    await controller.close()


async def test_losing_push_switches_to_polling_visibly() -> None:
    """When the channel is lost in auto mode the session polls at once and the status says so."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    spare = FakeChannel(opening=errors.ConnectError("down"))
    statuses: list[SessionStatus] = []
    controller = _controller(client, [channel, spare, spare, spare], statuses=statuses)
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    channel.rounds.put_nowait(errors.PushLost("advice none"))
    await until_async(lambda: any(name == "peek" for name, _ in client.calls), interval=0)
    assert any(status.updates == "push lost: polling" for status in statuses)
    await controller.close()


async def test_push_only_mode_does_not_poll_when_push_is_lost() -> None:
    """updates: push never falls back to polling at the refresh interval."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel(opening=errors.PushUnavailable("no CometD"))
    controller = _controller(client, [channel, channel], "push")
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    for _ in range(500):
        await asyncio.sleep(0)
    peeks = [at for name, at in client.calls if name in ("open", "peek")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(peeks)]
    assert all(gap >= 60 for gap in gaps), f"push only: no polling at the refresh: {gaps}"
    assert controller.status.updates == "no push"
    await controller.close()


async def test_a_reconciliation_peek_counts_the_values_it_corrects() -> None:
    """r under push peeks the subscription: newer values are taken but are no correction;
    once the channel says it lost values, what the next peek finds different is counted."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    polls = controller.status.polls
    controller.poll_now()
    # The fake's peek answers a different value for "a" than the subscribe reply did.
    await until_async(lambda: controller.status.polls > polls, interval=0)
    assert controller.status.corrected == 0
    channel.rounds.put_nowait(Batch(skipped=1))
    await until_async(lambda: controller.status.corrected == 1, interval=0)
    await controller.close()


async def test_close_deletes_the_subscription_and_disconnects_the_channel() -> None:
    """Closing under push deletes the subscription and closes the channel."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    await controller.close()
    assert client.deleted == ["sub1"]
    assert channel.closed >= 1


async def test_pause_holds_pushed_values_until_resume() -> None:
    """p under push stops applying updates; resume applies the latest that came meanwhile."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    controller.pause()
    channel.rounds.put_nowait(Batch((Update("b", {"intValue": 1}),)))
    channel.rounds.put_nowait(Batch((Update("b", {"intValue": 2}),)))
    for _ in range(200):
        await asyncio.sleep(0)
    assert controller.store.get("b") is None
    controller.resume()
    value = controller.store.get("b")
    assert value is not None and getattr(value, "number", None) == 2
    await controller.close()


async def test_a_large_pushed_batch_is_applied_in_slices_and_told_once() -> None:
    """A batch of more than INGEST_SLICE values goes into the store a slice per step of the
    loop (keys are served between), and whoever listens hears of it once, when it is all in,
    with everything it changed: nothing is drawn from half a batch."""
    client = FakeClient(VirtualClock())
    channel = FakeChannel()
    changes: list[Ingested] = []
    controller = _controller(client, [channel], changes=changes)
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    size = 2 * INGEST_SLICE + 500
    ids = [f"p{index}" for index in range(size)]
    pushed = frozenset(ids)

    def told() -> list[frozenset[str]]:
        return [change.changed for change in changes if change.changed & pushed]

    channel.rounds.put_nowait(Batch(tuple(Update(i, {"intValue": 1}) for i in ids)))
    # Watch every step of the loop: how much of the batch is in, and whether it was told.
    partial_and_untold = 0
    for _ in range(2_000):
        held = sum(controller.store.get(i) is not None for i in ids)
        if held == size:
            break
        if held and not told():
            partial_and_untold += 1
        await asyncio.sleep(0)
    await until_async(lambda: bool(told()), interval=0)
    assert partial_and_untold >= 2  # three slices: seen part-way in twice, not yet told
    assert told() == [pushed]
    await controller.close()


@dataclass
class AnsweringClient(FakeClient):
    """A scripted server whose peeks answer `peek_answer` (once the gate, if any, opens)."""

    peek_answer: list[StatisticValue] = field(default_factory=list)

    async def peek_subscription(
        self,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> FakePeek:
        await super().peek_subscription(subscription_id)
        return FakePeek(self.peek_answer)


def _values(ids: Sequence[str], number: int) -> list[StatisticValue]:
    return [StatisticValue(statistic_id=i, value={"intValue": number}) for i in ids]


async def test_an_answer_waits_behind_a_pushed_batch_going_in() -> None:
    """A peek answer that arrives while a large pushed batch is going into the store goes in
    after it, in arrival order: its value stands, and the screen hears the batch, then it."""
    client = AnsweringClient(VirtualClock())
    channel = FakeChannel()
    changes: list[Ingested] = []
    controller = _controller(client, [channel], changes=changes)
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    ids = [f"p{index}" for index in range(10 * INGEST_SLICE)]
    last = ids[-1]
    client.peek_answer = _values([last], 99)
    client.peek_gate = asyncio.Event()
    peeks = sum(name == "peek" for name, _ in client.calls)
    controller.poll_now()
    await until_async(lambda: sum(name == "peek" for name, _ in client.calls) > peeks, interval=0)
    channel.rounds.put_nowait(Batch(tuple(Update(i, {"intValue": 1}) for i in ids)))
    await until_async(lambda: controller.store.get("p0") is not None, interval=0)
    assert controller.store.get(last) is None  # the pushed batch is part-way in
    client.peek_gate.set()
    await until_async(lambda: any(change.changed == {last} for change in changes), interval=0)
    value = controller.store.get(last)
    assert value is not None and getattr(value, "number", None) == 99
    told = [change.changed for change in changes if last in change.changed]
    assert told == [frozenset(ids), frozenset({last})]
    await controller.close()


async def test_a_large_reconciliation_counts_only_what_push_missed() -> None:
    """A reconciliation answer large enough to go in slices counts as corrected what it
    found different, less what push delivered since the loss, as a small one does; a loss
    reported while it goes in is for the next peek to count, not this one."""
    client = AnsweringClient(VirtualClock())
    channel = FakeChannel()
    controller = _controller(client, [channel])
    controller.start()
    await until_async(lambda: controller.store.get("a") is not None, interval=0)
    ids = [f"q{index}" for index in range(10 * INGEST_SLICE)]
    client.peek_answer = _values(ids, 7)
    client.peek_gate = asyncio.Event()
    peeks = sum(name == "peek" for name, _ in client.calls)
    channel.rounds.put_nowait(Batch(skipped=1))  # the channel lost values: reconcile
    await until_async(lambda: sum(name == "peek" for name, _ in client.calls) > peeks, interval=0)
    # Push delivers ten of them (other values) after the loss, before the answer comes.
    channel.rounds.put_nowait(Batch(tuple(Update(i, {"intValue": 1}) for i in ids[:10])))
    await until_async(lambda: controller.store.get("q9") is not None, interval=0)
    client.peek_gate.set()
    await until_async(lambda: getattr(controller.store.get("q0"), "number", 0) == 7, interval=0)
    assert controller.store.get(ids[-1]) is None  # the answer is part-way in
    channel.rounds.put_nowait(Batch(skipped=1))
    await until_async(lambda: controller.status.checked_at is not None, interval=0)
    status = controller.status
    assert (status.check_newer, status.check_corrected) == (10, len(ids) - 10)
    assert status.corrected == len(ids) - 10
    # The loss reported meanwhile makes the next peek's differences corrections too.
    client.peek_answer = _values(ids[:5], 8)
    await until_async(lambda: controller.status.corrected == len(ids) - 5, interval=0)
    await controller.close()
