"""The hub's tests talk its protocol with raw nats-py requests: these say it once."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from statdash.api.models import SubscriptionItem
from statdash.api.settings import HubSettings
from statdash.hub.connection import close, connect
from statdash.hub.natsd import LocalNats
from statdash.hub.protocol import (
    Changes,
    Declare,
    DeclareReply,
    LeaseRequest,
    PeekReply,
    ReleaseReply,
    Status,
    Subjects,
    decode,
    encode,
    wire_item,
)
from statdash.sim.runner import RunningSimulator

REQUEST_TIMEOUT = 30.0


def item(statistic_id: str, object_type: str, object_id: str, name: str) -> dict[str, Any]:
    """A predefined statistic as a declare carries it."""
    return wire_item(
        SubscriptionItem(
            statistic_id=statistic_id, object_id=object_id, object_type=object_type, name=name
        )
    )


def waiting(queue: str) -> dict[str, Any]:
    """A queue's CurrentNumberWaitingCalls, its statisticId the queue's id."""
    return item(f"waiting {queue}", "Queue", queue, "CurrentNumberWaitingCalls")


def state(agent: str) -> dict[str, Any]:
    """An agent's CurrentAgentState."""
    return item(f"state {agent}", "Agent", agent, "CurrentAgentState")


def new_subjects() -> Subjects:
    """A namespace of the test's own: no other test's hub is heard."""
    return Subjects(f"t{uuid.uuid4().hex[:12]}")


@contextlib.asynccontextmanager
async def nats_client(server: LocalNats) -> AsyncIterator[NatsClient]:
    """A NATS connection to `server` for the block."""
    client = await connect(HubSettings(url=server.url), name="test")
    try:
        yield client
    finally:
        await close(client)


async def declare(
    nats: NatsClient,
    subjects: Subjects,
    lease: str,
    items: list[dict[str, Any]],
    *,
    lease_seconds: float = 30.0,
) -> DeclareReply:
    """Declare `items` under `lease`; the hub's reply."""
    message = Declare(lease=lease, items=items, lease_seconds=lease_seconds)
    reply = await nats.request(subjects.declare, encode(message), timeout=REQUEST_TIMEOUT)
    return decode(reply.data, DeclareReply)


async def raw_declare(nats: NatsClient, subjects: Subjects, payload: bytes) -> DeclareReply:
    """Send `payload` as a declare, whatever it holds; the hub's reply."""
    reply = await nats.request(subjects.declare, payload, timeout=REQUEST_TIMEOUT)
    return decode(reply.data, DeclareReply)


async def peek(nats: NatsClient, subjects: Subjects, lease: str) -> PeekReply:
    """Peek a lease."""
    reply = await nats.request(subjects.peek, encode(LeaseRequest(lease)), timeout=REQUEST_TIMEOUT)
    return decode(reply.data, PeekReply)


async def release(nats: NatsClient, subjects: Subjects, lease: str) -> ReleaseReply:
    """Release a lease."""
    reply = await nats.request(
        subjects.release, encode(LeaseRequest(lease)), timeout=REQUEST_TIMEOUT
    )
    return decode(reply.data, ReleaseReply)


@dataclass
class Heard:
    """What a subscriber heard on the hub's subjects: every subject, the changes, the status."""

    subjects: list[str] = field(default_factory=list)
    changes: list[Changes] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)

    def values(self) -> dict[str, object]:
        """key -> the latest value heard in a Changes message."""
        latest: dict[str, object] = {}
        for change in self.changes:
            latest.update(zip(change.values.keys, change.values.values, strict=True))
        return latest


async def listen(nats: NatsClient, subject: str, heard: Heard) -> None:
    """Collect what is published on `subject` (a wildcard allowed) into `heard`."""

    async def take(message: Msg) -> None:
        heard.subjects.append(message.subject)
        if message.subject.endswith(".status"):
            heard.statuses.append(decode(message.data, Status))
        elif ".values." in message.subject:
            heard.changes.append(decode(message.data, Changes))

    await nats.subscribe(subject, cb=take)
    await nats.flush()


def pin(
    simulator: RunningSimulator, object_type: str, object_id: str, name: str, value: Any
) -> None:
    """Hold a predefined statistic of one object at `value` (POST /simulator/pin)."""
    body = {"objectType": object_type, "objectId": object_id, "name": name, "value": value}
    httpx.post(f"{simulator.base_url}/simulator/pin", json=body, timeout=10).raise_for_status()


def unpin_all(simulator: RunningSimulator) -> None:
    """Release every pin (DELETE /simulator/pin with no body)."""
    httpx.request("DELETE", f"{simulator.base_url}/simulator/pin", timeout=10).raise_for_status()
