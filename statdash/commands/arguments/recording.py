"""`--record FILE`, `--record-dir DIR` and `--keep-days N` of `run`, `demo` and `watch` (the
checks and the recorder are `statdash.commands.record_options`)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_KEEP_DAYS = 14.0


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    """The recording flags (docs/recordings.md)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--record", type=Path, metavar="FILE", help="record the session to FILE (a new file)"
    )
    group.add_argument(
        "--record-dir",
        type=Path,
        metavar="DIR",
        help="record to a new file in DIR every day, deleting those older than --keep-days",
    )
    parser.add_argument(
        "--keep-days",
        type=float,
        default=DEFAULT_KEEP_DAYS,
        metavar="N",
        help=f"with --record-dir: delete recordings older than N days ({DEFAULT_KEEP_DAYS:g})",
    )
