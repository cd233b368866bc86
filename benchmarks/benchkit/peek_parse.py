"""How long a 50,000-statistic peek takes to parse: through the client, the parser alone, naive.

    python benchmarks/perf.py parse [COUNT] [REPEATS]

The body mixes agent states (a third) and numbers like the simulator's, with verbose=INFO
(names and object ids on every item) and verbose=OFF (what the live session asks for).
"Client" is `peek_subscription` over httpx.MockTransport (so it includes httpx's own work but
no socket); "parser" is `responses.parse_peek` on the bytes (its one-pass msgspec decoding,
for both verbose values); "general" is the same with the one-pass decoder switched off
(pydantic-core's JSON parser and the pydantic models, the path every other answer takes);
"json.loads" is the standard library's parse alone (what `perf.py`'s floor does); "naive" is
`json.loads` plus `Envelope[StatisticData].model_validate` with the garbage collector running.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from statdash.api import models, responses
from statdash.api.client import RetryPolicy, StatisticsClient

STAMP = 1_700_000_000_000


def body(count: int, *, verbose: bool) -> bytes:
    """An OK peek envelope of `count` statistics."""
    items: list[dict[str, Any]] = []
    for i in range(count):
        if i % 3 == 0:
            value: dict[str, Any] = {
                "stateValue": {
                    "agentId": f"agent.{i}",
                    "status": "NotReadyForNextCall",
                    "time": 1_700_000_000,
                    "reason": "Lunch",
                    "media": "voice",
                    "place": {
                        "placeId": f"Place_{i}",
                        "dnStatuses": [
                            {
                                "dnId": "7001",
                                "switchId": "SIP_Switch",
                                "status": "NotReadyForNextCall",
                                "time": 1_700_000_000,
                            }
                        ],
                    },
                },
                "timestamp": STAMP,
            }
            name = "CurrentAgentState"
        else:
            value = {
                "intValue": i,
                "stringValue": str(i),
                "timestamp": STAMP,
                "tag": -1,
                "intervalLength": 0,
            }
            name = "TalkDuration"
        item: dict[str, Any] = {"statisticId": f"s{i}"}
        if verbose:
            item.update(name=name, objectId=f"agent.{i}", objectType="Agent")
        item.update(timestamp=STAMP, value=value)
        items.append(item)
    data = {"operationId": "op", "subscriptionId": "op", "statistics": items}
    envelope = {
        "status": {"code": 0, "message": "OK", "detail": {}},
        "data": data,
        "errors": [],
        "path": "/statistics/v3/subscriptions/op/statistic-values",
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(min, median) seconds of `repeats` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def through_client(content: bytes) -> None:
    """One peek_subscription over a MockTransport answering `content`."""

    async def call() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
        async with StatisticsClient(
            "http://127.0.0.1:8080", "key", transport=transport, retry=RetryPolicy(attempts=1)
        ) as client:
            result = await client.peek_subscription("op")
            assert len(result.statistics) > 0

    asyncio.run(call())


def naive(content: bytes) -> None:
    """The straightforward way: stdlib JSON, then the generic envelope model."""
    models.Envelope[models.StatisticData].model_validate(json.loads(content))


def general(content: bytes) -> None:
    """`parse_peek` with the one-pass decoder off, as for any answer it refuses."""
    responses.parse_peek(content, one_pass_decoding=False)


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 50_000
    repeats = int(argv[1]) if len(argv) > 1 else 7
    for verbose in (True, False):
        content = body(count, verbose=verbose)
        label = "INFO" if verbose else "OFF"
        print(f"{count} statistics, verbose={label}: {len(content) / 1e6:.1f} MB")
        runs: list[tuple[str, Callable[[], object]]] = [
            ("client", partial(through_client, content)),
            ("parser", partial(responses.parse_peek, content)),
            ("general", partial(general, content)),
            ("json.loads", partial(json.loads, content)),
            ("naive", partial(naive, content)),
        ]
        for name, run in runs:
            best, median = timed(run, repeats)
            print(f"  {name:10} min {best * 1000:6.0f} ms   median {median * 1000:6.0f} ms")
