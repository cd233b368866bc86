"""`statdash peek NAME TYPE:ID ...`: a predefined statistic's current values, no subscription.

For admins finding out what a server offers before writing a layout. One get-statistic-ex
call reads every object (even a single one: one code path, and an unknown statistic comes
back as a per-object error instead of a bare 404). Exit status: 0 every object read, 1 some
object or the whole call failed, 2 usage (bad TYPE:ID, unknown TYPE, missing settings).

The last section holds what `statdash snapshot` prints the same way: value texts, the
aligned plain table, the one-line reason a server could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statdash.commands.common import EXIT_FAILED, EXIT_OK, fail
from statdash.text import clean

if TYPE_CHECKING:
    from statdash.api.client import StatisticsClient
    from statdash.api.errors import StatisticsError
    from statdash.api.models import PeekedStatisticValue
    from statdash.api.responses import ItemError, PeekedResult
    from statdash.api.values import StatValue

# API objectTypes (statistics-api-v3.md, "Objects"), outbound ones included.
OBJECT_TYPES: tuple[str, ...] = (
    "Agent",
    "GroupAgents",
    "Place",
    "GroupPlaces",
    "Queue",
    "RoutePoint",
    "GroupQueues",
    "RegularDN",
    "Tenant",
    "Campaign",
    "CampaignGroup",
    "CallingList",
    "CampaignCallingList",
)
MAX_VALUE_TEXT = 80
MAX_REASON = 40
MAX_MESSAGE = 200
# A table column squeezed for a narrow terminal keeps at least this many cells.
MIN_COLUMN = 8


class UsageError(Exception):
    """An argument that cannot be used; the message says which and why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`peek` takes a statistic name, one or more TYPE:ID objects and the server flags."""
    from statdash.config import add_server_arguments

    parser.add_argument("name", help="a predefined statistic name, e.g. CurrentAgentState")
    parser.add_argument(
        "objects",
        nargs="+",
        metavar="TYPE:ID",
        help="objects to read, e.g. Agent:jsmith Queue:8001@SIP_Switch (TYPE is the API"
        " objectType, any case; split at the first colon)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default), or json with the raw values as the server sent them",
    )
    add_server_arguments(parser)
    parser.epilog = (
        f"Object types: {', '.join(OBJECT_TYPES)}. "
        "Exit status: 0 every object read, 1 some could not be read, 2 usage error."
    )


def run(args: argparse.Namespace) -> int:
    """Read the statistic of every object once and print one row (or JSON entry) each."""
    import asyncio

    from statdash.api.client import RetryPolicy
    from statdash.api.errors import ConfigError as ClientConfigError
    from statdash.api.errors import StatisticsError
    from statdash.config import ConfigError, resolve_server
    from statdash.connect import make_client

    name = args.name.strip()
    if not name:
        return fail("peek: the statistic name is empty")
    try:
        wanted = list(dict.fromkeys(parse_object(text) for text in args.objects))
    except UsageError as error:
        return fail(f"peek: {error}")
    try:
        settings = resolve_server(args)
        # No answer, a 503 or a 504 is tried twice more (a second or two); then it is the answer.
        client = make_client(settings, retry=RetryPolicy())
    except (ConfigError, ClientConfigError) as error:
        return fail(f"peek: {error}")
    try:
        result = asyncio.run(_read(client, name, wanted))
    except StatisticsError as error:
        return fail(f"peek: {server_failure(error, settings.label)}", EXIT_FAILED)
    rows = match(wanted, result)
    try:
        if args.format == "json":
            _print_json(name, settings.label, rows)
        else:
            _print_table(name, settings.label, rows)
    except BrokenPipeError:
        quiet_stdout()
    failed = sum(1 for row in rows if row.value is None)
    if failed:
        print(
            f"statdash peek: {failed} of {len(rows)} object(s) could not be read",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def parse_object(text: str) -> tuple[str, str]:
    """`TYPE:ID` -> (API objectType, id); split at the first colon, TYPE in any case.

    Only the first colon splits, so an id may contain colons and `@` (`8001@SIP_Switch`).
    Layout spellings (`agent_group`, `queue`...) are accepted too.
    """
    from statdash.layout.models import OBJECT_TYPES as LAYOUT_TYPES
    from statdash.layout.suggest import closest

    kind, colon, object_id = text.partition(":")
    kind = kind.strip()
    if not colon or not kind or not object_id:
        raise UsageError(
            f"{clean(text, 60)!r} is not TYPE:ID (e.g. Agent:jsmith, Queue:8001@SIP_Switch)"
        )
    by_fold = {t.casefold(): t for t in OBJECT_TYPES}
    by_fold.update((key.casefold(), value) for key, value in LAYOUT_TYPES.items())
    found = by_fold.get(kind.casefold())
    if found is None:
        near = closest(kind, [*OBJECT_TYPES, *LAYOUT_TYPES])
        if near is not None:
            hint = f"; did you mean '{by_fold[near.casefold()]}:{clean(object_id, 40)}'?"
        else:
            hint = f"; object types: {', '.join(OBJECT_TYPES)}"
        raise UsageError(f"unknown object type {clean(kind, 40)!r}{hint}")
    return found, object_id


@dataclass(frozen=True, slots=True)
class PeekRow:
    """One object's outcome: its value (as sent) or the server's error."""

    object_type: str
    object_id: str
    value: PeekedStatisticValue | None
    error: ItemError | None

    @property
    def object(self) -> str:
        """The object as the user typed it: `TYPE:ID`."""
        return f"{self.object_type}:{self.object_id}"


async def _read(
    client: StatisticsClient, name: str, wanted: Sequence[tuple[str, str]]
) -> PeekedResult:
    async with client:
        return await client.get_statistic_ex(
            [{"name": name, "objectId": i, "objectType": t} for t, i in wanted]
        )


def match(wanted: Sequence[tuple[str, str]], result: PeekedResult) -> list[PeekRow]:
    """Each wanted object with its value or error, in the order asked.

    Values and errors are matched on (objectType, objectId); a server that echoes no ids
    is matched by position when it returned exactly one value per object. Errors that name
    no object go, in order, to objects that got nothing.
    """
    values: dict[tuple[str, str], PeekedStatisticValue] = {}
    anonymous: list[PeekedStatisticValue] = []
    for peeked in result.statistics:
        if peeked.object_type and peeked.object_id:
            values.setdefault((peeked.object_type.casefold(), peeked.object_id), peeked)
        else:
            anonymous.append(peeked)
    if anonymous and len(result.statistics) == len(wanted) and not result.errors:
        values = {(t.casefold(), i): v for (t, i), v in zip(wanted, result.statistics, strict=True)}
    errors: dict[tuple[str, str], ItemError] = {}
    loose: list[ItemError] = []
    for failure in result.errors:
        if failure.object_type and failure.object_id:
            errors.setdefault((failure.object_type.casefold(), failure.object_id), failure)
        else:
            loose.append(failure)
    rows: list[PeekRow] = []
    for object_type, object_id in wanted:
        key = (object_type.casefold(), object_id)
        value = values.get(key)
        error = None if value is not None else errors.get(key)
        if value is None and error is None and loose:
            error = loose.pop(0)
        rows.append(PeekRow(object_type, object_id, value, error))
    return rows


def _row_text(row: PeekRow) -> str:
    from statdash.api.values import parse_value

    if row.value is None:
        return error_text(row.error)
    return value_text(parse_value(row.value.value, row.value.timestamp))


def _print_table(name: str, server: str, rows: Sequence[PeekRow]) -> None:
    print(f"{clean(name, MAX_VALUE_TEXT)} on {server}")
    table = [[clean(row.object, MAX_VALUE_TEXT), _row_text(row)] for row in rows]
    for line in plain_table(["OBJECT", "VALUE"], table, width=terminal_width()):
        print(line)


def _print_json(name: str, server: str, rows: Sequence[PeekRow]) -> None:
    entries = []
    for row in rows:
        error = None
        if row.error is not None or row.value is None:
            error = {
                "code": row.error.code if row.error else None,
                "message": error_text(row.error).removeprefix("error: "),
            }
        entries.append(
            {
                "object_type": row.object_type,
                "object_id": row.object_id,
                "value": row.value.value if row.value else None,
                "timestamp": row.value.timestamp if row.value else None,
                "text": _row_text(row) if row.value else None,
                "error": error,
            }
        )
    document = {"statistic": name, "server": server, "objects": entries}
    print(dump_json(document))


# --- Shared with `statdash snapshot` ------------------------------------------------------


def dump_json(document: object) -> str:
    """JSON for a terminal or a pipe: printable ASCII only (`ensure_ascii` escapes all but
    0x20-0x7E), so no server string can carry a control character or a bidi override to
    the terminal, while a JSON reader still gets it back exactly."""
    return json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False)


def state_text(word: str, reason: str | None, seconds: float | None) -> str:
    """`Not ready (Lunch) for 0:04:12`: state word, reason, time in state (each if known)."""
    from statdash.format import duration

    text = word
    if reason:
        text += f" ({clean(reason, MAX_REASON)})"
    if seconds is not None:
        text += f" for {duration(seconds)}"
    return text


def value_text(value: StatValue, *, word: str | None = None, now: float | None = None) -> str:
    """A value as read: numbers as sent, agent state as word + reason + time in state.

    `word` overrides the state's display word (a layout's `states:`); time in state is
    counted to `now`, else to the value's own timestamp (the server's clock, so a skewed
    local clock cannot make it wrong).
    """
    import time

    from statdash.api.values import AgentStateValue, NumberValue
    from statdash.format import state_style

    if isinstance(value, NumberValue):
        return clean(value.text, MAX_VALUE_TEXT)
    if isinstance(value, AgentStateValue):
        at = now if now is not None else value.timestamp or time.time()
        return state_text(
            word or state_style(value.status).word, value.reason, value.seconds_in_state(at)
        )
    return clean(value.describe(), MAX_VALUE_TEXT)


def error_text(error: ItemError | None) -> str:
    """`error: <server message> (code 404)`, or a plain note when the server sent nothing."""
    if error is None:
        return "error: the server returned no value"
    message = clean(error.message, MAX_MESSAGE) or "refused"
    return f"error: {message} (code {error.code})"


def server_failure(error: StatisticsError, where: str) -> str:
    """Why a server could not be read, in one line (messages are secret-free already)."""
    from statdash.api.errors import (
        AuthenticationError,
        AuthError,
        PermissionDeniedError,
        TransportError,
    )

    detail = clean(str(error), MAX_MESSAGE)
    if isinstance(error, TransportError):
        return f"cannot reach the server at {where}: {detail}"
    if isinstance(error, AuthenticationError | PermissionDeniedError | AuthError):
        return f"the server at {where} refused the credentials: {detail}"
    return f"the server at {where} failed: {detail}"


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
    from rich.cells import cell_len, set_cell_size

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
