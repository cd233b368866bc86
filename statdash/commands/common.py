"""What the commands share: exit codes, and loading a layout with its problems printed."""

from __future__ import annotations

import sys
from pathlib import Path

from statdash.commands.voice import EXIT_USAGE, Voice
from statdash.layout.compile import CompiledLayout, compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.problems import LayoutError
from statdash.text import counted

EXIT_OK = 0
EXIT_FAILED = 1
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "Voice", "load_compiled"]


def load_compiled(path: Path, voice: Voice) -> CompiledLayout | None:
    """The compiled layout, or None after printing every problem to stderr."""
    try:
        return compile_layout(load_layout(path))
    except LayoutError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        voice.say(f"{path}: {counted(len(error.problems), 'problem')}; nothing was started")
        return None
