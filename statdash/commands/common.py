"""What the commands share: loading a layout with its problems printed, friendly failures."""

from __future__ import annotations

import sys
from pathlib import Path

from statdash.layout.compile import CompiledLayout, compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.problems import LayoutError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print `statdash: message` to stderr and return the exit code."""
    print(f"statdash: {message}", file=sys.stderr)
    return code


def load_compiled(path: Path) -> CompiledLayout | None:
    """The compiled layout, or None after printing every problem to stderr."""
    try:
        return compile_layout(load_layout(path))
    except LayoutError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"statdash: {path}: {count} problem(s); nothing was started", file=sys.stderr)
        return None
