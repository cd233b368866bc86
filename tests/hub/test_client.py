"""A dashboard's side of the hub, against a scripted hub on a real nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from statdash.api import errors
from statdash.api.models import SubscriptionItem
from statdash.api.push import PushBatch
from statdash.api.settings import HubSettings
from statdash.api.values import NumberValue
from statdash.hub import protocol
from statdash.hub.client import HubChannel, HubClient, HubLink
from statdash.hub.connection import confirm
from statdash.hub.natsd import LocalNats, free_port
from statdash.live.controller import LiveController, Plan
from statdash.live.store import Ingested
from tests.hub.scripted import ScriptedHub, scripted_hub
from tests.support.nats import shared_nats
from tests.support.wait import until_async

nats = shared_nats()

STATE = {"name": "CurrentAgentState", "object_type": "Agent"}


def _items(*pairs: tuple[str, str]) -> list[SubscriptionItem]:
    return [
        SubscriptionItem.model_validate({"statistic_id": sid, "object_id": oid, **STATE})
        for sid, oid in pairs
    ]


def _keys(item: SubscriptionItem) -> tuple[str, str]:
    return (
        protocol.definition_key(protocol.wire_item(item)),
        protocol.object_key(item.object_type, item.object_id),
    )


@pytest.fixture
async def hub(nats: LocalNats) -> AsyncIterator[ScriptedHub]:
    async with scripted_hub(nats.url) as scripted:
        yield scripted


@pytest.fixture
async def link(nats: LocalNats) -> AsyncIterator[HubLink]:
    held = HubLink(HubSettings(url=nats.url), lease_seconds=0.3)
    yield held
    await held.aclose()


async def test_a_declare_is_the_first_frame_under_each_of_the_layouts_ids(
    hub: ScriptedHub, link: HubLink
) -> None:
    """Two ids of one definition both get its value; the lease is the subscription id."""
    items = _items(("a", "A.1 *>"), ("a-again", "A.1 *>"), ("b", "B2"))
    hub.values[_keys(items[0])[0]] = (4, 1000)
    opened = await HubClient(link).open_subscription(items, operation_id="lease-1")
    assert opened.subscription_id == "lease-1"
    ids, values, stamps = opened.statistics.columns()  # type: ignore[attr-defined]
    assert sorted(zip(ids, values, stamps, strict=True)) == [
        ("a", 4, 1000),
        ("a-again", 4, 1000),
    ]
    assert hub.leases["lease-1"] == [_keys(item)[0] for item in items]


async def test_a_change_the_hub_publishes_reaches_the_channel_for_every_id(
    hub: ScriptedHub, link: HubLink
) -> None:
    """The channel listens to the objects of the lease, declared or declared after it opened."""
    items = _items(("a", "A.1"), ("a2", "A.1"))
    key, object_key = _keys(items[0])
    channel, first = await _opened(hub, link)
    assert first.upstream == "connecting", "open waits for no heartbeat"
    await HubClient(link).open_subscription(items, operation_id="lease-1")
    await hub.change(object_key, key, 7, 2000)
    batch = await _updates(channel)
    assert sorted((u.statistic_id, u.value, u.timestamp) for u in batch.updates) == [
        ("a", 7, 2000),
        ("a2", 7, 2000),
    ]
    await channel.close()


async def _updates(channel: HubChannel) -> PushBatch:
    """The channel's next batch that brings values or skipped ones (heartbeats aside)."""
    while True:
        batch = await asyncio.wait_for(channel.next_batch(), 10)
        if batch.updates or batch.skipped:
            return batch


async def _opened(
    hub: ScriptedHub, link: HubLink, clock: Callable[[], float] | None = None
) -> tuple[HubChannel, PushBatch]:
    """A channel opened, and the batch its open gave; the hub's first heartbeat heard.

    Its clock stands still unless one is given: a late heartbeat on a busy machine never
    makes it lost (the silence test moves its own clock).
    """
    channel = HubChannel(link, clock=clock or (lambda: 0.0))
    first = await channel.open()
    await hub.status()
    heard = await asyncio.wait_for(channel.next_batch(), 5)
    assert heard.upstream == "push", heard
    return channel, first


async def test_a_silent_hub_is_a_lost_channel(hub: ScriptedHub, link: HubLink) -> None:
    """No heartbeat for SILENT_AFTER seconds: PushLost, so the controller falls back."""
    now = [0.0]
    channel, _ = await _opened(hub, link, lambda: now[0])
    now[0] += 10.0
    with pytest.raises(errors.PushLost, match="silent"):
        await asyncio.wait_for(channel.next_batch(), 5)
    await channel.close()


async def test_a_restarted_hub_asks_for_a_resync(hub: ScriptedHub, link: HubLink) -> None:
    """A heartbeat from a new hub id: the batch says rehandshook (the controller peeks)."""
    channel, _ = await _opened(hub, link)
    hub.hub = "hub-2"
    await hub.status()
    batch = await asyncio.wait_for(channel.next_batch(), 5)
    assert batch.rehandshook
    await channel.close()


async def test_an_upstream_the_hub_lost_makes_the_service_unavailable(
    hub: ScriptedHub, link: HubLink
) -> None:
    """The hub says it cannot vouch for its values: the batch carries Unavailable."""
    channel, _ = await _opened(hub, link)
    await hub.status("lost: cannot reach the server", available=False)
    batch = await asyncio.wait_for(channel.next_batch(), 5)
    assert batch.service_state == "Unavailable"
    assert batch.interrupted
    assert batch.upstream == "lost: cannot reach the server"
    await channel.close()


async def test_garbage_on_an_object_subject_is_skipped(hub: ScriptedHub, link: HubLink) -> None:
    """An unreadable message counts as skipped (a resync), never an exception."""
    items = _items(("a", "A1"))
    _, object_key = _keys(items[0])
    channel, _ = await _opened(hub, link)
    await HubClient(link).open_subscription(items, operation_id="lease-1")
    await hub.raw(hub.subjects.values(object_key), b"\xff\x00[/]\x1b]52;c;x\x07")
    batch = await _updates(channel)
    assert batch.skipped == 1 and not batch.updates
    await channel.close()


async def test_a_lease_the_hub_does_not_know_is_not_found(hub: ScriptedHub, link: HubLink) -> None:
    """A peek of an unknown lease raises NotFoundError: the session declares again."""
    with pytest.raises(errors.NotFoundError):
        await HubClient(link).peek_subscription("never-declared")


async def test_a_refused_declare_is_the_servers_error_and_holds_nothing(
    hub: ScriptedHub, link: HubLink
) -> None:
    """503 from the hub is ServiceUnavailableError; the lease is not held afterwards."""
    hub.declare_error = (503, "upstream not reachable")
    with pytest.raises(errors.ServiceUnavailableError, match="upstream not reachable"):
        await HubClient(link).open_subscription(_items(("a", "A1")), operation_id="lease-1")
    assert not link.held("lease-1")


async def test_leases_are_renewed_and_released(hub: ScriptedHub, link: HubLink) -> None:
    """While held a lease is renewed; delete releases it."""
    client = HubClient(link)
    await client.open_subscription(_items(("a", "A1")), operation_id="lease-1")
    await until_async(lambda: "lease-1" in hub.renewed, what="a renewal")
    await client.delete_subscription("lease-1")
    assert hub.released == ["lease-1"]
    assert not link.held("lease-1")


async def test_no_nats_server_is_a_connect_error() -> None:
    """Nothing listening: ConnectError (the session retries and says so), no traceback."""
    link = HubLink(HubSettings(url=f"nats://127.0.0.1:{free_port()}"))
    with pytest.raises(errors.ConnectError):
        await HubClient(link).open_subscription(_items(("a", "A1")), operation_id="x")
    await link.aclose()


async def test_the_live_controller_takes_the_hub_as_one_more_source(
    hub: ScriptedHub, link: HubLink
) -> None:
    """The controller's own push path: first frame, changes, and `hub: push` on the status."""
    items = _items(("a", "A1"), ("b", "B1"))
    key_a, object_a = _keys(items[0])
    hub.values[key_a] = (1, 1000)
    changes: list[Ingested] = []
    controller = LiveController(
        HubClient(link),
        Plan(items, 1.0, updates="auto"),
        on_change=changes.append,
        on_status=lambda status: None,
        open_channel=lambda: HubChannel(link),
    )
    try:
        async with hub.beating():
            controller.start()
            await until_async(lambda: controller.store.get("a") is not None, what="the first frame")
            await until_async(lambda: controller.status.updates == "hub: push", what="hub: push")
            await hub.change(object_a, key_a, 2, 3000)
            await until_async(
                lambda: _number(controller, "a") == 2, what="the pushed change in the store"
            )
    finally:
        await controller.close()
    assert len(hub.released) == 1, "the controller's close released its lease"


def _number(controller: LiveController, statistic_id: str) -> float | None:
    held = controller.store.get(statistic_id)
    return held.number if isinstance(held, NumberValue) else None


async def test_a_hub_whose_upstream_is_lost_leaves_the_values_stale(
    hub: ScriptedHub, link: HubLink
) -> None:
    """While the hub says it cannot vouch for its values, the dashboard's values age past
    two refresh intervals (stale on screen), and are vouched for again once it can."""
    items = _items(("a", "A1"))
    key, _ = _keys(items[0])
    hub.values[key] = (1, 1000)
    controller = LiveController(
        HubClient(link),
        Plan(items, 0.2, updates="auto"),
        on_change=lambda ingested: None,
        on_status=lambda status: None,
        open_channel=lambda: HubChannel(link),
    )
    available = [True]

    async def beat() -> None:
        while True:
            await hub.status("push" if available[0] else "lost: HTTP 503", available=available[0])
            await asyncio.sleep(0.05)

    beating = asyncio.get_running_loop().create_task(beat())
    loop = asyncio.get_running_loop()
    try:
        controller.start()
        await until_async(lambda: controller.status.updates == "hub: push", what="hub push")
        await until_async(
            lambda: not controller.store.is_stale("a", loop.time(), 0.2), what="fresh values"
        )
        available[0] = False
        await until_async(
            lambda: controller.store.is_stale("a", loop.time(), 0.2), what="stale values"
        )
        assert controller.status.updates == "hub: lost: HTTP 503"
        available[0] = True
        await until_async(
            lambda: not controller.store.is_stale("a", loop.time(), 0.2), what="fresh again"
        )
    finally:
        beating.cancel()
        await controller.close()


async def test_a_confirm_cancelled_on_its_way_leaves_the_connection_reading(
    hub: ScriptedHub, link: HubLink
) -> None:
    """A channel's confirm cancelled while it waits for the server (a reload, a stop): the
    connection goes on reading, and the next heartbeat is heard. nats-py leaves the future
    of a cancelled flush in its queue, and the PONG then ended the read loop for good."""
    channel, _ = await _opened(hub, link)
    connection = await link.connection()
    waiting = asyncio.get_running_loop().create_task(confirm(connection))
    await asyncio.sleep(0)  # the PING is out, the PONG awaited
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await hub.status("lost: cannot reach the server", available=False)
    batch = await asyncio.wait_for(channel.next_batch(), 5)
    assert batch.upstream == "lost: cannot reach the server"
    await channel.close()
