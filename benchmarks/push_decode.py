"""Times reading one push batch: a connect reply of 1,200 updates, and PushChannel.next_batch.

Run: `.venv/bin/python benchmarks/push_decode.py [--items 1200] [--runs 200]`.
Reading the body is timed three ways, in one run: `json.loads` alone (reference), the general
path (JSON to dicts, then each item checked and made a `PushUpdate`) and the fast path
(decoded straight into `PushUpdate` structs), with the garbage collector on as in the app.
`next_batch` gets the reply from an `httpx.MockTransport`, so its figure is the client's own
cost per batch without the network: httpx's in-memory round trip plus the fast path. Each
figure is the best of 5 repeats of `--runs` calls, in CPU time of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statdash.api import push
from statdash.api.client import StatisticsClient
from statdash.api.push import UPDATES_CHANNEL, PushChannel

REPEATS = 5


def reply_body(items: int) -> bytes:
    """A connect reply carrying `items` updates, shaped as the simulator sends them."""
    statistics = [
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    body = reply_body(args.items)
    print(f"connect reply: {args.items} updates, {len(body):,} bytes")

    def read(reader: Callable[[bytes, str, Any], Any]) -> Callable[[], object]:
        def call() -> object:
            pending = push._Pending()
            reader(body, "benchmark", pending)
            if len(pending.updates) != args.items:
                raise SystemExit(f"expected {args.items} updates, got {len(pending.updates)}")
            return pending

        return call

    for name, call in (
        ("json.loads", lambda: json.loads(body)),
        ("general path", read(push._read_reply_generally)),
        ("fast path", read(push._read_reply)),
    ):
        seconds = min(
            timeit.repeat(
                call,
                setup="gc.enable()",
                number=args.runs,
                repeat=REPEATS,
                timer=time.process_time,
                globals={"gc": gc},
            )
        )
        print(f"{name:>24}: {seconds / args.runs * 1000:6.2f} ms")
    seconds = asyncio.run(time_batches(body, args.items, args.runs))
    print(f"{'PushChannel.next_batch':>24}: {seconds * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
