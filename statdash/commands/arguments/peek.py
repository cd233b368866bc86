"""`statdash peek`'s arguments, and the API object types it reads."""

from __future__ import annotations

import argparse

from statdash.commands.arguments.server import add_server_arguments

# API objectTypes (statistics-api-v3.md, "Objects"), outbound ones included.
OBJECT_TYPES: tuple[str, ...] = (
    "Agent",
    "GroupAgents",
    "Place",
    "GroupPlaces",
    "Queue",
    "RoutePoint",
    "GroupQueues",
    "RegularDN",
    "Tenant",
    "Campaign",
    "CampaignGroup",
    "CallingList",
    "CampaignCallingList",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`peek` takes a statistic name, one or more TYPE:ID objects and the server flags."""
    parser.add_argument("name", help="a predefined statistic name, e.g. CurrentAgentState")
    parser.add_argument(
        "objects",
        nargs="+",
        metavar="TYPE:ID",
        help="objects to read, e.g. Agent:jsmith Queue:8001@SIP_Switch (TYPE is the API"
        " objectType, any case; split at the first colon)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default), or json with the raw values as the server sent them",
    )
    add_server_arguments(parser)
    parser.epilog = (
        f"Object types: {', '.join(OBJECT_TYPES)}. "
        "Exit status: 0 every object read, 1 some could not be read, 2 usage error."
    )
