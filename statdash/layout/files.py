"""Reading the files a user hands us, defensively: the layout itself and object lists beside it.

Hostile or mistaken input (a huge file, a binary, a directory, a FIFO, invalid UTF-8) becomes a
`FileProblem` with a plain message, checked before the whole file is read, never a traceback
or a memory spike.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from statdash.regular import NotRegularFile, open_regular

# A hand-written dashboard is a few kB; an exported object list of 50,000 ids is under 2 MB.
MAX_FILE_BYTES = 4 * 1024 * 1024
# A file with thousands of broken lines gets the first few; the rest would only scroll away.
MAX_PROBLEMS_PER_FILE = 20
_CSV_DELIMITERS = ",;\t"
_LABEL_COLUMNS = ("label", "name")


class FileProblem(Exception):
    """A file that cannot be read as text; `line`/`column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(message)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / 1024:.0f} kB"


def read_text(path: Path) -> str:
    """The text of `path`, or FileProblem: missing, not a regular file (a directory, a FIFO,
    a device), too big, binary, not UTF-8.

    Never blocks: a FIFO is refused before it is opened, and on the open descriptor in case
    the file was swapped for one meanwhile (a hot reload reads a file an editor is writing).
    """
    try:
        descriptor = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except NotRegularFile as exc:
        raise FileProblem(f"this is {exc.kind}, not a file") from None
    except OSError as exc:
        raise FileProblem(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        with open(descriptor, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise FileProblem(
                    f"the file is {_size_text(size)}; the limit is {_size_text(MAX_FILE_BYTES)}"
                )
            # One byte past the limit: a file growing while we read still stops at the limit.
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise FileProblem(f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem(f"the file is larger than the limit of {_size_text(MAX_FILE_BYTES)}")
    return decode_text(data)


def decode_text(data: bytes) -> str:
    """Bytes -> text; NUL bytes or invalid UTF-8 give a FileProblem at the offending spot."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _line_column(data, nul)
        raise FileProblem(
            "this is binary data, not a text file (it contains NUL bytes)", line, column
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data, exc.start)
        raise FileProblem(
            f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line,
            column,
        ) from None


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


@dataclass(frozen=True, slots=True)
class ObjectLine:
    """One object id read from a list file, with its optional label and 1-based line."""

    id: str
    label: str | None
    line: int


@dataclass(frozen=True, slots=True)
class ObjectFile:
    """What an object list file holds: its ids in order, and its problems."""

    entries: tuple[ObjectLine, ...]
    problems: tuple[FileProblem, ...]


def parse_object_list(text: str) -> ObjectFile:
    """Object ids from the text of a list file: one per line (`#` comments, blank lines
    ignored) or CSV with an `id` column.

    Never raises for bad content: duplicates, empty ids, a CSV without an `id` column and an
    empty file come back as problems, so they are reported with everything else.
    """
    lines = [
        (number, raw.strip())
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    if not lines:
        return ObjectFile((), (FileProblem("the file lists no ids"),))
    first = lines[0][1]
    delimiter = next((d for d in _CSV_DELIMITERS if d in first), None)
    if first.casefold() == "id":
        # A one-column CSV: "id" is its header, not an object.
        delimiter = ","
    if delimiter is None:
        entries = [ObjectLine(text_line, None, number) for number, text_line in lines]
        problems: list[FileProblem] = []
    else:
        entries, problems = _read_csv(lines, delimiter)
    problems.extend(_duplicates(entries))
    if len(problems) > MAX_PROBLEMS_PER_FILE:
        more = len(problems) - MAX_PROBLEMS_PER_FILE
        problems = problems[:MAX_PROBLEMS_PER_FILE]
        problems.append(FileProblem(f"... and {more} more problems in this file"))
    return ObjectFile(tuple(entries), tuple(problems))


def _read_csv(
    lines: list[tuple[int, str]], delimiter: str
) -> tuple[list[ObjectLine], list[FileProblem]]:
    # One line at a time, so a stray quote cannot swallow the following lines' numbers.
    rows = [next(csv.reader([text], delimiter=delimiter), []) for _, text in lines]
    numbers = [number for number, _ in lines]
    header = [cell.strip().casefold() for cell in rows[0]]
    if "id" not in header:
        shown = ", ".join(cell.strip() for cell in rows[0])
        return [], [
            FileProblem(
                f"a CSV object list needs an 'id' column; the header has: {shown}", numbers[0], 1
            )
        ]
    id_index = header.index("id")
    label_index = next((header.index(n) for n in _LABEL_COLUMNS if n in header), None)
    entries: list[ObjectLine] = []
    problems: list[FileProblem] = []
    for number, row in zip(numbers[1:], rows[1:], strict=True):
        object_id = row[id_index].strip() if id_index < len(row) else ""
        if not object_id:
            problems.append(FileProblem("this row has no id", number, 1))
            continue
        has_label = label_index is not None and label_index < len(row)
        label = row[label_index].strip() if has_label and label_index is not None else ""
        entries.append(ObjectLine(object_id, label or None, number))
    if not entries and not problems:
        problems.append(FileProblem("the CSV has a header but no rows", numbers[0], 1))
    return entries, problems


def _duplicates(entries: list[ObjectLine]) -> list[FileProblem]:
    first_line: dict[str, int] = {}
    problems = []
    for entry in entries:
        if entry.id in first_line:
            problems.append(
                FileProblem(
                    f"'{entry.id}' is listed twice (first on line {first_line[entry.id]})",
                    entry.line,
                    1,
                )
            )
        else:
            first_line[entry.id] = entry.line
    return problems
