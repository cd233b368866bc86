"""What the commands share: exit codes, and loading a layout with its problems printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from statdash.commands.voice import EXIT_USAGE, Refused, Voice
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.problems import LayoutError
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UPDATES_MODES
from statdash.text import counted

EXIT_OK = 0
EXIT_FAILED = 1
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "Voice", "add_updates_argument", "load_compiled"]


def add_updates_argument(parser: argparse._ActionsContainer) -> None:
    """`--updates auto|push|poll`, over the layout's `updates:` (default: the layout's).

    `parser` may be an argument group (serve's options for each viewer's dashboard).
    """
    parser.add_argument(
        "--updates",
        choices=UPDATES_MODES,
        help="how values arrive: auto (push over CometD where the server offers it, else"
        " polling), push, or poll (default: the layout's updates:, else auto)",
    )


def load_compiled(path: Path) -> CompiledLayout:
    """The compiled layout; Refused after printing every problem to stderr."""
    try:
        return compile_layout(load_layout(path))
    except LayoutError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise Refused(
            f"{path}: {counted(len(error.problems), 'problem')}; nothing was started"
        ) from None
