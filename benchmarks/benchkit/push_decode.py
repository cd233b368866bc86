"""Times reading one push batch through `PushChannel.next_batch`: 1,200 updates in a connect reply.

Run: `python benchmarks/push_vs_poll.py decode [--items 1200] [--runs 200]`.
Everything goes through the channel's public `next_batch`, with the reply served by an
`httpx.MockTransport` (the client's own cost per batch without the network: httpx's
in-memory round trip plus reading the reply). Three figures: `json.loads` of the body alone
(reference); a reply the fast path takes (decoded straight into `PushUpdate` structs); and the
same reply with one more item that has no statisticId, which the fast path refuses, so the
message is read again on the general path (JSON to dicts, each item checked) and the bad item
skipped. The difference of the last two is what the fast path saves, plus the cost of its
refused attempt. Each figure is the best of 5 repeats of `--runs` calls, in CPU time of this
process, with the garbage collector on as in the app.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
import timeit
from collections.abc import Sequence
from typing import Any

import httpx

from statdash.api.client import StatisticsClient
from statdash.api.push import UPDATES_CHANNEL, PushChannel

REPEATS = 5


def reply_body(items: int, *, refused: bool = False) -> bytes:
    """A connect reply carrying `items` updates, shaped as the simulator sends them; with
    `refused`, one more item without a statisticId first (the fast path refuses it)."""
    statistics: list[dict[str, Any]] = [
        {
            "statisticId": f"stat-{i}",
            "name": "CurrentAgentState",
            "objectId": f"agent{i:05d}",
            "objectType": "Agent",
            "timestamp": 1_700_000_000_000 + i,
            "value": {
                "intValue": i,
                "stringValue": str(i),
                "timestamp": 1_700_000_000_000,
                "tag": -1,
                "intervalLength": 0,
            },
            "subscriptionId": "a95cc55e-d54e-4934-a730-aa4e0d75aa4f",
        }
        for i in range(items)
    ]
    if refused:
        statistics.insert(0, {"value": {"intValue": 0}, "timestamp": 1_700_000_000_000})
    return json.dumps(
        [
            {"channel": UPDATES_CHANNEL, "data": {"statistics": statistics}},
            # No id: one prebuilt body answers every connect (an id-less reply still matches).
            {"channel": "/meta/connect", "successful": True},
        ]
    ).encode()


def server(connect_body: bytes) -> httpx.MockTransport:
    """A Bayeux server that accepts the handshake and subscribes and answers every connect."""

    def answer(request: httpx.Request) -> httpx.Response:
        messages: list[dict[str, Any]] = json.loads(request.content)
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == "connect":
            return httpx.Response(200, content=connect_body)
        replies = [
            {"channel": m["channel"], "id": m["id"], "successful": True, "clientId": "c1"}
            for m in messages
        ]
        return httpx.Response(200, json=replies)

    return httpx.MockTransport(answer)


async def time_batches(connect_body: bytes, items: int, runs: int) -> float:
    """Best seconds per next_batch over REPEATS repeats of `runs` calls."""
    async with StatisticsClient(
        "http://127.0.0.1:1", "key", transport=server(connect_body)
    ) as client:
        channel = PushChannel(client)
        await channel.open()
        best = float("inf")
        for _ in range(REPEATS):
            began = time.process_time()
            for _ in range(runs):
                batch = await channel.next_batch()
            best = min(best, (time.process_time() - began) / runs)
            if len(batch.updates) != items:
                raise SystemExit(f"expected {items} updates, got {len(batch.updates)}")
        await channel.close()
    return best


def main(argv: Sequence[str]) -> None:
    """`push_vs_poll.py decode`: the three figures, printed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    body = reply_body(args.items)
    print(f"connect reply: {args.items} updates, {len(body):,} bytes")
    seconds = min(
        timeit.repeat(
            lambda: json.loads(body),
            setup="gc.enable()",
            number=args.runs,
            repeat=REPEATS,
            timer=time.process_time,
            globals={"gc": gc},
        )
    )
    print(f"{'json.loads':>40}: {seconds / args.runs * 1000:6.2f} ms")
    for name, reply in (
        ("next_batch, fast path", body),
        ("next_batch, refused: general path", reply_body(args.items, refused=True)),
    ):
        seconds = asyncio.run(time_batches(reply, args.items, args.runs))
        print(f"{name:>40}: {seconds * 1000:6.2f} ms")
