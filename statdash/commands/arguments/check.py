"""`statdash check`'s arguments."""

from __future__ import annotations

import argparse

from statdash.commands.arguments.server import add_server_arguments

# Objects named in one grouped line before "and N more objects".
SHOWN_OBJECTS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: layout files, `--all` and, optionally, a server."""
    parser.add_argument(
        "layouts",
        nargs="+",
        metavar="LAYOUT",
        help="layout files (YAML); other files are skipped, so `layouts/*` works",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every statistic the server rejected on its own line (default: grouped,"
        f" {SHOWN_OBJECTS} objects named per line)",
    )
    add_server_arguments(parser, url_required=False)
    parser.epilog = (
        "Without --url each layout is checked offline. With --url the server resolves every"
        " (object, statistic) pair through one subscription, which is always deleted after."
        " Exit status: 0 sound, 2 problems found, 1 the server check could not run."
    )
