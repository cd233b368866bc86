"""`statdash cleanup`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.server import add_server_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`cleanup` takes an optional server, `--all`, a records file and the server flags."""
    parser.add_argument(
        "--all",
        action="store_true",
        help="also delete subscriptions of statdash processes that still seem to run"
        " (a dashboard still running then opens a new one)",
    )
    parser.add_argument(
        "--forget",
        action="store_true",
        help="drop the records without contacting any server (for servers that are gone for"
        " good; a subscription still open there stays open until the server drops it)",
    )
    parser.add_argument(
        "--records",
        type=Path,
        metavar="FILE",
        help="the open-subscription record file (default: open-subscriptions.json in the"
        " user state directory)",
    )
    add_server_arguments(parser, url_required=False)
    parser.epilog = (
        "Without --url every server in the records is contacted, with the credentials from"
        " the flags, STATDASH_* or the config file. Records older than 7 days, and those of"
        " a server that is not a Statistics API, are forgotten without a delete; --forget"
        " drops every chosen record without contacting any server. Exit status: 0 nothing"
        " left, 1 some subscriptions could not be deleted (kept for next time), 2 usage error."
    )
