"""Headless clients for `hub.py`: many supervisors' live sessions in one process, no screen.

    python benchmarks/benchkit/client_worker.py direct|hub URL LAYOUT_DIR TEAM [TEAM ...]
        [--namespace N]

One `LiveController` per team given (the `watch`/`snapshot` code path: the layout's plan,
the source `statdash.hub.sources.open_source` opens for the URL, its push channel), each with
its own client: direct, its own subscription and CometD session; through the hub, its own
NATS connection and lease. The layouts are LAYOUT_DIR/team-NNN.yaml (`layouts.write_team`).
The API key comes from STATDASH_API_KEY.

It talks JSON lines. On stdout: `{"framed": client, "team": t, "at": s}` when a client first
holds a value for every statistic of its layout, `{"armed": tag, "clients": n}` and
`{"seen": tag, "client": c, "at": s}` for a watch, `{"status": [...]}` (each client's
updates label and session phase). On stdin: `{"watch": tag, "object": AGENT, "name": STAT,
"value": V}` (tell when each client whose layout has that statistic shows V),
`{"status": 1}`, `{"stop": 1}` (close every session, then exit). Times are
`time.monotonic()`, the same clock in every process of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from statdash.api.settings import Credentials, Endpoint, HubSettings, ServerSettings
from statdash.api.values import NumberValue
from statdash.commands.common import load_compiled
from statdash.hub.sources import SourceClient, open_source
from statdash.live.controller import ChangeCallback, LiveController, plan_for
from statdash.live.store import Ingested


def emit(record: dict[str, object]) -> None:
    """One line to the benchmark."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


@dataclass
class Watch:
    """A value one client waits to show."""

    tag: int
    statistic_id: str
    value: float


@dataclass
class Client:
    """One supervisor's session: its team, controller, client, and what it waits for."""

    index: int
    team: int
    controller: LiveController
    source_client: SourceClient
    missing: set[str]
    watches: list[Watch] = field(default_factory=list)

    def changed(self, ingested: Ingested) -> None:
        """Tell the first full frame and any watched value the moment the store has them."""
        store = self.controller.store
        if self.missing:
            self.missing -= ingested.changed
            if not self.missing or len(self.missing) < 8:
                self.missing = {sid for sid in self.missing if store.get(sid) is None}
            if not self.missing:
                emit({"framed": self.index, "team": self.team, "at": time.monotonic()})
        for watch in list(self.watches):
            if watch.statistic_id in ingested.changed and self.shows(watch):
                self.watches.remove(watch)
                emit({"seen": watch.tag, "client": self.index, "at": time.monotonic()})

    def shows(self, watch: Watch) -> bool:
        """Whether the store holds the watched value now."""
        value = self.controller.store.get(watch.statistic_id)
        return isinstance(value, NumberValue) and value.number == watch.value

    def statistic_id(self, object_id: str, name: str) -> str | None:
        """The layout's statistic id of `name` on `object_id`."""
        for item in self.controller.plan.items:
            if item.object_id == object_id and item.name == name:
                return item.statistic_id
        return None


def relay(holder: list[Client]) -> ChangeCallback:
    """The controller's change callback, for the client built after it."""
    return lambda ingested: holder[0].changed(ingested)


def endpoint(mode: str, url: str, namespace: str, key: str) -> Endpoint:
    """Where the values come from: the simulator, or the hub on NATS."""
    if mode == "hub":
        return HubSettings(url=url, namespace=namespace)
    return ServerSettings(url=url, credentials=Credentials(api_key=SecretStr(key)))


async def run(args: argparse.Namespace, key: str) -> None:
    """Start every client, answer the benchmark's lines, close everything on stop."""
    clients: list[Client] = []
    for index, team in enumerate(args.teams):
        layout = load_compiled(args.layouts / f"team-{team:03d}.yaml")
        source = open_source(endpoint(args.mode, args.url, args.namespace, key), name="bench")
        holder: list[Client] = []
        controller = LiveController(
            source.client,
            plan_for(layout),
            on_change=relay(holder),
            on_status=lambda status: None,
            open_channel=source.open_channel,
        )
        client = Client(
            index, team, controller, source.client, {i.statistic_id for i in layout.items}
        )
        holder.append(client)
        clients.append(client)
    for client in clients:
        client.controller.start()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        order = json.loads(line)
        if "stop" in order:
            break
        if "status" in order:
            emit(
                {
                    "status": [
                        [c.controller.status.updates, c.controller.status.phase.name]
                        for c in clients
                    ]
                }
            )
            continue
        armed = 0
        for client in clients:
            statistic_id = client.statistic_id(order["object"], order["name"])
            if statistic_id is None:
                continue
            watch = Watch(int(order["watch"]), statistic_id, float(order["value"]))
            if client.shows(watch):
                emit({"seen": watch.tag, "client": client.index, "at": time.monotonic()})
            else:
                client.watches.append(watch)
            armed += 1
        emit({"armed": order["watch"], "clients": armed})
    for client in clients:
        await client.controller.close()
        await client.source_client.aclose()


def main() -> None:
    """Parse the arguments and run."""
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("direct", "hub"))
    parser.add_argument("url")
    parser.add_argument("layouts", type=Path)
    parser.add_argument("teams", type=int, nargs="+")
    parser.add_argument("--namespace", default="main")
    args = parser.parse_args()
    asyncio.run(run(args, os.environ.get("STATDASH_API_KEY", "")))


if __name__ == "__main__":
    main()
