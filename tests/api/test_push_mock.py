"""The push channel against a scripted Bayeux server (httpx.MockTransport): odd replies, advice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from statdash.api import push
from statdash.api.auth import ClientCredentials
from statdash.api.client import StatisticsClient
from statdash.api.describe import describe
from statdash.api.errors import (
    AuthenticationError,
    ConfigError,
    PushLost,
    PushUnavailable,
    ServerError,
    ServiceUnavailableError,
    ShapeError,
)
from statdash.api.push import PushChannel, PushUpdate
from statdash.api.responses import UNREADABLE_NUMBER
from statdash.api.values import UnknownValue, parse_value
from tests.api.support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    SERVER,
    FakeServer,
    Sleeps,
    TokenIssuer,
    make_client,
)

NOTIFICATIONS = "/statistics/v3/notifications"
ADVICE = {"reconnect": "retry", "interval": 0, "timeout": 20000}

Reply = list[dict[str, Any]] | bytes | httpx.Response
# Answers one POST: the messages it carried -> the reply (a list of messages, bytes, a response).
Script = Callable[[list[dict[str, Any]]], Reply]


def update(statistic_id: str, number: int, subscription_id: str | None = "sub-1") -> dict[str, Any]:
    """One item of the updates channel as servers send it."""
    item: dict[str, Any] = {
        "statisticId": statistic_id,
        "name": "CurrentNumberWaitingCalls",
        "objectId": "Q1",
        "objectType": "Queue",
        "timestamp": 1_700_000_000_000 + number,
        "value": {"intValue": number},
    }
    if subscription_id is not None:
        item["subscriptionId"] = subscription_id
    return item


def updates(*items: Any, nested: bool = False) -> dict[str, Any]:
    """A data message of the updates channel (payload under `data`, or `data.data`)."""
    payload = {"statistics": list(items)}
    return {
        "channel": push.UPDATES_CHANNEL,
        "data": {"data": payload} if nested else payload,
    }


def service(state: str, *, nested: bool = False) -> dict[str, Any]:
    """A data message of the service channel."""
    payload = {"serviceState": state}
    return {"channel": push.SERVICE_CHANNEL, "data": {"data": payload} if nested else payload}


def ok(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The successful reply to `message`."""
    return {"channel": message["channel"], "id": message["id"], "successful": True, **extra}


def refused(message: dict[str, Any], error: str, **advice: Any) -> dict[str, Any]:
    """An unsuccessful reply to `message`, with advice when given."""
    reply = {"channel": message["channel"], "id": message["id"], "successful": False}
    reply["error"] = error
    if advice:
        reply["advice"] = advice
    return reply


class Bayeux:
    """A scripted CometD server: handshakes, subscribes, connects and disconnects it records.

    Each kind answers from its script (one callable per request, in order), then by default:
    handshakes give client ids c1, c2, ..., subscribes succeed, connects succeed empty.
    """

    def __init__(self) -> None:
        self.posts: list[tuple[str, list[dict[str, Any]]]] = []
        self.timeouts: list[tuple[str, float | None]] = []
        self.scripts: dict[str, list[Script]] = {
            "handshake": [],
            "subscribe": [],
            "connect": [],
            "disconnect": [],
        }
        self.handshakes = 0

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Every message sent on `channel`, in order."""
        return [m for _, batch in self.posts for m in batch if m.get("channel") == channel]

    def paths(self) -> list[str]:
        """The path of every POST, in order."""
        return [path for path, _ in self.posts]

    def default(self, kind: str, messages: list[dict[str, Any]]) -> Reply:
        if kind == "handshake":
            self.handshakes += 1
            [message] = messages
            return [
                ok(
                    message,
                    version="1.0",
                    clientId=f"c{self.handshakes}",
                    supportedConnectionTypes=["long-polling"],
                    advice=ADVICE,
                )
            ]
        if kind == "subscribe":
            return [ok(m, clientId=m["clientId"], subscription=m["subscription"]) for m in messages]
        [message] = messages
        return [ok(message, clientId=message["clientId"], advice=ADVICE)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        messages = json.loads(request.content)
        self.posts.append((path, messages))
        timeout = request.extensions.get("timeout", {})
        self.timeouts.append((path, timeout.get("read")))
        kind = path.removeprefix(NOTIFICATIONS + "/") or "subscribe"
        script = self.scripts[kind]
        answer = script.pop(0)(messages) if script else self.default(kind, messages)
        if isinstance(answer, httpx.Response):
            return answer
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, json=answer)


def channel_on(server: Bayeux | FakeServer, sleeps: Sleeps | None = None) -> PushChannel:
    """A push channel on a client of the scripted server, sleeping into `sleeps`."""
    return PushChannel(make_client(server), sleep=sleeps if sleeps is not None else Sleeps())


def connect_reply(*data: dict[str, Any], **extra: Any) -> Script:
    """A script step: a successful connect reply carrying `data` messages first."""

    def answer(messages: list[dict[str, Any]]) -> Reply:
        [message] = messages
        return [*data, ok(message, clientId=message["clientId"], advice=ADVICE, **extra)]

    return answer


async def test_open_handshakes_and_subscribes_both_channels_on_the_js_client_paths() -> None:
    """open() posts a handshake, then one subscribe batch of both channels to .../notifications/."""
    server = Bayeux()
    channel = channel_on(server)
    batch = await channel.open()
    assert server.paths() == [f"{NOTIFICATIONS}/handshake", f"{NOTIFICATIONS}/"]
    [handshake] = server.messages("/meta/handshake")
    assert handshake["supportedConnectionTypes"] == ["long-polling"]
    assert handshake["version"] == "1.0"
    subscribes = server.messages("/meta/subscribe")
    assert [m["subscription"] for m in subscribes] == [push.SERVICE_CHANNEL, push.UPDATES_CHANNEL]
    assert {m["clientId"] for m in subscribes} == {"c1"}
    assert batch.updates == [] and not batch.rehandshook
    assert channel.connected and channel.hold == 20.0


async def test_connects_carry_incrementing_ids_and_only_the_first_asks_for_no_hold() -> None:
    """The first connect of a session sends advice timeout 0, later ones none; ids increase."""
    server = Bayeux()
    channel = channel_on(server)
    await channel.open()
    await channel.next_batch()
    await channel.next_batch()
    first, second = server.messages("/meta/connect")
    assert first["advice"] == {"timeout": 0} and "advice" not in second
    assert first["connectionType"] == second["connectionType"] == "long-polling"
    ids = [int(m["id"]) for _, batch in server.posts for m in batch]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_connect_read_timeout_exceeds_the_advised_hold() -> None:
    """A server advising a 60 s hold gets connects with a 70 s read timeout, not 30 s."""
    server = Bayeux()

    def long_hold(messages: list[dict[str, Any]]) -> Reply:
        replies = server.default("handshake", messages)
        assert isinstance(replies, list)
        [reply] = replies
        assert isinstance(reply, dict)
        reply["advice"] = {"reconnect": "retry", "interval": 0, "timeout": 60000}
        return [reply]

    server.scripts["handshake"].append(long_hold)
    channel = channel_on(server)
    await channel.open()
    assert channel.hold == 60.0
    await channel.next_batch()
    connect_timeouts = [t for path, t in server.timeouts if path.endswith("/connect")]
    assert connect_timeouts == [60.0 + push.CONNECT_SLACK]


async def test_updates_in_connect_replies_come_in_arrival_order_with_duplicates_kept() -> None:
    """Items of every data message are returned in order, the same statistic twice included."""
    server = Bayeux()
    server.scripts["connect"].append(
        connect_reply(
            updates(update("a", 1), update("b", 2)),
            updates(update("a", 1), update("a", 3, subscription_id=None), nested=True),
        )
    )
    channel = channel_on(server)
    await channel.open()
    batch = await channel.next_batch()
    assert [(u.statistic_id, u.value) for u in batch.updates] == [
        ("a", {"intValue": 1}),
        ("b", {"intValue": 2}),
        ("a", {"intValue": 1}),
        ("a", {"intValue": 3}),
    ]
    assert batch.updates[0] == PushUpdate("a", {"intValue": 1}, 1_700_000_000_001, "sub-1")
    assert batch.updates[3].subscription_id is None
    assert batch.skipped == 0


async def test_updates_and_service_state_in_subscribe_replies_are_returned_by_open() -> None:
    """Data messages inside the subscribe reply (as real servers send them) are open()'s batch."""
    server = Bayeux()

    def with_data(messages: list[dict[str, Any]]) -> Reply:
        acks = server.default("subscribe", messages)
        assert isinstance(acks, list)
        return [service("Available", nested=True), updates(update("x", 7)), *acks]

    server.scripts["subscribe"].append(with_data)
    batch = await channel_on(server).open()
    assert [u.statistic_id for u in batch.updates] == ["x"]
    assert batch.service_state == "Available"


async def test_service_state_is_the_last_one_seen_in_the_batch() -> None:
    """Two service messages in one reply: the batch says the later one."""
    server = Bayeux()
    server.scripts["connect"].append(
        connect_reply(service("Available"), service("Unavailable", nested=True))
    )
    channel = channel_on(server)
    await channel.open()
    assert (await channel.next_batch()).service_state == "Unavailable"
    assert (await channel.next_batch()).service_state is None


@pytest.mark.parametrize(
    "garbage",
    [
        "not an object",
        42,
        None,
        ["a", "list"],
        {"statisticId": 5, "value": {"intValue": 1}},
        {"statisticId": "", "value": {"intValue": 1}},
        {"value": {"intValue": 1}},
    ],
)
async def test_malformed_update_items_are_skipped_and_counted(garbage: Any) -> None:
    """An item that is not an object or has no statisticId is skipped; the good ones arrive."""
    server = Bayeux()
    server.scripts["connect"].append(
        connect_reply(updates(update("a", 1), garbage, update("b", 2)))
    )
    channel = channel_on(server)
    await channel.open()
    batch = await channel.next_batch()
    assert [u.statistic_id for u in batch.updates] == ["a", "b"]
    assert batch.skipped == 1
    assert channel.connected


async def test_updates_data_that_is_not_a_list_is_counted_and_the_round_stands() -> None:
    """`statistics` as an object, and reply entries that are not messages, count as skipped."""
    server = Bayeux()

    def odd(messages: list[dict[str, Any]]) -> Reply:
        [message] = messages
        # Not all of it Bayeux messages: a string among them.
        garbled: list[Any] = [
            {"channel": push.UPDATES_CHANNEL, "data": {"statistics": {"a": 1}}},
            "not a message",
            ok(message, clientId=message["clientId"]),
        ]
        return garbled

    server.scripts["connect"].append(odd)
    channel = channel_on(server)
    await channel.open()
    batch = await channel.next_batch()
    assert batch.updates == [] and batch.skipped == 2
    assert channel.connected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"channel": "/meta/connect"', "not JSON"),
        (b"", "empty reply"),
        (b'{"status": {"code": 0}}', "not an array"),
        (b"[]", "no /meta/connect answer"),
    ],
)
async def test_a_connect_reply_that_is_not_a_bayeux_array_is_a_shape_error(
    body: bytes, message: str
) -> None:
    """Non-JSON, empty, non-list or answer-less connect replies raise ShapeError, not connected."""
    server = Bayeux()
    server.scripts["connect"].append(lambda messages: body)
    channel = channel_on(server)
    await channel.open()
    with pytest.raises(ShapeError, match=message):
        await channel.next_batch()
    assert not channel.connected
    # The session is kept: the next round connects again on it.
    await channel.next_batch()
    assert channel.connected and server.handshakes == 1


async def test_unknown_client_402_rehandshakes_resubscribes_and_says_rehandshook() -> None:
    """A Bayeux `402::Unknown client` makes a new handshake and subscribe; batch rehandshook."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: [
            refused(messages[0], "402::Unknown client", reconnect="handshake", interval=500)
        ]
    )
    sleeps = Sleeps()
    channel = channel_on(server, sleeps)
    await channel.open()
    batch = await channel.next_batch()
    assert batch.rehandshook
    assert server.handshakes == 2
    assert [m["clientId"] for m in server.messages("/meta/subscribe")] == ["c1", "c1", "c2", "c2"]
    assert sleeps.delays == [0.5]  # the advised interval before the new handshake
    assert channel.connected and channel.client_id == "c2"
    nxt = await channel.next_batch()
    assert not nxt.rehandshook
    last = server.messages("/meta/connect")[-1]
    assert last["clientId"] == "c2" and last["advice"] == {"timeout": 0}


async def test_http_402_on_connect_rehandshakes_too() -> None:
    """An HTTP 402 answer to a connect is the same as the Bayeux 402: a new session."""
    server = Bayeux()
    server.scripts["connect"].append(lambda messages: httpx.Response(402, json={"error": "x"}))
    channel = channel_on(server)
    await channel.open()
    assert (await channel.next_batch()).rehandshook
    assert server.handshakes == 2


async def test_402_without_advice_still_rehandshakes() -> None:
    """A 402 error with no advice at all is read by its code."""
    server = Bayeux()
    server.scripts["connect"].append(lambda messages: [refused(messages[0], "402::Unknown client")])
    channel = channel_on(server)
    await channel.open()
    assert (await channel.next_batch()).rehandshook


async def test_data_before_a_402_is_kept_in_the_rehandshook_batch() -> None:
    """Updates in the refused connect's reply are still returned with the new session's batch."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: [
            updates(update("a", 1)),
            refused(messages[0], "402::Unknown client", reconnect="handshake"),
        ]
    )
    channel = channel_on(server)
    await channel.open()
    batch = await channel.next_batch()
    assert batch.rehandshook and [u.statistic_id for u in batch.updates] == ["a"]


async def test_a_server_that_forgets_every_new_session_ends_in_push_lost() -> None:
    """A 402 on every connect does not re-handshake forever: the third in a row is PushLost."""
    server = Bayeux()
    server.scripts["connect"].extend(
        [lambda messages: [refused(messages[0], "402::Unknown client")]] * 3
    )
    channel = channel_on(server)
    await channel.open()
    assert (await channel.next_batch()).rehandshook
    assert (await channel.next_batch()).rehandshook
    with pytest.raises(PushLost, match="forgot the session 3 times"):
        await channel.next_batch()
    assert server.handshakes == 3
    assert not channel.connected


async def test_advice_none_raises_push_lost_and_the_channel_stays_lost() -> None:
    """`reconnect: none` raises PushLost, and so does every later call; close still disconnects."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: [refused(messages[0], "403::Go away", reconnect="none")]
    )
    channel = channel_on(server)
    await channel.open()
    with pytest.raises(PushLost, match="Go away") as lost:
        await channel.next_batch()
    assert "lost the push channel" in describe(lost.value)
    with pytest.raises(PushLost):
        await channel.next_batch()
    assert not channel.connected
    await channel.close()
    assert len(server.messages("/meta/disconnect")) == 1


async def test_refused_connects_with_retry_advice_back_off_then_push_lost() -> None:
    """Refused connects return empty batches, each next one waits longer, the third is PushLost."""
    server = Bayeux()
    server.scripts["connect"].extend(
        [lambda messages: [refused(messages[0], "500::busy", reconnect="retry", interval=0)]] * 3
    )
    sleeps = Sleeps()
    channel = channel_on(server, sleeps)
    await channel.open()
    assert (await channel.next_batch()).updates == []
    assert not channel.connected
    assert (await channel.next_batch()).updates == []
    with pytest.raises(PushLost, match="3 connects in a row refused"):
        await channel.next_batch()
    assert len(sleeps.delays) == 2
    assert 0.5 <= sleeps.delays[0] <= 1.0 and 1.0 <= sleeps.delays[1] <= 2.0


async def test_a_successful_connect_resets_the_refusal_count() -> None:
    """Two refusals, a success, two refusals: never lost."""
    server = Bayeux()
    server.scripts["connect"].extend(
        [
            lambda messages: [refused(messages[0], "500::busy", reconnect="retry")],
            lambda messages: [refused(messages[0], "500::busy", reconnect="retry")],
            connect_reply(),
            lambda messages: [refused(messages[0], "500::busy", reconnect="retry")],
            lambda messages: [refused(messages[0], "500::busy", reconnect="retry")],
        ]
    )
    channel = channel_on(server)
    await channel.open()
    for _ in range(5):
        await channel.next_batch()
    assert not channel.connected
    await channel.next_batch()
    assert channel.connected


async def test_advised_interval_is_waited_before_the_next_connect() -> None:
    """A successful connect advising interval 2500 ms makes the next connect wait 2.5 s first."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: [
            ok(
                messages[0],
                advice={"reconnect": "retry", "interval": 2500, "timeout": 20000},
            )
        ]
    )
    sleeps = Sleeps()
    channel = channel_on(server, sleeps)
    await channel.open()
    await channel.next_batch()
    assert sleeps.delays == []
    await channel.next_batch()
    assert sleeps.delays == [2.5]


async def test_absurd_advice_is_capped() -> None:
    """An interval of a day and a hold of a year are capped at 60 s and 300 s."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: [
            ok(messages[0], advice={"reconnect": "retry", "interval": 86_400_000, "timeout": 3e10})
        ]
    )
    sleeps = Sleeps()
    channel = channel_on(server, sleeps)
    await channel.open()
    await channel.next_batch()
    assert channel.hold == push.MAX_HOLD
    await channel.next_batch()
    assert sleeps.delays == [push.MAX_INTERVAL]


@pytest.mark.parametrize("status", [404, 405])
async def test_handshake_404_or_405_is_push_unavailable(status: int) -> None:
    """A server without the CometD endpoint answers 404/405: PushUnavailable, said as such."""
    server = Bayeux()
    server.scripts["handshake"].append(
        lambda messages: httpx.Response(status, json={"status": {"code": status}})
    )
    with pytest.raises(PushUnavailable) as unavailable:
        await channel_on(server).open()
    assert (
        describe(unavailable.value, "h:1")
        == f"the server at h:1 offers no push channel: HTTP {status}"
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": {"code": 0, "message": "OK"}, "data": {}}',
        b"[]",
        b'[{"channel": "/meta/handshake", "successful": true}]',
        b'[{"channel": "/meta/handshake", "successful": true, "clientId": "c\\u001b[1m"}]',
        b'[{"channel": "/meta/handshake", "successful": true, "clientId": "c",'
        b' "supportedConnectionTypes": ["websocket"]}]',
    ],
)
async def test_handshake_reply_that_is_not_usable_bayeux_is_push_unavailable(body: bytes) -> None:
    """An envelope, an empty array, no or a non-printable clientId, no long-polling: unavailable."""
    server = Bayeux()
    server.scripts["handshake"].append(lambda messages: body)
    with pytest.raises(PushUnavailable):
        await channel_on(server).open()


async def test_handshake_refused_without_advice_is_push_unavailable() -> None:
    """An unsuccessful handshake that gives no retry advice: the server will not offer push."""
    server = Bayeux()
    server.scripts["handshake"].append(lambda messages: [refused(messages[0], "403::Forbidden")])
    with pytest.raises(PushUnavailable, match="403::Forbidden"):
        await channel_on(server).open()


async def test_handshake_refused_with_retry_advice_is_tried_again_after_the_interval() -> None:
    """A refused handshake advising retry after 1 s waits 1 s and handshakes again."""
    server = Bayeux()
    server.scripts["handshake"].append(
        lambda messages: [refused(messages[0], "503::busy", reconnect="retry", interval=1000)]
    )
    sleeps = Sleeps()
    channel = channel_on(server, sleeps)
    batch = await channel.open()
    assert sleeps.delays == [1.0]
    assert len(server.messages("/meta/handshake")) == 2
    assert not batch.rehandshook and channel.connected


async def test_handshakes_refused_three_times_are_push_lost() -> None:
    """Retry advice on every handshake ends after three tries in PushLost."""
    server = Bayeux()
    server.scripts["handshake"].extend(
        [lambda messages: [refused(messages[0], "503::busy", reconnect="retry")]] * 3
    )
    with pytest.raises(PushLost, match="3 handshakes in a row refused"):
        await channel_on(server).open()


async def test_subscribe_refused_is_push_unavailable_naming_the_channel() -> None:
    """A refused channel subscription says which channel and the server's reason."""
    server = Bayeux()

    def refuse_updates(messages: list[dict[str, Any]]) -> Reply:
        return [
            ok(messages[0], subscription=messages[0]["subscription"]),
            refused(messages[1], "403::denied"),
        ]

    server.scripts["subscribe"].append(refuse_updates)
    with pytest.raises(PushUnavailable, match=r"/statistics/v3/updates refused: 403::denied"):
        await channel_on(server).open()


async def test_subscribe_402_handshakes_again_within_open() -> None:
    """A client id forgotten between handshake and subscribe: a second handshake, no error."""
    server = Bayeux()
    server.scripts["subscribe"].append(
        lambda messages: [
            refused(m, "402::Unknown client", reconnect="handshake") for m in messages
        ]
    )
    channel = channel_on(server)
    batch = await channel.open()
    assert server.handshakes == 2 and channel.client_id == "c2"
    assert not batch.rehandshook  # the first session the caller sees


async def test_server_errors_during_connect_are_raised_and_the_next_call_connects_again() -> None:
    """A 500 on connect is raised as ServerError; calling again connects on the same session."""
    server = Bayeux()
    server.scripts["connect"].append(
        lambda messages: httpx.Response(500, json={"status": {"code": 500, "message": "boom"}})
    )
    channel = channel_on(server)
    await channel.open()
    with pytest.raises(ServerError, match="boom"):
        await channel.next_batch()
    assert not channel.connected
    await channel.next_batch()
    assert channel.connected and server.handshakes == 1


async def test_a_401_during_connect_renews_the_token_and_replays_the_connect() -> None:
    """A token revoked mid-session: the connect gets a new token from ApiAuth and succeeds."""
    bayeux = Bayeux()
    tokens = TokenIssuer()
    server = FakeServer(bayeux, tokens=tokens, require_token=True)
    client = StatisticsClient(
        SERVER,
        API_KEY,
        auth=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        transport=httpx.MockTransport(server),
    )
    channel = PushChannel(client, sleep=Sleeps())
    await channel.open()
    tokens.revoke_all()
    await channel.next_batch()
    assert channel.connected
    assert tokens.issued == 2
    connects = [r for r in server.requests if r.url.path.endswith("/connect")]
    assert [r.headers["authorization"] for r in connects] == [
        "Bearer access-1",
        "Bearer access-2",
    ]


async def test_a_401_that_persists_is_raised_as_authentication_error() -> None:
    """A connect still refused after one renewal reaches the caller as AuthenticationError."""
    server = Bayeux()
    server.scripts["connect"].extend(
        [lambda messages: httpx.Response(401, json={"status": {"code": 401}})] * 2
    )
    client = StatisticsClient(
        SERVER,
        API_KEY,
        auth=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        transport=httpx.MockTransport(FakeServer(server)),
    )
    channel = PushChannel(client, sleep=Sleeps())
    await channel.open()
    with pytest.raises(AuthenticationError):
        await channel.next_batch()


async def test_server_text_in_errors_is_scrubbed_of_secrets_and_clipped() -> None:
    """A Bayeux error echoing the API key is masked, and a huge one is clipped."""
    server = Bayeux()
    server.scripts["handshake"].append(
        lambda messages: [refused(messages[0], f"403::bad key {API_KEY} " + "x" * 5000)]
    )
    with pytest.raises(PushUnavailable) as unavailable:
        await channel_on(server).open()
    text = str(unavailable.value) + describe(unavailable.value)
    assert API_KEY not in text and "***" in text
    assert len(str(unavailable.value)) < 400


async def test_close_sends_one_disconnect_and_is_idempotent() -> None:
    """close() posts /meta/disconnect for the client id once; later calls do nothing."""
    server = Bayeux()
    channel = channel_on(server)
    await channel.open()
    await channel.close()
    await channel.close()
    [disconnect] = server.messages("/meta/disconnect")
    assert disconnect["clientId"] == "c1"
    assert server.paths()[-1] == f"{NOTIFICATIONS}/disconnect"
    assert not channel.connected and channel.client_id is None
    with pytest.raises(PushLost, match="closed"):
        await channel.next_batch()


async def test_close_before_open_sends_nothing() -> None:
    """A channel never opened has nothing to disconnect."""
    server = Bayeux()
    channel = channel_on(server)
    await channel.close()
    assert server.posts == []


async def test_close_never_raises_when_the_disconnect_fails() -> None:
    """A 500, garbage, or a closed client on disconnect: close() still returns quietly."""
    server = Bayeux()
    server.scripts["disconnect"].append(lambda messages: httpx.Response(500))
    channel = channel_on(server)
    await channel.open()
    await channel.close()
    client = make_client(Bayeux())
    other = PushChannel(client, sleep=Sleeps())
    await other.open()
    await client.aclose()
    await other.close()


async def test_close_is_bounded_when_the_server_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disconnect the server never answers is abandoned after CLOSE_TIMEOUT."""
    monkeypatch.setattr(push, "CLOSE_TIMEOUT", 0.05)
    server = Bayeux()

    async def hang(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/disconnect"):
            await asyncio.sleep(30)
        return server(request)

    channel = PushChannel(make_client(hang), sleep=Sleeps())
    await channel.open()
    await asyncio.wait_for(channel.close(), timeout=2)


async def test_open_twice_and_next_batch_before_open_are_refused() -> None:
    """Misuse is a StatisticsError with a plain message, not a broken session."""
    channel = channel_on(Bayeux())
    with pytest.raises(Exception, match="not open"):
        await channel.next_batch()
    await channel.open()
    with pytest.raises(Exception, match="already open"):
        await channel.open()


async def test_a_read_timeout_that_is_not_positive_is_a_config_error() -> None:
    """request(read_timeout=0) is refused before anything is sent."""
    server = Bayeux()
    client = make_client(server)
    with pytest.raises(ConfigError, match="read_timeout"):
        await client.request("POST", "/notifications/handshake", json=[], read_timeout=0)
    assert server.posts == []


async def test_repr_names_the_server_but_not_the_client_id() -> None:
    """The client id, which would let another party read the channel, stays out of the repr."""
    channel = channel_on(Bayeux())
    await channel.open()
    assert "c1" not in repr(channel) and "connected" in repr(channel)


async def test_close_during_a_held_connect_never_starts_a_new_session() -> None:
    """A connect answered 402 after close() raises PushLost instead of handshaking again."""
    server = Bayeux()
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/connect"):
            await release.wait()
            messages = json.loads(request.content)
            return httpx.Response(200, json=[refused(messages[0], "402::Unknown client")])
        return server(request)

    channel = PushChannel(make_client(held), sleep=Sleeps())
    await channel.open()
    pending = asyncio.create_task(channel.next_batch())
    await asyncio.sleep(0.01)
    await channel.close()
    release.set()
    with pytest.raises(PushLost, match="closed"):
        await pending
    assert server.handshakes == 1
    assert len(server.messages("/meta/disconnect")) == 1


@pytest.mark.parametrize(
    "messages",
    [
        [updates(update("a", 1), update("b", 2)), {"channel": "/meta/connect", "id": "3"}],
        [updates(update("a", 1), update("a", 1), nested=True)],
        [updates(update("a", 1, subscription_id=None))],
        [updates({**update("a", 1), "subscriptionId": None, "extra": [1, 2]})],
        [service("Available"), service("Unavailable", nested=True)],
        [{"channel": push.UPDATES_CHANNEL, "data": None}],
        [{"channel": push.UPDATES_CHANNEL, "data": {"statistics": None}}],
        [{"channel": push.UPDATES_CHANNEL, "data": {"data": {"statistics": []}}}],
        [{"channel": push.UPDATES_CHANNEL}, {"channel": "/other", "data": {"x": 1}}],
        [{"channel": "/meta/subscribe", "subscription": push.UPDATES_CHANNEL, "successful": True}],
    ],
)
def test_the_fast_path_reads_a_reply_as_the_general_path_does(messages: list[Any]) -> None:
    """Replies the struct decoder accepts give the same meta replies, updates and counts."""
    body = json.dumps(messages).encode()
    fast, general = push._Pending(), push._Pending()
    fast_meta = push._read_reply(body, "w", fast)
    general_meta = push._read_reply_generally(body, "w", general)
    assert [m.get("channel") for m in fast_meta] == [m.get("channel") for m in general_meta]
    for mine, theirs in zip(fast_meta, general_meta, strict=True):
        assert {k: v for k, v in mine.items() if v is not None} == theirs
    assert (fast.updates, fast.service_state, fast.skipped) == (
        general.updates,
        general.service_state,
        general.skipped,
    )


async def test_a_well_formed_reply_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sound updates are decoded as structs; a garbage item sends only its message the long way."""
    whole: list[bytes] = []
    by_channel: list[object] = []
    read_generally, gather = push._read_reply_generally, push._gather

    def spy_whole(body: bytes, where: str, pending: Any) -> Any:
        whole.append(body)
        return read_generally(body, where, pending)

    def spy_gather(channel: object, data: object, pending: Any) -> None:
        by_channel.append(channel)
        gather(channel, data, pending)

    monkeypatch.setattr(push, "_read_reply_generally", spy_whole)
    monkeypatch.setattr(push, "_gather", spy_gather)
    server = Bayeux()
    server.scripts["connect"].append(connect_reply(updates(update("a", 1)), service("Available")))
    server.scripts["connect"].append(connect_reply(updates(update("a", 1), 42)))
    channel = channel_on(server)
    await channel.open()
    assert len((await channel.next_batch()).updates) == 1
    assert push.UPDATES_CHANNEL not in by_channel
    batch = await channel.next_batch()
    assert len(batch.updates) == 1 and batch.skipped == 1
    assert by_channel.count(push.UPDATES_CHANNEL) == 1
    assert whole == []


async def test_close_during_a_handshake_disconnects_the_client_it_brings() -> None:
    """A handshake answered after close() is disconnected at once, and nothing is subscribed."""
    server = Bayeux()
    release = asyncio.Event()

    async def slow_handshake(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/handshake"):
            await release.wait()
        return server(request)

    channel = PushChannel(make_client(slow_handshake), sleep=Sleeps())
    opening = asyncio.create_task(channel.open())
    await asyncio.sleep(0.01)
    await channel.close()
    release.set()
    with pytest.raises(PushLost, match="closed"):
        await opening
    assert [m["clientId"] for m in server.messages("/meta/disconnect")] == ["c1"]
    assert server.messages("/meta/subscribe") == []


async def test_a_503_on_connect_is_not_retried_by_the_clients_retry_policy() -> None:
    """The channel sends each connect once even on a client that retries 503s: one request."""
    server = Bayeux()
    server.scripts["connect"].append(lambda messages: httpx.Response(503))
    sleeps = Sleeps()
    client = make_client(server, sleeps=sleeps)  # RetryPolicy(attempts=3)
    channel = PushChannel(client, sleep=Sleeps())
    await channel.open()
    with pytest.raises(ServiceUnavailableError):
        await channel.next_batch()
    assert len(server.messages("/meta/connect")) == 1 and sleeps.delays == []


async def test_open_may_be_called_again_after_a_transient_failure() -> None:
    """A 503 on the handshake is raised; the next open() on the same channel succeeds."""
    server = Bayeux()
    server.scripts["handshake"].append(lambda messages: httpx.Response(503))
    channel = channel_on(server)
    with pytest.raises(ServiceUnavailableError):
        await channel.open()
    assert not channel.connected
    batch = await channel.open()
    assert channel.connected and not batch.rehandshook


@pytest.mark.parametrize("nested", [False, True])
async def test_an_integer_too_long_for_python_marks_its_statistic_and_the_rest_arrive(
    nested: bool,
) -> None:
    """An update holding a 5,000-digit integer (past Python's 4,300-digit int/str limit) is
    counted, handed on as the unreadable marker, and the other items of the batch arrive."""
    server = Bayeux()
    huge = "9" * 5000
    good = json.dumps([update("a", 1), update("c", 3)])
    bad = (
        '{"statisticId": "b", "subscriptionId": "sub-1", "timestamp": 1700000000000, '
        f'"value": {{"intValue": {huge}}}}}'
    )
    items = good[:-1] + ", " + bad + "]"
    payload = f'{{"statistics": {items}}}'
    data = f'{{"data": {payload}}}' if nested else payload

    def answer(messages: list[dict[str, Any]]) -> Reply:
        [message] = messages
        meta = json.dumps(ok(message, clientId=message["clientId"], advice=ADVICE))
        return f'[{{"channel": "{push.UPDATES_CHANNEL}", "data": {data}}}, {meta}]'.encode()

    server.scripts["connect"].append(answer)
    channel = channel_on(server)
    await channel.open()
    batch = await channel.next_batch()
    assert [u.statistic_id for u in batch.updates] == ["a", "c", "b"]
    marked = batch.updates[2]
    assert marked.value == {"intValue": UNREADABLE_NUMBER}
    assert marked.subscription_id == "sub-1"
    assert isinstance(parse_value(marked.value, marked.timestamp), UnknownValue)
    assert batch.skipped == 1
    assert channel.connected


async def test_a_handshake_cancelled_before_its_reply_is_disconnected_by_close() -> None:
    """A quit that cancels an open after the server made the client but before its reply
    came: the reply is let come, and close() disconnects that client (it was left on the
    server: a test saw one CometD client outlive the dashboard)."""
    replied = asyncio.Event()
    release = asyncio.Event()
    disconnected: list[str] = []

    async def server(request: httpx.Request) -> httpx.Response:
        (message,) = json.loads(request.content)
        if message["channel"] == "/meta/handshake":
            replied.set()  # the server has the client now; its reply is on its way
            await release.wait()
            return httpx.Response(200, json=[ok(message, clientId="made-on-the-server")])
        disconnected.append(message["clientId"])
        return httpx.Response(200, json=[ok(message)])

    channel = PushChannel(make_client(server), sleep=Sleeps())
    opening = asyncio.ensure_future(channel.open())
    await replied.wait()
    opening.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await channel.close()
    assert disconnected == ["made-on-the-server"]
