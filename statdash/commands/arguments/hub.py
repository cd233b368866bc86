"""`statdash hub`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.dashboard import add_updates_argument
from statdash.commands.arguments.server import add_server_arguments
from statdash.layout.vocabulary import DEFAULT_REFRESH

# The grace period when none is given (`Hub` takes its owner's: the command's, the demo's).
DEFAULT_GRACE = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`hub` takes the NATS server and namespace, the refresh, how values arrive, the grace
    period, a records file and the server flags."""
    group = parser.add_argument_group("hub")
    group.add_argument(
        "--nats",
        metavar="URL",
        help="the NATS server the hub's clients reach it on, e.g. nats://127.0.0.1:4222"
        " (env STATDASH_HUB_URL; its credentials: STATDASH_HUB_TOKEN, STATDASH_HUB_USER and"
        " STATDASH_HUB_PASSWORD, STATDASH_HUB_CREDS, or the [hub] table of the config file)",
    )
    group.add_argument(
        "--namespace",
        help="the hub's namespace on NATS, letters, digits, - and _ (env STATDASH_HUB_NAMESPACE;"
        " default: main)",
    )
    group.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_REFRESH,
        metavar="SECONDS",
        help=f"refresh interval: how often values are polled when not pushed ({DEFAULT_REFRESH:g})",
    )
    add_updates_argument(group, default="auto")
    group.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help="an upstream subscription none of whose statistics a client needed for this long"
        f" is deleted ({DEFAULT_GRACE:g})",
    )
    group.add_argument(
        "--records",
        type=Path,
        metavar="FILE",
        help="where the open upstream subscriptions are written down"
        " (default: open-subscriptions.json in the user state directory; see statdash cleanup)",
    )
    add_server_arguments(parser)
    parser.epilog = (
        "Exit status: 0 stopped by a signal, 1 NATS or the server could not be used,"
        " 2 bad settings or usage."
    )
