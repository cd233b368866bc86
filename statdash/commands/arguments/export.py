"""`statdash export`'s arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("csv", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`export` takes the recording, a format, a time range and an optional sampling step."""
    parser.add_argument("file", type=Path, help="a recording (made with run/demo --record)")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or jsonl")
    parser.add_argument("--from", dest="start", metavar="HH:MM[:SS]", help="from this time on")
    parser.add_argument("--to", dest="end", metavar="HH:MM[:SS]", help="up to this time")
    parser.add_argument(
        "--every", metavar="DURATION", help="the whole state at each step (e.g. 1m, 30s)"
    )
