"""`statdash watch`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.alerts import add_alert_arguments
from statdash.commands.arguments.dashboard import add_updates_argument
from statdash.commands.arguments.recording import add_record_arguments
from statdash.commands.arguments.server import add_server_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`watch` takes a layout file, the alert log, the recording flags, a records file and the
    server flags."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML) with alert rules")
    add_alert_arguments(parser)
    add_record_arguments(parser)
    add_updates_argument(parser)
    parser.add_argument(
        "--records",
        type=Path,
        metavar="FILE",
        help="where the open subscription is written down while watching"
        " (default: open-subscriptions.json in the user state directory; see statdash cleanup)",
    )
    add_server_arguments(parser)
    parser.epilog = (
        "Exit status: 0 stopped by a signal, 1 the server was never reached,"
        " 2 bad layout, no alerts (and no recording), unwritable alert log or recording,"
        " or bad usage."
    )
