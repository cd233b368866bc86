"""`statdash serve`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.alerts import add_alert_arguments
from statdash.commands.arguments.dashboard import THEMES_HELP, add_updates_argument
from statdash.commands.arguments.server import add_server_arguments

DEFAULT_HOST = "127.0.0.1"

DEFAULT_PORT = 8000

DEFAULT_MAX_VIEWERS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`serve` takes a layout, where to listen, the viewer limit, and run's server flags."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML)")
    web = parser.add_argument_group("web")
    web.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    web.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    web.add_argument(
        "--max-viewers",
        type=int,
        metavar="N",
        default=DEFAULT_MAX_VIEWERS,
        help="browsers served at once, each its own dashboard and subscription "
        f"(default {DEFAULT_MAX_VIEWERS})",
    )
    web.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on an address other machines can reach (put TLS in front: "
        "docs/serve.md)",
    )
    dashboard = parser.add_argument_group("each viewer's dashboard")
    dashboard.add_argument("--theme", help=THEMES_HELP)
    dashboard.add_argument(
        "--kiosk", action="store_true", help="the dashboard's kiosk mode (as `statdash run`)"
    )
    add_updates_argument(dashboard)
    add_alert_arguments(parser)
    add_server_arguments(parser)
