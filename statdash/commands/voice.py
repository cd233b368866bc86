"""How every command speaks to the user on stderr: one form, `statdash COMMAND: message`;
and how every command refuses to start: it raises `Refused`, which `cli.main` says, once."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from statdash.text import clean

EXIT_USAGE = 2


class Refused(Exception):
    """A command refuses to start (bad flags, layout, settings, an unwritable file).

    `cli.main` catches it once: it says `message` in the command's voice (None: the reasons
    were printed already, e.g. every problem of a layout) and exits with `code` (2).
    """

    def __init__(self, message: str | None, code: int = EXIT_USAGE) -> None:
        super().__init__(message or "refused")
        self.message = message
        self.code = code


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
