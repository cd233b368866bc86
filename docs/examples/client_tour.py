"""A tour of StatisticsClient: open a subscription, peek it, read predefined statistics, delete.

Usage:
    python docs/examples/client_tour.py SERVER_URL [AGENT_ID [QUEUE_ID]]

Try it on the simulator:
    statdash sim --port 8080 &
    python docs/examples/client_tour.py http://127.0.0.1:8080

The API key comes from STATDASH_API_KEY (the simulator accepts any key unless configured
otherwise); for a real Genesys server also set STATDASH_CLIENT_ID and STATDASH_CLIENT_SECRET
to use the OAuth client-credentials grant. Object ids default to the simulator's first agent
and queue.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from statdash.api import models
from statdash.api.auth import ClientCredentials
from statdash.api.client import StatisticsClient
from statdash.api.errors import StatisticsError
from statdash.api.values import AgentStateValue, NumberValue, StatValue, parse_value
from statdash.sim import ids


def show(value: StatValue) -> str:
    """One value as a short line of text."""
    if isinstance(value, NumberValue):
        return value.text
    if isinstance(value, AgentStateValue):
        reason = f" ({value.reason})" if value.reason else ""
        return f"{value.status}{reason}"
    return f"unknown shape: {value.describe()}"


async def tour(server: str, api_key: str, agent: str, queue: str) -> None:
    """Walk through the five operations and print what each returned."""
    client_id = os.environ.get("STATDASH_CLIENT_ID")
    client_secret = os.environ.get("STATDASH_CLIENT_SECRET")
    auth = ClientCredentials(client_id, client_secret) if client_id and client_secret else None
    async with StatisticsClient(server, api_key, auth=auth) as client:
        items = [
            models.SubscriptionItem(
                statistic_id="state",
                object_id=agent,
                object_type="Agent",
                name="CurrentAgentState",
            ),
            models.SubscriptionItem(
                statistic_id="talk", object_id=agent, object_type="Agent", name="TalkDuration"
            ),
            models.SubscriptionItem(
                statistic_id="waiting",
                object_id=queue,
                object_type="Queue",
                name="CurrentNumberWaitingCalls",
            ),
            # An ad-hoc statistic: total time ready, defined here rather than on the server.
            models.SubscriptionItem(
                statistic_id="ready",
                object_id=agent,
                object_type="Agent",
                definition=models.StatisticDefinition(
                    category="TotalTime",
                    subject="AgentStatus",
                    main_mask="WaitForNextCall",
                    interval_type="GrowingWindow",
                ),
            ),
            # Unknown on purpose: a partial success reports it without failing the rest.
            models.SubscriptionItem(
                statistic_id="ghost", object_id=agent, object_type="Agent", name="NoSuchStat"
            ),
        ]
        opened = await client.open_subscription(items)
        print(
            f"opened subscription {opened.subscription_id}: "
            f"{len(opened.statistics)} statistics, {len(opened.errors)} refused"
        )
        for error in opened.errors:
            print(f"  refused {error.statistic_id}: {error.code} {error.message}")

        try:
            peeked = await client.peek_subscription(opened.subscription_id)
            print("peeked:")
            for stat in peeked.statistics:
                print(f"  {stat.statistic_id:8} {show(parse_value(stat.value, stat.timestamp))}")

            single = await client.get_statistic_value("CurrentAgentState", agent, "Agent")
            print(
                f"single: {single.name} of {single.object_id}: "
                f"{show(parse_value(single.value, single.timestamp))}"
            )

            several = await client.get_statistic_ex(
                [
                    models.PredefinedStatisticRef(
                        object_id=queue, object_type="Queue", name="ServiceLevel"
                    ),
                    models.PredefinedStatisticRef(
                        object_id=queue, object_type="Queue", name="Total_Answered"
                    ),
                ]
            )
            print("several:")
            for value in several.statistics:
                print(
                    f"  {value.name} of {value.object_id}: "
                    f"{show(parse_value(value.value, value.timestamp))}"
                )
        finally:
            # Always close what was opened, whatever happened in between.
            await client.delete_subscription(opened.subscription_id)
            print(f"deleted subscription {opened.subscription_id}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tour; exit status 2 for usage errors, 1 when the server call fails."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 3:
        print(__doc__, file=sys.stderr)
        return 2
    server = args[0]
    agent = args[1] if len(args) > 1 else ids.agent_id(0)
    queue = args[2] if len(args) > 2 else ids.queue_id(0)
    api_key = os.environ.get("STATDASH_API_KEY", "demo-api-key")
    try:
        asyncio.run(tour(server, api_key, agent, queue))
    except StatisticsError as error:
        print(f"client_tour: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
