"""`statdash replay`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.arguments.dashboard import THEMES_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`replay` takes the recording, a speed, a moment to start at and a theme."""
    parser.add_argument("file", type=Path, help="a recording (made with run/demo --record)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="recorded seconds per second (default 1)"
    )
    parser.add_argument("--at", metavar="HH:MM[:SS]", help="start at this time of the recording")
    parser.add_argument("--theme", help=THEMES_HELP)
