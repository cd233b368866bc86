"""Tests for statdash.live.push_feed: channel states, coalescing, resyncs, disconnect."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from statdash.api import errors
from statdash.live.push_feed import RETRY_BASE, FeedState, PushFeed
from tests.support.wait import until_async


@dataclass(frozen=True)
class Update:
    statistic_id: str
    value: object
    timestamp: object = None
    subscription_id: str | None = "sub1"


@dataclass(frozen=True)
class Batch:
    updates: tuple[Update, ...] = ()
    service_state: str | None = None
    rehandshook: bool = False
    skipped: int = 0
    interrupted: bool = False
    upstream: str | None = None


Step = Batch | errors.StatisticsError


@dataclass
class FakeChannel:
    """A channel whose open and rounds are scripted; a round waits when the script is empty."""

    opening: Step = field(default_factory=Batch)
    rounds: asyncio.Queue[Step] = field(default_factory=asyncio.Queue)
    closed: int = 0
    undisconnected: bool = False

    async def open(self) -> Batch:
        if isinstance(self.opening, errors.StatisticsError):
            raise self.opening
        return self.opening

    async def next_batch(self) -> Batch:
        step = await self.rounds.get()
        if isinstance(step, errors.StatisticsError):
            raise step
        return step

    async def close(self) -> None:
        self.closed += 1


@dataclass
class Recorder:
    """Collects what the feed hands on."""

    updates: list[dict[str, object]] = field(default_factory=list)
    states: list[FeedState] = field(default_factory=list)
    resyncs: int = 0

    def on_updates(self, ids: list[str], values: list[object], stamps: list[object]) -> None:
        self.updates.append(dict(zip(ids, values, strict=True)))

    def on_resync(self) -> None:
        self.resyncs += 1


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


def _feed(
    channels: list[FakeChannel],
    seen: Recorder,
    *,
    accepts: Callable[[str | None], bool] = lambda _: True,
    flush_gap: float = 0.0,
    sleep: Callable[[float], Awaitable[None]] = _no_wait,
    retry_base: float = RETRY_BASE,
) -> PushFeed:
    """A feed over `channels` (one per open, in order) that tells `seen` what it hands on."""
    pool = iter(channels)
    return PushFeed(
        lambda: next(pool),
        on_updates=seen.on_updates,
        on_state=seen.states.append,
        on_resync=seen.on_resync,
        accepts=accepts,
        sleep=sleep,
        flush_gap=flush_gap,
        retry_base=retry_base,
    )


async def test_open_confirms_the_channel_and_hands_on_data_from_the_open_replies() -> None:
    """A successful open makes the feed live and hands on updates that came with it."""
    channel = FakeChannel(opening=Batch((Update("a", {"intValue": 1}),)))
    seen = Recorder()
    feed = _feed([channel], seen)
    assert await feed.open()
    assert feed.live and feed.state is FeedState.LIVE
    assert seen.updates == [{"a": {"intValue": 1}}]


async def test_updates_while_paused_are_coalesced_to_the_latest_per_statistic() -> None:
    """While paused nothing is handed on; on resume one hand-over carries the latest of each."""
    channel = FakeChannel()
    seen = Recorder()
    feed = _feed([channel], seen)
    await feed.open()
    task = asyncio.create_task(feed.run())
    feed.pause()
    for number in range(50):
        channel.rounds.put_nowait(Batch((Update("a", number), Update("b", -number))))
    await until_async(lambda: feed.updates_received == 100, interval=0)
    assert seen.updates == []
    feed.resume()
    assert seen.updates == [{"a": 49, "b": -49}]
    feed.stop()
    await task


async def test_a_late_older_delivery_does_not_replace_a_newer_pending_value() -> None:
    """An out-of-order update with an older timestamp is dropped, the newer value kept."""
    channel = FakeChannel()
    seen = Recorder()
    feed = _feed([channel], seen)
    await feed.open()
    feed.pause()
    feed._take(Batch((Update("a", 2, timestamp=2000),)))
    feed._take(Batch((Update("a", 1, timestamp=1000),)))
    feed.resume()
    assert seen.updates == [{"a": 2}]
    assert feed.duplicates_dropped == 1


async def test_updates_of_other_subscriptions_are_ignored() -> None:
    """Only updates the feed accepts (its own subscription's) are handed on."""
    channel = FakeChannel(opening=Batch((Update("a", 1, subscription_id="old"), Update("b", 2))))
    seen = Recorder()
    feed = _feed([channel], seen, accepts=lambda sid: sid == "sub1")
    await feed.open()
    assert seen.updates == [{"b": 2}]


async def test_hand_overs_are_spaced_by_the_flush_gap() -> None:
    """Deliveries closer together than the gap wait and go on together."""
    channel = FakeChannel()
    seen = Recorder()
    feed = PushFeed(
        lambda: channel,
        on_updates=seen.on_updates,
        on_state=seen.states.append,
        on_resync=seen.on_resync,
        flush_gap=0.05,
    )
    await feed.open()
    feed._take(Batch((Update("a", 1),)))
    feed._take(Batch((Update("a", 2), Update("b", 3))))
    feed._take(Batch((Update("c", 4),)))
    assert seen.updates == [{"a": 1}]
    await until_async(lambda: len(seen.updates) == 2, interval=0)
    assert seen.updates[1] == {"a": 2, "b": 3, "c": 4}
    await feed.close()


async def test_one_failed_round_is_a_blip_two_lose_the_channel_and_it_is_reopened() -> None:
    """A single failure keeps the channel; two in a row lose it, and a reopen asks for a resync."""
    first, second = FakeChannel(), FakeChannel()
    seen = Recorder()
    feed = _feed([first, second], seen)
    await feed.open()
    task = asyncio.create_task(feed.run())
    first.rounds.put_nowait(errors.ConnectError("refused"))
    first.rounds.put_nowait(Batch((Update("a", 1),)))
    await until_async(lambda: seen.updates == [{"a": 1}], interval=0)
    assert feed.state is FeedState.LIVE and first.closed == 0
    first.rounds.put_nowait(errors.ConnectError("refused"))
    first.rounds.put_nowait(errors.ConnectError("refused"))
    await until_async(lambda: first.closed == 1, interval=0)
    assert FeedState.LOST in seen.states
    await until_async(lambda: feed.state is FeedState.LIVE, interval=0)
    assert seen.resyncs == 1, "what changed while the channel was down needs a peek"
    feed.stop()
    await task
    assert second.closed == 1


async def test_advice_none_loses_the_channel_at_once() -> None:
    """PushLost (the server advised no reconnect) loses the channel without a second try."""
    channel, spare = FakeChannel(), FakeChannel(opening=errors.PushUnavailable("gone"))
    seen = Recorder()
    feed = _feed([channel, spare], seen)
    await feed.open()
    task = asyncio.create_task(feed.run())
    channel.rounds.put_nowait(errors.PushLost("advice none"))
    await until_async(lambda: channel.closed == 1, interval=0)
    assert FeedState.LOST in seen.states
    feed.stop()
    await task


async def test_a_server_without_push_is_unavailable_not_lost() -> None:
    """PushUnavailable on open leaves the feed unavailable, with the reason on record."""
    channel = FakeChannel(opening=errors.PushUnavailable("no CometD here"))
    seen = Recorder()
    feed = _feed([channel], seen)
    assert not await feed.open()
    assert feed.state is FeedState.UNAVAILABLE
    assert feed.last_error is not None
    assert channel.closed == 1


async def test_rehandshake_and_service_coming_back_ask_for_a_resync() -> None:
    """A new CometD session or the service returning to Available each ask for a peek."""
    channel = FakeChannel()
    seen = Recorder()
    feed = _feed([channel], seen)
    await feed.open()
    feed._take(Batch(rehandshook=True))
    assert seen.resyncs == 1
    feed._take(Batch(service_state="Unavailable"))
    assert not feed.live, "an unavailable service means values are not current"
    assert seen.resyncs == 1
    feed._take(Batch(service_state="Available"))
    assert feed.live and seen.resyncs == 2


async def test_stop_ends_run_and_disconnects() -> None:
    """run() returns after stop() and closes (disconnects) the channel exactly once."""
    channel = FakeChannel()
    seen = Recorder()
    feed = _feed([channel], seen)
    await feed.open()
    task = asyncio.create_task(feed.run())
    await asyncio.sleep(0)
    feed.stop()
    # The held round in flight is abandoned: stopping does not wait for the server.
    await asyncio.wait_for(task, 1)
    assert channel.closed == 1
    assert feed.state is FeedState.CLOSED


class HangingOpen(FakeChannel):
    """A channel whose open never answers (a handshake held by a slow server)."""

    async def open(self) -> Batch:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_an_open_cancelled_in_flight_still_disconnects() -> None:
    """A stop that cancels an open in flight closes the channel: the handshake may have
    landed, and no CometD client may stay on the server."""
    channel = HangingOpen()
    feed = _feed([channel], Recorder())
    opening = asyncio.create_task(feed.open())
    await asyncio.sleep(0)
    opening.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await opening
    assert channel.closed == 1


async def test_a_lost_channel_is_tried_again_at_the_refresh_interval_at_first() -> None:
    """The first reopens of a lost channel wait no longer than the refresh interval, so a
    channel back within two intervals is live again within them (a 5 s first wait, 10 s
    the next, made a 2 s dashboard take 7 s after a few garbled replies)."""
    channel, back = FakeChannel(), FakeChannel()
    down = [FakeChannel(opening=errors.ConnectError("down")) for _ in range(2)]
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await asyncio.sleep(0)

    seen = Recorder()
    feed = _feed([channel, *down, back], seen, sleep=sleep, retry_base=2.0)
    await feed.open()
    task = asyncio.create_task(feed.run())
    channel.rounds.put_nowait(errors.PushLost("the server ended the session"))
    await until_async(lambda: down[-1].closed == 1, interval=0)
    await until_async(lambda: feed.state is FeedState.LIVE, interval=0)
    feed.stop()
    await task
    assert len(waits) == 3, waits
    assert all(0 < wait <= 2.0 for wait in waits), waits
    assert seen.resyncs == 1


async def test_refused_credentials_wait_for_retry_now_instead_of_asking_again() -> None:
    """A channel lost to refused credentials is not reopened on its own (every interval would
    only fill the server's log); `retry_now()` (the user's `r`) opens it again."""
    channel, back = FakeChannel(), FakeChannel()
    refused = FakeChannel(opening=errors.PermissionDeniedError(403, "the key is refused"))
    waits: list[float] = []
    woken = asyncio.Event()

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await woken.wait()

    feed = _feed([channel, refused, back], Recorder(), sleep=sleep, retry_base=2.0)
    await feed.open()
    task = asyncio.create_task(feed.run())
    channel.rounds.put_nowait(errors.PushLost("the server ended the session"))
    woken.set()  # the first reopen's wait passes: it meets the refusal
    await until_async(lambda: refused.closed == 1, interval=0)
    woken.clear()
    await until_async(lambda: len(waits) == 2, interval=0)
    assert waits[-1] >= 3600  # holding, not asking again
    assert feed.state is FeedState.LOST
    feed.retry_now()
    woken.set()
    await until_async(lambda: feed.state is FeedState.LIVE, interval=0)
    feed.stop()
    await task
