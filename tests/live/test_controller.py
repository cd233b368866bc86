"""Tests for statdash.live.controller: store feeding, plan swaps, closing."""

from __future__ import annotations

import asyncio

from statdash.api import errors
from statdash.api.models import SubscriptionItem
from statdash.live.controller import INGEST_SLICE, LiveController, Plan
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested
from tests.live.fakes import FakeClient, LargeClient, VirtualClock
from tests.support.wait import until_async


def _item(statistic_id: str) -> SubscriptionItem:
    return SubscriptionItem(
        statistic_id=statistic_id, object_id="ana.silva", object_type="Agent", name="X"
    )


async def test_values_reach_the_store_and_changes_are_reported() -> None:
    """Polled values are ingested into the store and each ingest is reported."""
    client = FakeClient(VirtualClock())
    changes: list[Ingested] = []
    statuses: list[SessionStatus] = []
    controller = LiveController(
        client, Plan([_item("a")], 1.0), on_change=changes.append, on_status=statuses.append
    )
    controller.start()
    await until_async(lambda: len(changes) >= 1, interval=0)
    assert controller.store.get("a") is not None
    assert changes[0].changed == {"a"}
    await controller.close()
    assert client.deleted == ["sub1"]


async def test_apply_swaps_subscription_and_keeps_shared_values() -> None:
    """A new plan closes the old subscription, opens a new one, and keeps shared statistics."""
    client = FakeClient(VirtualClock())
    changes: list[Ingested] = []
    controller = LiveController(
        client,
        Plan([_item("a"), _item("b")], 1.0),
        on_change=changes.append,
        on_status=lambda status: None,
    )
    controller.start()
    await until_async(lambda: len(changes) >= 1, interval=0)
    controller.pause()
    await controller.apply(Plan([_item("a")], 1.0, history_capacity={"a": 10}))
    assert client.deleted == ["sub1"]
    assert controller.paused, "a paused dashboard stays paused across a reload"
    controller.resume()
    await until_async(lambda: len(client.opened) == 2, interval=0)
    assert controller.store.history("a") is not None
    assert controller.store.get("b") is None
    await controller.close()
    await controller.close()
    assert client.deleted == ["sub1", "sub2"]


async def test_reached_remembers_a_success_across_reloads() -> None:
    """`reached` stays False (with the failure kept) while every subscribe fails, turns True
    at the first success, and stays True once a reload starts a session at zero polls."""
    refused = errors.ConnectError("cannot connect to http://127.0.0.1:1: refused")
    client = FakeClient(VirtualClock(), subscribe_failures=[refused, refused])
    controller = LiveController(
        client, Plan([_item("a")], 0.001), on_change=lambda _: None, on_status=lambda _: None
    )
    controller.start()
    await until_async(lambda: controller.last_failure is not None, interval=0)
    assert not controller.reached
    assert controller.last_failure is refused
    for _ in range(400):
        if controller.reached:
            break
        await asyncio.sleep(0.005)
    assert controller.reached
    await controller.apply(Plan([_item("b")], 0.001))
    assert controller.status.polls == 0 and controller.reached
    await controller.close()


async def test_a_large_answer_goes_in_slices_and_is_told_once_when_all_in() -> None:
    """A subscribe reply or poll answer of more than INGEST_SLICE values goes into the store
    a slice per step of the loop; the screen hears of each answer once, with everything it
    changed, and the session counts the poll (and sends the next) only once it is all in."""
    size = 2 * INGEST_SLICE + 500
    client = LargeClient(VirtualClock(), size=size)
    changes: list[Ingested] = []
    controller = LiveController(
        client,
        Plan([_item("s0")], 1.0),
        on_change=changes.append,
        on_status=lambda _: None,
        clock=client.clock,
        sleep=client.clock.sleep,
    )
    ids = [f"s{index}" for index in range(size)]
    controller.start()
    # Every step of the loop: how much of the first answer is in, told answers, polls done.
    steps: list[tuple[int, int, int]] = []
    while len(changes) < 2 and len(steps) < 20_000:
        # The store holds these ids only, so its size is how much of the first answer is in.
        held = len(controller.store.values())
        steps.append((held, len(changes), controller.status.polls))
        await asyncio.sleep(0)
    await controller.close()
    partial_and_untold = [step for step in steps if 0 < step[0] < size and step[1] == 0]
    assert len(partial_and_untold) >= 2  # three slices: seen part-way in twice, not yet told
    assert all(polls <= told for _, told, polls in steps), "a poll counted before it was told"
    assert changes[0].changed == frozenset(ids)
    assert changes[1].changed == frozenset(ids)  # the first peek: every value moved again
    assert [name for name, _ in client.calls[:2]] == ["open", "peek"]


async def test_a_stop_while_an_answer_goes_in_lets_the_session_end() -> None:
    """Closing while a large answer is part-way into the store ends the session at once
    (nobody waits for the answer's rest) and still deletes the subscription."""
    size = 4 * INGEST_SLICE
    client = LargeClient(VirtualClock(), size=size)
    controller = LiveController(
        client, Plan([_item("s0")], 1.0), on_change=lambda _: None, on_status=lambda _: None
    )
    controller.start()
    await until_async(lambda: controller.store.get("s0") is not None, interval=0)
    assert controller.store.get(f"s{size - 1}") is None  # part-way in
    await asyncio.wait_for(controller.close(), timeout=5)
    assert client.deleted == ["sub1"]
