"""`statdash schema`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: where to write the schema."""
    parser.add_argument(
        "-o", "--output", type=Path, help="write the schema to this file instead of stdout"
    )
