"""A minimal CometD (Bayeux 1.0 long-polling) endpoint: the push channel official clients open."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SERVICE_CHANNEL = "/statistics/v3/service"
UPDATES_CHANNEL = "/statistics/v3/updates"
# How often a held /meta/connect looks for new values.
_POLL_SECONDS = 0.25

Message = dict[str, Any]
# session -> current values (StatisticValue + subscriptionId) of that session's subscriptions
Snapshot = Callable[[str], list[dict[str, Any]]]


@dataclass
class _Client:
    session: str
    channels: set[str] = field(default_factory=set)
    pending: list[Message] = field(default_factory=list)
    # (subscriptionId, statisticId) -> the last value sent, timestamps left out
    sent: dict[tuple[str, str], str] = field(default_factory=dict)


def _fingerprint(value: Any) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "timestamp"}
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Notifier:
    """Answers Bayeux handshake, subscribe, connect, unsubscribe and disconnect.

    Subscribing to /statistics/v3/service brings one {"serviceState": "Available"}; a client
    on /statistics/v3/updates gets, on each connect, the values that changed in subscriptions
    opened with the same STATISTICS_SESSIONID. A connect with nothing to deliver is held up to
    `hold` seconds.
    """

    def __init__(self, snapshot: Snapshot, hold: float) -> None:
        self.snapshot = snapshot
        self.hold = hold
        self.clients: dict[str, _Client] = {}

    def _advice(self) -> dict[str, Any]:
        return {"reconnect": "retry", "interval": 0, "timeout": int(self.hold * 1000)}

    async def handle(self, messages: list[Any], session: str) -> list[Message]:
        """Replies to one POSTed batch of Bayeux messages."""
        replies: list[Message] = []
        connect: tuple[Message, _Client, float] | None = None
        for message in messages:
            if not isinstance(message, dict):
                replies.append({"successful": False, "error": "400::message must be an object"})
                continue
            channel = message.get("channel")
            reply: Message = {"channel": channel}
            if not isinstance(channel, str):
                reply.update(successful=False, error="400::channel is required")
                replies.append(reply)
                continue
            if "id" in message:
                reply["id"] = message["id"]
            if channel == "/meta/handshake":
                client_id = secrets.token_hex(12)
                self.clients[client_id] = _Client(session)
                reply.update(
                    successful=True,
                    version="1.0",
                    minimumVersion="1.0",
                    clientId=client_id,
                    supportedConnectionTypes=["long-polling"],
                    advice=self._advice(),
                )
                replies.append(reply)
                continue
            raw_client_id = message.get("clientId")
            client_id = raw_client_id if isinstance(raw_client_id, str) else ""
            client = self.clients.get(client_id)
            if client is None:
                reply.update(
                    successful=False,
                    error="402::Unknown client",
                    advice={"reconnect": "handshake", "interval": 0},
                )
                replies.append(reply)
                continue
            reply["clientId"] = client_id
            if channel == "/meta/connect":
                # The first connect after a handshake asks for timeout 0: answer at once.
                advice = message.get("advice")
                no_wait = isinstance(advice, dict) and advice.get("timeout") == 0
                connect = (reply, client, 0.0 if no_wait else self.hold)
                continue
            if channel in ("/meta/subscribe", "/meta/unsubscribe"):
                wanted = message.get("subscription")
                raw_names = wanted if isinstance(wanted, list) else [wanted]
                names = [n for n in raw_names if isinstance(n, str) and n]
                if not names or len(names) != len(raw_names):
                    reply.update(successful=False, error="400::subscription is required")
                else:
                    for name in names:
                        if channel == "/meta/subscribe":
                            if name == SERVICE_CHANNEL and name not in client.channels:
                                client.pending.append(
                                    {
                                        "channel": SERVICE_CHANNEL,
                                        "data": {"serviceState": "Available"},
                                    }
                                )
                            client.channels.add(name)
                        else:
                            client.channels.discard(name)
                    reply.update(successful=True, subscription=wanted)
            elif channel == "/meta/disconnect":
                del self.clients[client_id]
                reply["successful"] = True
            else:
                reply.update(successful=False, error="403::Publishing is not supported")
            replies.append(reply)
        if connect is not None:
            reply, client, wait = connect
            events = await self._events(client, wait)
            reply.update(successful=True, advice=self._advice())
            replies = events + replies + [reply]
        return replies

    async def _events(self, client: _Client, wait: float) -> list[Message]:
        deadline = time.monotonic() + wait
        while True:
            events = client.pending + self._changes(client)
            client.pending = []
            if events or time.monotonic() >= deadline:
                return events
            await asyncio.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def _changes(self, client: _Client) -> list[Message]:
        if UPDATES_CHANNEL not in client.channels:
            return []
        changed: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for value in self.snapshot(client.session):
            key = (str(value.get("subscriptionId")), str(value.get("statisticId")))
            seen.add(key)
            fingerprint = _fingerprint(value.get("value"))
            if client.sent.get(key) != fingerprint:
                client.sent[key] = fingerprint
                changed.append(value)
        for gone in set(client.sent) - seen:
            del client.sent[gone]
        if not changed:
            return []
        return [{"channel": UPDATES_CHANNEL, "data": {"statistics": changed}}]
