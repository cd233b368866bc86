"""Simulator CPU while one client follows the floor's statistics over the CometD push channel.

    python benchmarks/push_vs_poll.py sim [SECONDS] [--warm S] [--time-driven-frequency S]

Starts `statdash sim --agents 2000 --queues 50` in its own process, moves its clock `--warm`
simulated seconds on (default 1800: at the start of the shift nobody has taken a call yet, so
little changes; that half hour is simulated before the measured part), opens the statistics of
layouts/floor.yaml (5 per agent, 7 per queue: 10,350) in one session, handshakes, subscribes
/statistics/v3/updates and then long-polls /meta/connect for SECONDS (default 30) with a
plain httpx client. Prints the simulator's CPU (percent of one core, from /proc), the connects
made, the values pushed and the bytes received. The client is deliberately minimal so that the
figure is the server's cost, not a dashboard's. `--time-driven-frequency` is passed to
`statdash sim` (how often durations and the other time-driven statistics are pushed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchkit.simproc import API_KEY, SimProcess, child_env

AGENT_STATISTICS = (
    "CurrentAgentState",
    "InboundCalls",
    "TalkDuration",
    "AverageHandlingTime",
    "Productivity",
)
QUEUE_STATISTICS = (
    "CurrentNumberWaitingCalls",
    "CurrMaxCallWaitingTime",
    "ServiceLevel",
    "AverageWaitingTime",
    "Total_Answered",
    "Total_Abandoned",
    "CurrentReadyAgents",
)


class _PushSim(SimProcess):
    """`statdash sim` with extra options."""

    def __init__(self, extra: list[str], **kwargs: Any) -> None:
        super().__init__(2000, 50, **kwargs)
        self.extra = extra

    @property
    def command(self) -> list[str]:
        return [*super().command, *self.extra]


def _items(state: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for agent in state["objects"]["Agent"]:
        for name in AGENT_STATISTICS:
            items.append(
                {"statisticId": f"{agent}/{name}", "objectId": agent, "objectType": "Agent",
                 "name": name}
            )  # fmt: skip
    for queue in state["objects"]["Queue"]:
        for name in QUEUE_STATISTICS:
            items.append(
                {"statisticId": f"{queue}/{name}", "objectId": queue, "objectType": "Queue",
                 "name": name}
            )  # fmt: skip
    return items


def _bayeux(api: httpx.Client, kind: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post(f"/notifications/{kind}", json=[message])
    response.raise_for_status()
    replies: list[dict[str, Any]] = response.json()
    return replies


def _follow(api: httpx.Client, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Open the subscription on a push channel; the connect message to repeat."""
    body = {"operationId": "bench", "data": {"statistics": items}}
    api.post("/subscriptions", json=body).raise_for_status()
    hello = {"channel": "/meta/handshake", "version": "1.0",
             "supportedConnectionTypes": ["long-polling"]}  # fmt: skip
    [welcome] = _bayeux(api, "handshake", hello)
    client_id = welcome["clientId"]
    wanted = {"channel": "/meta/subscribe", "clientId": client_id,
              "subscription": "/statistics/v3/updates"}  # fmt: skip
    _bayeux(api, "", wanted)
    connect = {"channel": "/meta/connect", "clientId": client_id,
               "connectionType": "long-polling"}  # fmt: skip
    # The first connect brings every value once; the steady state is what follows.
    api.post("/notifications/connect", json=[connect | {"advice": {"timeout": 0}}])
    return connect


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="simulator CPU under one push follower")
    parser.add_argument("seconds", type=float, nargs="?", default=30.0)
    parser.add_argument("--time-driven-frequency", default=None)
    parser.add_argument("--warm", type=float, default=1800.0)
    args = parser.parse_args(argv)
    seconds = args.seconds
    extra: list[str] = []
    if args.time_driven_frequency is not None:
        extra += ["--time-driven-frequency", args.time_driven_frequency]
    with (
        tempfile.TemporaryDirectory() as state_dir,
        _PushSim(extra, env=child_env(Path(state_dir))) as sim,
    ):
        sim.advance(args.warm)
        with httpx.Client(base_url=sim.base_url, trust_env=False, timeout=60) as admin:
            items = _items(admin.get("/simulator/state").json())
        with httpx.Client(
            base_url=sim.base_url + "/statistics/v3",
            headers={"x-api-key": API_KEY},
            trust_env=False,
            timeout=60,
        ) as api:
            connect = _follow(api, items)
            cpu_before = sim.cpu_seconds()
            began = time.monotonic()
            connects = values = received = 0
            while time.monotonic() - began < seconds:
                response = api.post("/notifications/connect", json=[connect])
                received += len(response.content)
                connects += 1
                for message in response.json():
                    if message.get("channel") == "/statistics/v3/updates":
                        values += len(message["data"]["statistics"])
            elapsed = time.monotonic() - began
            cpu = sim.cpu_seconds() - cpu_before
    options = f"warm {args.warm:g} s" + "".join(f" {a}" for a in extra)
    print(
        f"{options}: {len(items)} statistics, {elapsed:.1f} s: "
        f"simulator CPU {100 * cpu / elapsed:.1f}% "
        f"of a core; {connects} connects, {values} values pushed ({values / elapsed:.0f}/s), "
        f"{received / elapsed / 1024:.0f} KiB/s received"
    )
