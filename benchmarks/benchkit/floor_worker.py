"""The floor of `perf.py`: the cheapest possible poll, one httpx GET plus `json.loads`.

    python benchmarks/benchkit/floor_worker.py BASE_URL SUBSCRIPTION COUNT WARMUP VERBOSE [PARSER]

Runs in its own small process (httpx and json only), so its garbage collector and heap are
those of the simplest possible client, not the dashboard's. Before each GET it moves the
simulator's manual clock on by one second (outside the timed part), like the cycle does.
Prints one JSON object: CPU milliseconds per poll and the payload size. PARSER is `json`
(the floor as the benchmark defines it: the standard library's `json.loads`) or `msgspec`
(`msgspec.json.decode`, untyped: a faster parse, for comparison).
"""

from __future__ import annotations

import json
import os
import sys
import time

import httpx
import msgspec


def main(argv: list[str]) -> None:
    base_url, subscription_id, count, warmup, verbose = argv[:5]
    parser = argv[5] if len(argv) > 5 else "json"
    parse = msgspec.json.decode if parser == "msgspec" else json.loads
    headers = {"x-api-key": os.environ.get("STATDASH_API_KEY", "")}
    path = f"/statistics/v3/subscriptions/{subscription_id}/statistic-values"
    cpu_ms: list[float] = []
    size = 0
    with httpx.Client(base_url=base_url, headers=headers, trust_env=False, timeout=120) as client:
        for index in range(int(warmup) + int(count)):
            client.post("/simulator/advance", json={"seconds": 1.0}).raise_for_status()
            started = time.process_time()
            response = client.get(path, params={"verbose": verbose})
            parse(response.content)
            spent = time.process_time() - started
            response.raise_for_status()
            size = len(response.content)
            if index >= int(warmup):
                cpu_ms.append(spent * 1000)
    print(json.dumps({"cpu_ms": cpu_ms, "bytes": size}))


if __name__ == "__main__":
    main(sys.argv[1:])
