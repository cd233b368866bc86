"""How every command speaks to the user on stderr: one form, `statdash COMMAND: message`;
and how every command refuses to start: it raises `Refused`, which `cli.main` says, once."""

from __future__ import annotations

import sys
import time
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


def now_stamp() -> str:
    """The local time to the second, as a headless line starts: `2026-12-07 17:32:11`."""
    return time.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class Voice:
    """One command's voice: every line it says is `statdash COMMAND: ...`, on stderr.

    The line is cleaned on its way out, so a server's or a file's text inside a message can
    never act on the terminal.
    """

    command: str
    stamped: bool = False
    """Each line starts with the local time (`2026-12-07 17:32:11 statdash watch: ...`): the
    voice of a command that runs for hours with no screen, read later in a journal."""

    def say(self, message: str) -> None:
        """Print `statdash COMMAND: message` to stderr (after the time, when stamped)."""
        stamp = f"{now_stamp()} " if self.stamped else ""
        print(f"{stamp}statdash {self.command}: {clean(message)}", file=sys.stderr)

    def fail(self, message: str, code: int = EXIT_USAGE) -> int:
        """Say `message` and return the exit code (2, a usage or settings problem, unless told)."""
        self.say(message)
        return code
