"""A scripted hub on real NATS: answers as a test tells it, to test a dashboard's side alone."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from statdash.hub import protocol


@dataclass
class ScriptedHub:
    """Answers declares and peeks from `values` (by key), and says what it was asked."""

    connection: NatsClient
    subjects: protocol.Subjects
    hub: str = "hub-1"
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    leases: dict[str, list[str]] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    declare_error: tuple[int, str] | None = None

    async def start(self) -> None:
        """Answer on the hub's subjects."""
        await self.connection.subscribe(self.subjects.declare, cb=self._declare)
        await self.connection.subscribe(self.subjects.peek, cb=self._peek)
        await self.connection.subscribe(self.subjects.release, cb=self._release)
        await self.connection.subscribe(self.subjects.renew, cb=self._renew)
        await self.connection.flush()

    def _values(self, keys: list[str]) -> protocol.Values:
        held = [key for key in dict.fromkeys(keys) if key in self.values]
        return protocol.Values(
            keys=held,
            values=[self.values[key][0] for key in held],
            timestamps=[self.values[key][1] for key in held],
        )

    async def _declare(self, message: Msg) -> None:
        declare = protocol.decode(message.data, protocol.Declare)
        if self.declare_error is not None:
            code, text = self.declare_error
            await message.respond(protocol.encode(protocol.DeclareReply(error=text, code=code)))
            return
        keys = [protocol.definition_key(item) for item in declare.items]
        objects = [protocol.object_key(i["objectType"], i["objectId"]) for i in declare.items]
        self.leases[declare.lease] = keys
        reply = protocol.DeclareReply(
            hub=self.hub, keys=keys, objects=objects, values=self._values(keys)
        )
        await message.respond(protocol.encode(reply))

    async def _peek(self, message: Msg) -> None:
        lease = protocol.decode(message.data, protocol.LeaseRequest).lease
        if lease not in self.leases:
            reply = protocol.PeekReply(hub=self.hub, error="no such lease", code=404)
        else:
            reply = protocol.PeekReply(hub=self.hub, values=self._values(self.leases[lease]))
        await message.respond(protocol.encode(reply))

    async def _release(self, message: Msg) -> None:
        lease = protocol.decode(message.data, protocol.LeaseRequest).lease
        self.released.append(lease)
        self.leases.pop(lease, None)
        await message.respond(protocol.encode(protocol.ReleaseReply(hub=self.hub)))

    async def _renew(self, message: Msg) -> None:
        self.renewed.extend(protocol.decode(message.data, protocol.Renew).leases)

    async def status(self, upstream: str = "push", *, available: bool = True) -> None:
        """One heartbeat."""
        status = protocol.Status(hub=self.hub, upstream=upstream, available=available, interval=1.0)
        await self.connection.publish(self.subjects.status, protocol.encode(status))
        # Shielded: `beating` cancels its task, and a flush cancelled on its way ends
        # nats-py's read loop at the PONG (see statdash.hub.connection.confirm).
        await asyncio.shield(self.connection.flush())

    @contextlib.asynccontextmanager
    async def beating(self, every: float = 0.2) -> AsyncIterator[None]:
        """Heartbeats every `every` seconds for the block: a channel waiting on a busy
        machine does not take the hub for lost (SILENT_AFTER)."""

        async def beat() -> None:
            while True:
                await self.status()
                await asyncio.sleep(every)

        task = asyncio.get_running_loop().create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def change(self, object_key: str, key: str, value: Any, timestamp: Any) -> None:
        """Publish one changed value of `object_key`'s statistic `key`."""
        self.values[key] = (value, timestamp)
        changes = protocol.Changes(
            hub=self.hub,
            values=protocol.Values(keys=[key], values=[value], timestamps=[timestamp]),
        )
        await self.connection.publish(self.subjects.values(object_key), protocol.encode(changes))
        await self.connection.flush()

    async def raw(self, subject: str, data: bytes) -> None:
        """Publish anything at all on `subject`."""
        await self.connection.publish(subject, data)
        await self.connection.flush()


@contextlib.asynccontextmanager
async def scripted_hub(url: str, namespace: str = "main") -> AsyncIterator[ScriptedHub]:
    """A scripted hub connected to the nats-server at `url` for the block."""
    connection = await nats.connect(url)
    hub = ScriptedHub(connection, protocol.Subjects(namespace))
    await hub.start()
    try:
        yield hub
    finally:
        await connection.close()
