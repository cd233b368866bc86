"""The collector against a real simulator and a real nats-server, spoken to with raw nats-py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from nats.aio.client import Client as NatsClient

from statdash.api.client import StatisticsClient
from statdash.api.responses import UNREADABLE_NUMBER
from statdash.hub.collector import PUSH_PACING, Hub
from statdash.hub.natsd import LocalNats
from statdash.hub.protocol import (
    Declare,
    PeekReply,
    ReleaseReply,
    Renew,
    Subjects,
    decode,
    definition_key,
    encode,
    object_key,
)
from statdash.layout.vocabulary import UpdatesName
from statdash.live.session import RETRY_REFUSED_SECONDS
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.hub.support import (
    Heard,
    declare,
    item,
    listen,
    nats_client,
    new_subjects,
    peek,
    pin,
    raw_declare,
    release,
    state,
    unpin_all,
    waiting,
)
from tests.support.nats import shared_nats
from tests.support.sim import (
    SIM_START,
    assert_nothing_left_open,
    open_subscriptions,
    shared_simulator,
)
from tests.support.wait import until_async

simulator = shared_simulator(
    SimConfig(agents=20, queues=5, seed=7, clock="manual", start_time=SIM_START)
)
nats = shared_nats()


@dataclass
class Running:
    """A hub serving in a task, and a NATS connection of the test's to talk to it."""

    hub: Hub
    nats: NatsClient
    subjects: Subjects
    client: StatisticsClient


HubFactory = Callable[..., contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def running_hub(simulator: RunningSimulator, nats: LocalNats, tmp_path: Path) -> HubFactory:
    """`async with running_hub(grace=..., updates=...) as running:` a hub for the block; its
    end stops the hub and checks it closed what it opened."""

    @contextlib.asynccontextmanager
    async def start(
        *,
        grace: float = 60.0,
        updates: UpdatesName = "auto",
        reconcile_interval: float = 3600.0,
        records: SubscriptionRecords | None = None,
        gather: float = 0.15,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> AsyncIterator[Running]:
        subjects = new_subjects()
        async with (
            StatisticsClient(simulator.base_url, "test-key") as client,
            nats_client(nats) as hub_nats,
            nats_client(nats) as test_nats,
        ):
            hub = Hub(
                client,
                hub_nats,
                subjects,
                interval=1.0,
                updates=updates,
                grace=grace,
                records=records or SubscriptionRecords(tmp_path / "records.json"),
                reconcile_interval=reconcile_interval,
                tick=0.1,
                gather=gather,
                clock=clock,
                sleep=sleep,
            )
            task = asyncio.get_running_loop().create_task(hub.run())
            # Up once it answers: a peek of no lease is a 404 from it.
            await until_async(lambda: _answers(test_nats, subjects), what="the hub answering")
            try:
                yield Running(hub, test_nats, subjects, client)
            finally:
                hub.stop()
                await task
            assert not set(open_subscriptions(simulator)) & set(hub.upstream_ids())

    return start


async def _answers(nats: NatsClient, subjects: Subjects) -> bool:
    try:
        return (await peek(nats, subjects, "nobody")).code == 404
    except Exception:
        return False


def _queues(simulator: RunningSimulator) -> list[str]:
    queues: list[str] = simulator.state()["objects"]["Queue"]
    return queues


def _agents(simulator: RunningSimulator) -> list[str]:
    agents: list[str] = simulator.state()["objects"]["Agent"]
    return agents


def _hub_subscriptions(simulator: RunningSimulator, hub: Hub) -> dict[str, list[str]]:
    mine = set(hub.upstream_ids())
    return {sid: ids for sid, ids in open_subscriptions(simulator).items() if sid in mine}


async def test_overlapping_leases_open_the_first_set_and_then_only_the_missing_rest(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Two leases with overlapping statistics: one upstream subscription for the first set,
    one for the rest only; keys and object keys are those a client computes, values the
    simulator's."""
    q1, q2, q3 = _queues(simulator)[:3]
    first, second = [waiting(q1), waiting(q2)], [waiting(q2), waiting(q3)]
    async with running_hub() as running:
        one = await declare(running.nats, running.subjects, "lease-1", first)
        assert one.error is None and one.code is None
        two = await declare(running.nats, running.subjects, "lease-2", second)
        assert two.error is None
        assert one.keys == [definition_key(i) for i in first]
        assert two.keys == [definition_key(i) for i in second]
        assert two.keys[0] == one.keys[1]  # the same statistic, the same key
        assert two.objects == [object_key("Queue", q2), object_key("Queue", q3)]
        opened = _hub_subscriptions(simulator, running.hub)
        assert sorted(map(sorted, opened.values())) == sorted([sorted(one.keys), [two.keys[1]]])
        # The first frame: each statistic's value as the simulator serves it.
        direct = await running.client.get_statistic_ex(
            [
                {"objectId": q, "objectType": "Queue", "name": "CurrentNumberWaitingCalls"}
                for q in (q1, q2, q3)
            ]
        )
        served = {
            definition_key(waiting(queue)): value.value
            for queue, value in zip((q1, q2, q3), direct.statistics, strict=True)
        }
        for reply in (one, two):
            got = dict(zip(reply.values.keys, reply.values.values, strict=True))
            assert got == {key: served[key] for key in reply.keys}
        assert running.hub.statistics == 3 and running.hub.clients == 2


async def test_declares_arriving_together_share_one_upstream_subscription(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A declare arriving while another's missing statistics are gathered joins them: ONE
    subscription opens for both, and both are answered from it."""
    first_queue, second_queue = _queues(simulator)[:2]
    async with running_hub(gather=1.0) as running:
        loop = asyncio.get_running_loop()
        first = loop.create_task(
            declare(running.nats, running.subjects, "first", [waiting(first_queue)])
        )
        # The first is gathering (its statistic counted, nothing opened yet) ...
        await until_async(lambda: running.hub.statistics == 1, what="the first declare heard")
        assert not _hub_subscriptions(simulator, running.hub)
        # ... when the second comes: it joins the same subscription.
        second = await declare(running.nats, running.subjects, "second", [waiting(second_queue)])
        replies = [await first, second]
        assert all(reply.error is None and reply.values.keys for reply in replies)
        opened = _hub_subscriptions(simulator, running.hub)
        assert len(opened) == 1
        assert sorted(next(iter(opened.values()))) == sorted(r.keys[0] for r in replies)


async def test_a_pinned_value_reaches_a_subscriber_on_its_objects_subject_by_push(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A simulator pin, in each of two upstream subscriptions, reaches a subscriber of the
    object's subject: one CometD client receives every subscription of the session (the
    sessions do not poll: reconciliation is an hour away)."""
    first_agent, second_agent = _agents(simulator)[:2]
    assert "." in first_agent  # a dot in an object id never reaches a subject
    heard = Heard()
    try:
        async with running_hub() as running:
            await listen(running.nats, running.subjects.values(">"), heard)
            one = await declare(running.nats, running.subjects, "one", [state(first_agent)])
            two = await declare(running.nats, running.subjects, "two", [state(second_agent)])
            assert len(_hub_subscriptions(simulator, running.hub)) == 2
            await until_async(lambda: running.hub.status().upstream == "push", what="push live")
            peeks = simulator.state()["requests"].get("peek", 0)
            for agent in (first_agent, second_agent):
                pin(simulator, "Agent", agent, "CurrentAgentState", "AfterCallWork")

            def pinned(key: str) -> bool:
                value: Any = heard.values().get(key)
                return isinstance(value, dict) and (
                    value.get("stateValue", {}).get("status") == "AfterCallWork"
                )

            await until_async(
                lambda: pinned(one.keys[0]) and pinned(two.keys[0]),
                what="both pins heard",
                detail=lambda: heard.values(),
            )
            assert running.subjects.values(object_key("Agent", first_agent)) in heard.subjects
            assert running.subjects.values(object_key("Agent", second_agent)) in heard.subjects
            # Pushed, not polled: no session peeked meanwhile.
            assert simulator.state()["requests"].get("peek", 0) == peeks
    finally:
        unpin_all(simulator)


async def test_pushed_changes_are_passed_on_without_the_dashboards_frame_pacing(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """The hub is no screen: its push feed holds changes back at most PUSH_PACING between
    rounds and flushes, not the dashboards' one frame a second (a change through a hub waited
    for that second on top of the dashboard's own: p50 1.6 s against 0.4 s direct in
    benchmarks/hub.py fanout). Two pins in quick succession: the second's flush was held."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    agent = _agents(simulator)[3]
    heard = Heard()

    def shows(key: str, status: str) -> bool:
        value: Any = heard.values().get(key)
        return isinstance(value, dict) and value.get("stateValue", {}).get("status") == status

    try:
        async with running_hub(sleep=sleep) as running:
            await listen(running.nats, running.subjects.values(">"), heard)
            reply = await declare(running.nats, running.subjects, "one", [state(agent)])
            await until_async(lambda: running.hub.status().upstream == "push", what="push live")
            key = reply.keys[0]
            for status in ("AfterCallWork", "NotReadyForNextCall", "AfterCallWork"):
                pin(simulator, "Agent", agent, "CurrentAgentState", status)
                await until_async(partial(shows, key, status), what=f"{status} heard")
    finally:
        unpin_all(simulator)
    assert [wait for wait in waits if wait > PUSH_PACING] == []


async def test_object_ids_with_dots_spaces_and_wildcards_never_reach_a_subject(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Ids with `.`, spaces, `*` and `>` are keyed in hex: every subject the hub uses is
    its own tokens and hex; the server's refusals come back by index."""
    hostile = ["a.b c", "x*", "y.>", "> *"]
    queue = _queues(simulator)[0]
    items = [
        waiting(queue),
        *(
            item(f"s{n}", "Queue", oid, "CurrentNumberWaitingCalls")
            for n, oid in enumerate(hostile)
        ),
    ]
    heard = Heard()
    async with running_hub() as running:
        await listen(running.nats, f"statdash.{running.subjects.namespace}.>", heard)
        reply = await declare(running.nats, running.subjects, "odd", items)
        assert reply.error is None
        assert reply.objects[1:] == [object_key("Queue", oid) for oid in hostile]
        assert all(re.fullmatch(r"[0-9a-f]{24}", obj) for obj in reply.objects)
        assert [refusal.index for refusal in reply.refused] == [1, 2, 3, 4]
        await until_async(lambda: any(s.endswith(".status") for s in heard.subjects))
    token = r"[0-9a-f]+|declare|peek|release|renew|status|values"
    namespace = re.escape(running.subjects.namespace)
    for subject in heard.subjects:
        assert re.fullmatch(rf"statdash\.{namespace}(\.({token}))+", subject), subject


async def test_a_released_lease_closes_its_subscription_after_the_grace_period(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Released, and unneeded for the grace period, an upstream subscription is deleted
    (and crossed out of the records); one still needed by another lease stays."""
    q1, q2 = _queues(simulator)[:2]
    async with running_hub(grace=0.2) as running:
        await declare(running.nats, running.subjects, "gone", [waiting(q1)])
        kept = await declare(running.nats, running.subjects, "kept", [waiting(q2)])
        opened = _hub_subscriptions(simulator, running.hub)
        assert len(opened) == 2
        assert (await release(running.nats, running.subjects, "gone")).released
        await until_async(
            lambda: list(_hub_subscriptions(simulator, running.hub).values()) == [kept.keys],
            what="the released lease's subscription deleted",
        )
        assert (await peek(running.nats, running.subjects, "gone")).code == 404
        assert (await peek(running.nats, running.subjects, "kept")).values.keys == kept.keys


async def test_a_lease_not_renewed_lapses_and_its_subscription_closes(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A client killed with -9 renews nothing: its lease lapses and the upstream goes."""
    queue = _queues(simulator)[0]
    async with running_hub(grace=0.0) as running:
        await declare(running.nats, running.subjects, "killed", [waiting(queue)], lease_seconds=1.0)
        assert len(_hub_subscriptions(simulator, running.hub)) == 1
        await until_async(lambda: not _hub_subscriptions(simulator, running.hub), what="the lapse")
        assert running.hub.clients == 0
        assert (await peek(running.nats, running.subjects, "killed")).code == 404


async def test_a_renewed_lease_lives_on_and_a_redeclare_replaces_what_it_held(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Renew messages keep a lease past its first life (the hub's clock jumps, no test
    waits for real time); a re-declare under the same lease holds the new statistics only,
    and the old ones' subscription closes after the grace period."""
    jumped = [0.0]
    q1, q2 = _queues(simulator)[:2]
    async with running_hub(grace=0.0, clock=lambda: time.monotonic() + jumped[0]) as running:
        nats, subjects, hub = running.nats, running.subjects, running.hub
        await declare(nats, subjects, "lease", [waiting(q1)], lease_seconds=30.0)
        jumped[0] += 25.0
        await nats.publish(subjects.renew, encode(Renew(["lease", "unknown"])))
        await until_async(lambda: (hub.lease_left("lease") or 0) > 29, what="the renewal")
        jumped[0] += 25.0  # 50 s after the declare, 25 s after the renewal: still held
        assert (hub.lease_left("lease") or -1.0) > 0
        second = await declare(nats, subjects, "lease", [waiting(q2)], lease_seconds=30.0)
        await until_async(
            lambda: list(_hub_subscriptions(simulator, hub).values()) == [second.keys],
            what="the replaced statistics' subscription closed",
        )
        assert hub.clients == 1 and hub.statistics == 1
        jumped[0] += 31.0
        await until_async(lambda: hub.clients == 0, what="the lapse")


async def test_a_lease_shorter_than_its_first_answer_is_held_from_the_answer(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A lease's life starts when its declare is answered: a 1 s lease whose subscription
    takes 1.5 s to open is held after the answer, not lapsed while it waited."""
    async with running_hub() as running:
        simulator.set_faults(latency_ms={"subscribe": 1500})
        try:
            reply = await declare(
                running.nats,
                running.subjects,
                "short",
                [waiting(_queues(simulator)[0])],
                lease_seconds=1.0,
            )
        finally:
            simulator.clear_faults()
        assert reply.error is None
        assert (running.hub.lease_left("short") or -1.0) > 0.5
        assert running.hub.clients == 1


async def test_hostile_declares_get_400_and_the_hub_goes_on(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Garbage bytes, a wrong shape, a bad item, a hostile lease: each a 400 with a sentence;
    then a good declare is answered."""
    queue = _queues(simulator)[0]
    bad_item = {"statisticId": "x", "objectType": "Queue", "name": "CurrentNumberWaitingCalls"}
    payloads = [
        b"\xff\x00 not msgpack",
        msgspec.msgpack.encode({"lease": 5, "items": "no"}),
        msgspec.msgpack.encode([1, 2, 3]),
        encode(Declare(lease="l", items=[bad_item])),
        encode(Declare(lease="l", items=[])),
        encode(Declare(lease="", items=[waiting(queue)])),
        encode(Declare(lease="l", items=[waiting(queue)], lease_seconds=float("nan"))),
        encode(Declare(lease="l", items=[waiting(queue)], version=99)),
    ]
    async with running_hub() as running:
        for payload in payloads:
            reply = await raw_declare(running.nats, running.subjects, payload)
            assert reply.code == 400, payload
            assert reply.error and "\n" not in reply.error
        bad = await raw_declare(running.nats, running.subjects, payloads[3])
        assert bad.error is not None and "item 0" in bad.error and "objectId" in bad.error
        assert running.hub.clients == 0 and not _hub_subscriptions(simulator, running.hub)
        # Garbage on the other subjects: refused or ignored, never the hub's end.
        nats, subjects = running.nats, running.subjects
        garbage = b"\xc1\xc1 garbage"
        peeked = decode((await nats.request(subjects.peek, garbage, timeout=30)).data, PeekReply)
        assert peeked.code == 400 and peeked.error
        released = await nats.request(subjects.release, garbage, timeout=30)
        assert decode(released.data, ReleaseReply).released is False
        await nats.publish(subjects.renew, garbage)
        await nats.publish(subjects.renew, msgspec.msgpack.encode({"leases": [1, None]}))
        good = await declare(running.nats, running.subjects, "good", [waiting(queue)])
        assert good.error is None and len(good.values.keys) == 1


async def test_an_unreachable_upstream_gets_503_and_drops_the_lease(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A declare whose subscription cannot open is answered 503 with the reason; the lease
    holds nothing and nothing stays open."""
    queue = _queues(simulator)[0]
    async with running_hub() as running:
        simulator.set_faults(refuse_subscriptions="http503")
        try:
            reply = await declare(running.nats, running.subjects, "refused", [waiting(queue)])
        finally:
            simulator.clear_faults()
        assert reply.code == 503 and reply.error
        assert running.hub.clients == 0 and running.hub.statistics == 0


async def test_stop_leaves_nothing_open(
    simulator: RunningSimulator, running_hub: HubFactory, tmp_path: Path
) -> None:
    """Stopped, the hub deletes every upstream subscription and disconnects push; its
    records are crossed out."""
    records = SubscriptionRecords(tmp_path / "stop-records.json")
    queues = _queues(simulator)
    async with running_hub(records=records) as running:
        await declare(running.nats, running.subjects, "a", [waiting(queues[0])])
        await declare(running.nats, running.subjects, "b", [waiting(queues[1])])
        assert len(records.entries()) == 2
        assert simulator.state()["cometd_clients"] >= 1
    assert_nothing_left_open(simulator)
    assert records.entries() == []


async def test_the_status_says_how_the_upstream_is(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """Every tick a Status: this hub's id, "poll" when polling, the counts."""
    heard = Heard()
    async with running_hub(updates="poll") as running:
        await listen(running.nats, running.subjects.status, heard)
        await declare(running.nats, running.subjects, "a", [waiting(_queues(simulator)[0])])
        await until_async(lambda: any(s.clients == 1 for s in heard.statuses))
    status = next(s for s in heard.statuses if s.clients == 1)
    assert status.hub == running.hub.hub_id
    assert (status.upstream, status.available, status.statistics) == ("poll", True, 1)
    assert status.interval == 1.0


async def test_a_failing_upstream_is_told_lost_then_back(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """While its peeks fail the hub says `lost: <why>` and cannot vouch for its values;
    once they succeed again it says how values arrive and vouches again."""
    async with running_hub(updates="poll") as running:
        await declare(running.nats, running.subjects, "a", [waiting(_queues(simulator)[0])])
        simulator.set_faults(error_rate={"peek": 1.0}, error_status=503)
        try:
            await until_async(lambda: not running.hub.status().available, what="lost")
            status = running.hub.status()
            assert status.upstream.startswith("lost: ") and "503" in status.upstream
        finally:
            simulator.clear_faults()
        await until_async(lambda: running.hub.status().available, what="back")
        assert running.hub.status().upstream == "poll"


async def test_push_lost_falls_back_to_polling_and_comes_back(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """When the push channel fails (auto), the sessions poll at the refresh interval and the
    hub still vouches for its values; once the channel is back it says push again."""
    agent = _agents(simulator)[0]
    try:
        async with running_hub() as running:
            hub = running.hub
            await declare(running.nats, running.subjects, "a", [state(agent)])
            await until_async(lambda: hub.status().upstream == "push", what="push live")
            simulator.set_faults(error_rate={"notifications": 1.0}, error_status=503)
            try:
                # A change ends the connect the server holds; the next ones fail.
                pin(simulator, "Agent", agent, "CurrentAgentState", "AfterCallWork")
                await until_async(
                    lambda: hub.status().upstream == "push lost: polling", what="push lost"
                )
                assert hub.status().available
                peeks = simulator.state()["requests"].get("peek", 0)
                await until_async(
                    lambda: simulator.state()["requests"].get("peek", 0) > peeks + 1,
                    what="polling at the refresh interval",
                )
            finally:
                simulator.clear_faults()
            await until_async(lambda: hub.status().upstream == "push", what="push back")
    finally:
        unpin_all(simulator)


def _wild_server(value: object) -> httpx.MockTransport:
    """A Statistics API whose every statistic has `value` (subscribe, peek, delete)."""
    opened: dict[str, Any] = {"ids": [], "operation": ""}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(200, json={"status": {"code": 0}})
        if request.method == "POST":
            body = json.loads(request.content)
            opened["ids"] = [s["statisticId"] for s in body["data"]["statistics"]]
            opened["operation"] = body["operationId"]
        statistics = [
            {"statisticId": sid, "timestamp": 1_700_000_000_000, "value": value}
            for sid in opened["ids"]
        ]
        operation = opened["operation"]
        data = {"operationId": operation, "subscriptionId": operation, "statistics": statistics}
        return httpx.Response(200, json={"status": {"code": 0}, "data": data})

    return httpx.MockTransport(answer)


async def test_a_value_msgpack_cannot_carry_is_marked_and_the_hub_goes_on(
    nats: LocalNats, tmp_path: Path
) -> None:
    """A server value with an integer beyond 64 bits reaches clients marked unreadable (the
    way a number too long for JSON is), in the first frame and in peeks; nothing crashes."""
    huge = {"intValue": 10**30, "stringValue": "1" + "0" * 30}
    subjects = new_subjects()
    async with (
        StatisticsClient("http://wild.test", "k", transport=_wild_server(huge)) as client,
        nats_client(nats) as hub_nats,
        nats_client(nats) as test_nats,
    ):
        hub = Hub(
            client,
            hub_nats,
            subjects,
            interval=1.0,
            updates="poll",
            grace=0.0,
            records=SubscriptionRecords(tmp_path / "records.json"),
            tick=0.1,
        )
        task = asyncio.get_running_loop().create_task(hub.run())
        try:
            await until_async(lambda: _answers(test_nats, subjects), what="the hub answering")
            reply = await declare(test_nats, subjects, "a", [waiting("8001@SIP_Switch")])
            assert reply.error is None
            assert reply.values.values == [UNREADABLE_NUMBER]
            peeked = await peek(test_nats, subjects, "a")
            assert peeked.values.values == [UNREADABLE_NUMBER]
        finally:
            hub.stop()
            await task


async def test_refused_credentials_are_tried_again_after_a_while(
    simulator: RunningSimulator, running_hub: HubFactory
) -> None:
    """A server that refuses the credentials halts an upstream session (no retry can help
    until they change); with nobody to press r, the hub tries again every few minutes (its
    clock jumps here, a tick at a time) and recovers once they are accepted."""
    jumped = [0.0]
    heard = Heard()
    async with running_hub(updates="poll", clock=lambda: time.monotonic() + jumped[0]) as running:
        hub = running.hub
        await listen(running.nats, running.subjects.status, heard)
        queue = _queues(simulator)[0]
        await declare(running.nats, running.subjects, "a", [waiting(queue)], lease_seconds=3600)
        simulator.set_faults(error_rate={"peek": 1.0}, error_status=403)
        try:
            await until_async(lambda: not hub.status().available, what="refused")
            assert "press r" not in hub.status().upstream
        finally:
            simulator.clear_faults()
        ticks = [len(heard.statuses)]

        def later() -> bool:
            # After each tick (its status heard) the clock moves past the retry.
            if len(heard.statuses) > ticks[0]:
                ticks[0] = len(heard.statuses)
                jumped[0] += RETRY_REFUSED_SECONDS + 1
            return hub.status().available

        await until_async(later, what="tried again")
        assert hub.clients == 1 and hub.statistics == 1  # recovered, not lapsed
