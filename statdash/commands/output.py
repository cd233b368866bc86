"""What `statdash peek` and `statdash snapshot` print alike: value texts, aligned tables, JSON.

Why a whole server could not be read is `statdash.api.describe`'s sentence, said in the
command's voice (`statdash.commands.voice`).

Every server string goes through `text.clean` (or JSON's ASCII escapes) on its way out here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence

from rich.cells import cell_len, set_cell_size

from statdash.api.describe import describe_item
from statdash.api.responses import ItemError
from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.layout.formats import duration, state_style
from statdash.text import clean

MAX_VALUE_TEXT = 80
MAX_REASON = 40
MAX_MESSAGE = 200
# A table column squeezed for a narrow terminal keeps at least this many cells.
MIN_COLUMN = 8


def dump_json(document: object) -> str:
    """JSON for a terminal or a pipe: printable ASCII only (`ensure_ascii` escapes all but
    0x20-0x7E), so no server string can carry a control character or a bidi override to
    the terminal, while a JSON reader still gets it back exactly."""
    return json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False)


def state_text(word: str, reason: str | None, seconds: float | None) -> str:
    """`Not ready (Lunch) for 0:04:12`: state word, reason, time in state (each if known)."""
    text = word
    if reason:
        text += f" ({clean(reason, MAX_REASON)})"
    if seconds is not None:
        text += f" for {duration(seconds)}"
    return text


def value_text(
    value: StatValue,
    *,
    word: str | None = None,
    now: float | None = None,
    reason: str | None = None,
) -> str:
    """A value as read: numbers as sent, agent state as word + reason + time in state.

    `word` overrides the state's display word (a layout's `states:`), `reason` the reason
    (a layout's `reasons:` name for a code); time in state is
    counted to `now`, else to the value's own timestamp (the server's clock, so a skewed
    local clock cannot make it wrong).
    """
    if isinstance(value, NumberValue):
        return clean(value.text, MAX_VALUE_TEXT)
    if isinstance(value, AgentStateValue):
        at = now if now is not None else value.timestamp or time.time()
        return state_text(
            word or state_style(value.status).word,
            reason or value.reason,
            value.seconds_in_state(at),
        )
    return clean(value.describe(), MAX_VALUE_TEXT)


def error_text(error: ItemError | None) -> str:
    """`error: <server message> (code 404)`, or a plain note when the server sent nothing."""
    return f"error: {clean(describe_item(error), MAX_MESSAGE)}"


def terminal_width() -> int | None:
    """Cells per line when stdout is a terminal; None (no limit) for pipes and files."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def use_colour() -> bool:
    """Colour only on a terminal, and never under NO_COLOR (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def plain_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
    squeeze: Sequence[int] | None = None,
    paint: Callable[[int, str, str], str] | None = None,
) -> list[str]:
    """Rows aligned in columns two spaces apart, measured in terminal cells (wide characters
    count twice), with no trailing spaces.

    With `width`, the columns in `squeeze` (default: all) give up cells, widest first, down
    to MIN_COLUMN, and cut text ends in `…`. `paint(column, raw cell, padded cell)` may wrap
    a padded cell in colour after alignment (so escape codes never count as width).
    """
    table = [list(headers), *(list(row) for row in rows)]
    count = len(headers)
    widths = [max(cell_len(row[i]) for row in table) for i in range(count)]
    gap = 2
    if width is not None:
        flexible = list(range(count)) if squeeze is None else list(squeeze)
        excess = sum(widths) + gap * (count - 1) - width
        while excess > 0:
            candidates = [i for i in flexible if widths[i] > MIN_COLUMN]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1

    def fit(text: str, cells: int) -> str:
        if cell_len(text) <= cells:
            return text
        return set_cell_size(text, cells - 1) + "…"

    lines = []
    for number, row in enumerate(table):
        cells = []
        for index, text in enumerate(row):
            shown = fit(text, widths[index])
            last = index == count - 1
            padded = shown if last else shown + " " * (widths[index] - cell_len(shown))
            if paint is not None and number > 0:
                padded = paint(index, text, padded)
            cells.append(padded)
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def quiet_stdout() -> None:
    """After `| head` closed the pipe: stop writing, and let the interpreter exit quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
