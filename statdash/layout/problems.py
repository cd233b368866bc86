"""Where a layout problem is and what it is: `SourceLocation`, `LayoutProblem`, `LayoutError`.

Every message a user reads about a layout file goes through `LayoutProblem.__str__`, so the
format `file:line:column: key.path: message` is defined once, here. Editors and terminals
(VS Code, Emacs compilation mode, iTerm) turn that prefix into a clickable link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from statdash.text import clean


@dataclass(frozen=True, slots=True, order=True)
class SourceLocation:
    """A 1-based line and column in a file; `line`/`column` are None for whole-file facts."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class LayoutProblem:
    """One problem in a layout (or in a file it reads), located and explained."""

    location: SourceLocation
    path: str
    message: str

    @property
    def file(self) -> str:
        """The file the problem is in."""
        return self.location.file

    @property
    def line(self) -> int | None:
        """1-based line, or None for a problem with the whole file."""
        return self.location.line

    @property
    def column(self) -> int | None:
        """1-based column, or None."""
        return self.location.column

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order of reading: by file, then line and column, then path."""
        return (
            self.location.file,
            self.location.line or 0,
            self.location.column or 0,
            self.path,
            self.message,
        )

    def __str__(self) -> str:
        where = str(self.location)
        line = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        # Keys and values come from the file: no escape or bidi character reaches a terminal.
        return clean(line)


class LayoutError(Exception):
    """A layout that cannot be used; `problems` lists every problem found, in reading order."""

    def __init__(self, problems: Iterable[LayoutProblem]) -> None:
        unique = {(str(p), p.sort_key()): p for p in problems}
        self.problems: tuple[LayoutProblem, ...] = tuple(
            sorted(unique.values(), key=LayoutProblem.sort_key)
        )
        super().__init__("\n".join(str(p) for p in self.problems))
