"""What the commands share: exit codes, and loading a layout with its problems printed.

(Their shared arguments, such as `--updates`, are in `statdash.commands.arguments`.)"""

from __future__ import annotations

import sys
from pathlib import Path

from statdash.commands.voice import EXIT_USAGE, Refused, Voice
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.problems import LayoutError
from statdash.layout.views import CompiledLayout
from statdash.text import counted

EXIT_OK = 0
EXIT_FAILED = 1
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "Voice", "load_compiled"]


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
