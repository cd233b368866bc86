"""Tests for statdash.live.session: the poll loop, driven on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from statdash.api import errors
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.retry import Backoff
from statdash.live.session import Phase, Session, SessionStatus
from tests.live.fakes import FakeClient, FakeItemError, VirtualClock

ITEMS = [SubscriptionItem(statistic_id="a", object_id="ana.silva", object_type="Agent", name="X")]


@dataclass
class Harness:
    clock: VirtualClock
    client: FakeClient
    session: Session
    statuses: list[SessionStatus]
    values: list[Sequence[StatisticValue]]

    async def run_until(self, predicate: object, limit: int = 10_000) -> None:
        """Run the session until predicate(self) holds, then stop it and wait for the end."""
        task = asyncio.create_task(self.session.run())
        for _ in range(limit):
            await asyncio.sleep(0)
            if callable(predicate) and predicate(self):
                break
        else:
            raise AssertionError("condition never held")
        self.session.stop()
        await asyncio.wait_for(task, 5)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.client.calls]


def make(
    interval: float = 1.0,
    deleted: list[str] | None = None,
    opened: list[str] | None = None,
    **client_options: object,
) -> Harness:
    clock = VirtualClock()
    client = FakeClient(clock, **client_options)  # type: ignore[arg-type]
    statuses: list[SessionStatus] = []
    values: list[Sequence[StatisticValue]] = []
    session = Session(
        client,
        ITEMS,
        interval,
        on_values=values.append,
        on_status=statuses.append,
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
        delete_timeout=0.2,
        on_deleted=None if deleted is None else deleted.append,
        on_opened=None if opened is None else opened.append,
    )
    return Harness(clock, client, session, statuses, values)


def _peek_times(h: Harness) -> list[float]:
    return [at for kind, at in h.client.calls if kind == "peek"]


async def test_subscribes_polls_on_the_interval_and_deletes_on_stop() -> None:
    """The session opens one subscription, peeks once per interval, and deletes it when stopped."""
    h = make(interval=2.0)
    await h.run_until(lambda h: len(_peek_times(h)) >= 3)
    assert h.kinds()[0] == "open"
    times = _peek_times(h)
    assert [b - a for a, b in itertools.pairwise(times)] == [2.0, 2.0]
    assert h.client.deleted == ["sub1"]
    assert h.statuses[-1].phase is Phase.STOPPED
    assert len(h.values) >= 4


async def test_slow_poll_skips_beats_instead_of_queueing() -> None:
    """A poll taking 2.5 intervals makes the next one wait for the next grid beat, not run twice."""
    h = make(interval=1.0, peek_duration=2.5)
    await h.run_until(lambda h: len(_peek_times(h)) >= 3)
    times = _peek_times(h)
    # Each poll starts on a whole beat after the previous one ended: 1001 -> ends 1003.5 -> 1004.
    assert times[:3] == [1001.0, 1004.0, 1007.0]


async def test_failures_back_off_then_recover_live() -> None:
    """Two 503s put the session in 'retrying' with growing delays; it returns to live after."""
    unavailable = errors.ServiceUnavailableError(503, "busy")
    h = make(interval=1.0, peek_failures=[unavailable, unavailable])
    await h.run_until(lambda h: h.session.status.phase is Phase.LIVE and h.session.status.polls > 2)
    retrying = [s for s in h.statuses if s.phase is Phase.RETRYING]
    assert retrying and all(s.retry_at is not None for s in retrying)
    assert h.session.status.error_count == 2
    assert h.session.status.last_error == "the server answered HTTP 503: busy"


def test_backoff_is_capped_and_jittered() -> None:
    """Retries run at the interval for three failures, then double up to the cap, jittered."""
    rng = random.Random(3)
    backoff = Backoff(base=1.0, cap=30.0, steady=3, jitter="half", random=rng.random)
    assert [backoff.ceiling(n) for n in range(1, 10)] == [1, 1, 1, 2, 4, 8, 16, 30, 30]
    delays = [backoff.delay(n) for n in range(1, 200)]
    assert all(0.5 <= d <= 1.0 for d in delays[:3])
    assert max(delays[8:]) <= 30.0 and min(delays[8:]) >= 15.0
    assert len({round(d, 6) for d in delays[8:]}) > 100


async def test_lost_subscription_is_replaced_and_the_old_one_deleted() -> None:
    """A 404 on peek (server restart) deletes the old id and opens a new subscription."""
    gone = errors.NotFoundError(404, "Subscription 'sub1' not found")
    h = make(peek_failures=[gone])
    await h.run_until(lambda h: len(h.client.opened) == 2 and len(_peek_times(h)) >= 3)
    assert h.client.deleted == ["sub1", "sub2"]
    assert h.session.status.error_count == 0


async def test_confirmed_deletes_are_reported_for_crash_records() -> None:
    """Each subscription whose delete succeeded is reported through on_deleted."""
    deleted: list[str] = []
    h = make(deleted=deleted)
    await h.run_until(lambda h: len(_peek_times(h)) >= 1)
    assert deleted == ["sub1"]


async def test_refused_credentials_stop_polling() -> None:
    """A 401 halts the loop in 'failed' instead of retrying, until the user asks for a poll."""
    refused = errors.AuthenticationError(401, "token expired")
    h = make(peek_failures=[refused])
    task = asyncio.create_task(h.session.run())
    for _ in range(200):
        await asyncio.sleep(0)
    assert h.session.status.phase is Phase.FAILED
    peeks = len(_peek_times(h))
    assert peeks == 1
    h.session.poll_now()
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(_peek_times(h)) > peeks
    h.session.stop()
    await asyncio.wait_for(task, 5)


async def test_pause_stops_polls_and_resume_polls_at_once() -> None:
    """While paused no request is made; resuming polls immediately."""
    h = make(interval=1.0)
    task = asyncio.create_task(h.session.run())
    while len(_peek_times(h)) < 2:
        await asyncio.sleep(0)
    h.session.pause()
    for _ in range(100):
        await asyncio.sleep(0)
    assert h.session.status.phase is Phase.PAUSED
    count = len(_peek_times(h))
    for _ in range(100):
        await asyncio.sleep(0)
    assert len(_peek_times(h)) == count
    paused_at = h.clock.now
    h.session.resume()
    while len(_peek_times(h)) == count:
        await asyncio.sleep(0)
    assert _peek_times(h)[-1] == paused_at
    h.session.stop()
    await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("answer", ["values", "failure"])
async def test_a_pause_pressed_while_a_poll_is_in_flight_stands(answer: str) -> None:
    """The poll in flight ends (with values or an error) without undoing the pause."""
    unavailable = errors.ServiceUnavailableError(503, "busy")
    h = make(interval=1.0)
    task = asyncio.create_task(h.session.run())
    while len(_peek_times(h)) < 2:
        await asyncio.sleep(0)
    h.client.peek_gate = asyncio.Event()
    while len(_peek_times(h)) < 3:
        await asyncio.sleep(0)
    if answer == "failure":
        h.client.peek_failures.append(unavailable)
    h.session.pause()  # the third peek is still waiting for its answer
    h.client.peek_gate.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert h.session.status.phase is Phase.PAUSED
    assert len(_peek_times(h)) == 3
    h.session.stop()
    await asyncio.wait_for(task, 5)


async def test_cancelled_run_still_deletes_the_subscription() -> None:
    """Cancelling the task that runs the session still deletes the subscription."""
    h = make()
    task = asyncio.create_task(h.session.run())
    while not h.client.opened:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert h.client.deleted == ["sub1"]


async def test_hung_delete_gives_up_after_the_timeout() -> None:
    """A delete that never answers is abandoned after the delete timeout and not reported done."""
    deleted: list[str] = []
    h = make(deleted=deleted, delete_hangs=True)
    task = asyncio.create_task(h.session.run())
    while not h.client.opened:
        await asyncio.sleep(0)
    h.session.stop()
    await asyncio.wait_for(task, 5)
    assert deleted == []
    assert h.session.status.phase is Phase.STOPPED


async def test_item_problems_are_reported() -> None:
    """Per-item errors of a partial subscribe are kept in the status for the UI."""
    h = make(subscribe_errors=[FakeItemError("a", 404, "Unknown statistic 'X'")])
    await h.run_until(lambda h: h.session.status.polls >= 1)
    problems = h.session.status.item_problems
    assert problems and problems[0].message == "Unknown statistic 'X'"


async def test_subscribe_retries_reuse_the_operation_id() -> None:
    """A subscribe that timed out is retried with the same operationId, so no duplicate opens."""
    timeout = errors.RequestTimeoutError("timed out")
    h = make(subscribe_failures=[timeout, timeout])
    await h.run_until(lambda h: h.session.status.polls >= 1)
    ids = h.client.operation_ids
    assert len(ids) == 3 and ids[0] is not None and len(set(ids)) == 1


async def test_stop_during_failed_subscribe_deletes_the_pending_operation() -> None:
    """Stopping after a subscribe got no answer deletes its operationId, which may have opened."""
    h = make(subscribe_failures=[errors.RequestTimeoutError("timed out")] * 50)
    await h.run_until(lambda h: len(h.client.operation_ids) >= 2)
    assert h.client.deleted == [h.client.operation_ids[0]]


async def test_operation_id_is_on_record_before_the_subscribe_is_sent() -> None:
    """The operationId (which becomes the subscription id) is reported as possibly open before
    the request goes out, so a run killed mid-request still leaves a record to clean up."""
    clock = VirtualClock()
    client = FakeClient(clock, subscribe_failures=[errors.RequestTimeoutError("timed out")])
    recorded: list[str] = []

    async def open_and_check(items: object, **options: object) -> object:
        # At the moment the request is sent, its id is already recorded.
        assert recorded == [options["operation_id"]]
        return await FakeClient.open_subscription(client, items, **options)  # type: ignore[arg-type]

    client.open_subscription = open_and_check  # type: ignore[method-assign,assignment]
    session = Session(
        client,
        ITEMS,
        1.0,
        on_values=lambda values: None,
        on_status=lambda status: None,
        on_opened=recorded.append,
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
    )
    task = asyncio.create_task(session.run())
    while session.status.polls < 1:
        await asyncio.sleep(0)
    session.stop()
    await asyncio.wait_for(task, 5)
    # Recorded once for both attempts (the retry re-sends the same id); the fake answers with
    # its own subscription id, which is recorded as well.
    assert recorded == [client.operation_ids[0], "sub1"]


# An ordinary web server's answers: no Statistics API envelope, so `code` is None.
NOT_AN_API = [
    errors.error_for_status(501, "Unsupported method ('POST')"),
    errors.error_for_status(404, "File not found"),
    errors.error_for_status(405, "Method Not Allowed"),
]


@pytest.mark.parametrize(
    "failure",
    [errors.ConnectError("cannot connect to http://127.0.0.1:1: refused"), *NOT_AN_API],
    ids=["refused", "html501", "html404", "html405"],
)
async def test_an_open_that_provably_created_nothing_is_crossed_out(
    failure: errors.StatisticsError,
) -> None:
    """A subscribe refused at connect, or answered by a server that is not a Statistics API,
    created nothing: its record is crossed out at once, the next try gets a fresh id, and no
    delete is sent on the way out."""
    opened: list[str] = []
    deleted: list[str] = []
    h = make(opened=opened, deleted=deleted, subscribe_failures=[failure] * 50)
    await h.run_until(lambda h: len(h.client.operation_ids) >= 3)
    ids = h.client.operation_ids
    assert len(set(ids)) == len(ids)
    assert opened == ids and deleted == ids
    assert "delete" not in h.kinds()


async def test_a_refusal_after_an_unanswered_open_keeps_the_record() -> None:
    """Once an attempt with an id may have reached the server (it timed out), a later
    refused connection proves nothing: the same id is retried, stays recorded and is
    deleted on the way out."""
    refused = errors.ConnectError("cannot connect to http://127.0.0.1:1: refused")
    opened: list[str] = []
    deleted: list[str] = []
    h = make(
        opened=opened,
        deleted=deleted,
        subscribe_failures=[errors.RequestTimeoutError("timed out"), *[refused] * 50],
    )
    await h.run_until(lambda h: len(h.client.operation_ids) >= 3)
    ids = h.client.operation_ids
    assert len(set(ids)) == 1
    assert opened == [ids[0]]
    assert h.client.deleted == [ids[0]] and deleted == [ids[0]]


@pytest.mark.parametrize("answer", NOT_AN_API[:1] + NOT_AN_API[2:], ids=["html501", "html405"])
async def test_a_delete_answered_by_a_non_api_server_crosses_out_the_record(
    answer: errors.StatisticsError,
) -> None:
    """An id whose open got no answer is deleted on the way out; a delete answered by a server
    that is not a Statistics API proves no subscription is there, so its record goes too."""
    deleted: list[str] = []
    h = make(
        deleted=deleted,
        subscribe_failures=[errors.RequestTimeoutError("timed out")] * 50,
        delete_failures=[answer],
    )
    await h.run_until(lambda h: len(h.client.operation_ids) >= 2)
    assert h.client.deleted == [] and deleted == [h.client.operation_ids[0]]


async def test_a_delete_refused_for_credentials_keeps_the_record() -> None:
    """A delete refused by a gateway (403 without an envelope) says nothing about the
    subscription: its record stays for `statdash cleanup`."""
    deleted: list[str] = []
    h = make(
        deleted=deleted,
        subscribe_failures=[errors.RequestTimeoutError("timed out")] * 50,
        delete_failures=[errors.error_for_status(403, "Forbidden")],
    )
    await h.run_until(lambda h: len(h.client.operation_ids) >= 2)
    assert deleted == []


async def test_a_check_asked_during_a_poll_in_flight_polls_again_at_once() -> None:
    """`r` pressed while a poll is on its way: that poll may have left before the press, so
    another follows at once, not after the interval (the press used to be forgotten)."""
    gate = asyncio.Event()
    h = make(interval=30.0, peek_gate=gate)
    task = asyncio.create_task(h.session.run())
    while len(_peek_times(h)) < 1:
        await asyncio.sleep(0)
    asked_at = h.clock.now
    h.session.poll_now()  # the first poll is still waiting for its answer
    gate.set()
    while len(_peek_times(h)) < 2:
        await asyncio.sleep(0)
    assert _peek_times(h)[1] - asked_at < 1.0
    h.session.stop()
    await asyncio.wait_for(task, 5)
