"""`statdash run`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.alerts import add_alert_actions_argument, add_alert_arguments
from statdash.commands.arguments.dashboard import KIOSK_HELP, THEMES_HELP, add_updates_argument
from statdash.commands.arguments.recording import add_record_arguments
from statdash.commands.arguments.server import add_server_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`run` takes a layout file, the server flags, a theme and how values arrive."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML)")
    parser.add_argument("--theme", help=THEMES_HELP)
    add_alert_arguments(parser)
    add_alert_actions_argument(parser)
    add_updates_argument(parser)
    parser.add_argument("--kiosk", action="store_true", help=KIOSK_HELP)
    add_server_arguments(parser)
    add_record_arguments(parser)
    parser.epilog = (
        "Exit status: 0 you quit (a key or a signal) after the server answered at least once,"
        " 1 the server was never reached (or the app crashed), 2 bad layout, theme, settings,"
        " alert log or recording, refused before the screen starts."
    )
