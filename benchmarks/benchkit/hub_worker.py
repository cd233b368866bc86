"""A hub process for `hub.py` until `statdash hub` is on this branch: the same `Hub`, its flags.

    python benchmarks/benchkit/hub_worker.py --url API_URL --nats nats://HOST:PORT
        [--namespace N] [--interval S] [--updates auto|push|poll] [--grace S] [--records PATH]

The API key comes from STATDASH_API_KEY. It builds the collector as the hub's tests do (a
`StatisticsClient`, one NATS connection, `Hub.run`) and prints the hub's lines on stdout,
the first ("hub up on namespace ...") once it listens. SIGTERM or SIGINT end it in order
(every upstream subscription deleted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from statdash.api.client import StatisticsClient
from statdash.api.settings import HubSettings
from statdash.hub.collector import Hub
from statdash.hub.connection import close, connect
from statdash.hub.protocol import Subjects
from statdash.lifecycle import install_signal_handlers
from statdash.live.subscriptions.records import SubscriptionRecords


def arguments(argv: list[str]) -> argparse.Namespace:
    """The flags `statdash hub` takes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--namespace", default="main")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--updates", choices=("auto", "push", "poll"), default="auto")
    parser.add_argument("--grace", type=float, default=60.0)
    parser.add_argument("--records", type=Path)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the hub until a signal."""
    settings = HubSettings(url=args.nats, namespace=args.namespace)
    records = SubscriptionRecords(args.records) if args.records is not None else None
    async with StatisticsClient(args.url, os.environ["STATDASH_API_KEY"]) as client:
        connection = await connect(settings, name="statdash hub (benchmark)")
        hub = Hub(
            client,
            connection,
            Subjects(args.namespace),
            interval=args.interval,
            updates=args.updates,
            grace=args.grace,
            records=records,
            say=lambda line: print(line, flush=True),
        )
        remove = install_signal_handlers(asyncio.get_running_loop(), lambda _: hub.stop())
        try:
            await hub.run()
        finally:
            remove()
            await close(connection)


if __name__ == "__main__":
    asyncio.run(serve(arguments(sys.argv[1:])))
