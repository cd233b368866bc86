"""`statdash snapshot`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.server import add_server_arguments

FORMATS = ("table", "json", "csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`snapshot` takes a layout file, an output format, a records file and the server flags."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (aligned text for people, the default), json or csv (for scripts)",
    )
    parser.add_argument(
        "--records",
        type=Path,
        metavar="FILE",
        help="where open subscriptions are written down while the read runs"
        " (default: open-subscriptions.json in the user state directory; see statdash cleanup)",
    )
    add_server_arguments(parser)
    parser.epilog = (
        "Exit status: 0 every statistic read, 1 the server could not be read,"
        " 2 bad layout or usage, 3 some statistics were refused."
    )
