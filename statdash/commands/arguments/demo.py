"""`statdash demo`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.alerts import add_alert_arguments
from statdash.commands.arguments.dashboard import KIOSK_HELP, THEMES_HELP, add_updates_argument
from statdash.commands.arguments.recording import add_record_arguments
from statdash.commands.arguments.sim import add_floor_arguments

DEMO_WARM_UP = 1800.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`demo` takes an optional layout, simulator sizes and a theme."""
    parser.add_argument(
        "layout", nargs="?", type=Path, help="a layout file (default: the shipped demo layout)"
    )
    add_floor_arguments(parser)
    parser.add_argument(
        "--warm-up",
        type=float,
        default=DEMO_WARM_UP,
        metavar="SECONDS",
        help=f"simulated seconds the floor runs before the dashboard opens (default "
        f"{DEMO_WARM_UP:g}: half an hour into the shift)",
    )
    parser.add_argument("--theme", help=THEMES_HELP)
    add_alert_arguments(parser)
    add_updates_argument(parser)
    parser.add_argument("--kiosk", action="store_true", help=KIOSK_HELP)
    parser.add_argument(
        "--hub",
        action="store_true",
        help="run it as a floor would with many supervisors: a local nats-server and a hub"
        " (statdash hub) between the simulator and the dashboard (needs the hub extra)",
    )
    add_record_arguments(parser)
