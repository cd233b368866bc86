"""How every command speaks to the user on stderr: one form, `statdash COMMAND: message`."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from statdash.text import clean

EXIT_USAGE = 2


@dataclass(frozen=True, slots=True)
class Voice:
    """One command's voice: every line it says is `statdash COMMAND: ...`, on stderr.

    The line is cleaned on its way out, so a server's or a file's text inside a message can
    never act on the terminal.
    """

    command: str

    def say(self, message: str) -> None:
        """Print `statdash COMMAND: message` to stderr."""
        print(f"statdash {self.command}: {clean(message)}", file=sys.stderr)

    def fail(self, message: str, code: int = EXIT_USAGE) -> int:
        """Say `message` and return the exit code (2, a usage or settings problem, unless told)."""
        self.say(message)
        return code
