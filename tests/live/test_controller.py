"""Tests for statdash.live.controller: store feeding, plan swaps, closing."""

from __future__ import annotations

import asyncio

from statdash.api import errors
from statdash.api.models import SubscriptionItem
from statdash.live.controller import LiveController, Plan
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested
from tests.live.fakes import FakeClient, VirtualClock
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
