"""`statdash peek NAME TYPE:ID ...`: a predefined statistic's current values, no subscription.

For admins finding out what a server offers before writing a layout. One get-statistic-ex
call reads every object (even a single one: one code path, and an unknown statistic comes
back as a per-object error instead of a bare 404). Exit status: 0 every object read, 1 some
object or the whole call failed, 2 usage (bad TYPE:ID, unknown TYPE, missing settings).
What it prints the way `statdash snapshot` does (value texts, the aligned table, the one-line
reason a server could not be read) is `statdash.commands.output`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.connect import make_client
from statdash.api.describe import describe
from statdash.api.errors import ConfigError, StatisticsError
from statdash.api.models import PeekedStatisticValue
from statdash.api.responses import ItemError, PeekedResult
from statdash.api.values import parse_value
from statdash.commands.arguments.peek import OBJECT_TYPES
from statdash.commands.common import EXIT_FAILED, EXIT_OK
from statdash.commands.output import (
    MAX_VALUE_TEXT,
    dump_json,
    error_text,
    plain_table,
    quiet_stdout,
    terminal_width,
    value_text,
)
from statdash.commands.server_options import resolve_server
from statdash.commands.voice import Refused, Voice
from statdash.layout.suggest import closest
from statdash.layout.vocabulary import OBJECT_TYPES as LAYOUT_TYPES
from statdash.text import clean, counted

VOICE = Voice("peek")


class UsageError(Exception):
    """An argument that cannot be used; the message says which and why."""


def run(args: argparse.Namespace) -> int:
    """Read the statistic of every object once and print one row (or JSON entry) each."""
    name = args.name.strip()
    if not name:
        raise Refused("the statistic name is empty")
    try:
        wanted = list(dict.fromkeys(parse_object(text) for text in args.objects))
    except UsageError as error:
        raise Refused(str(error)) from None
    try:
        settings = resolve_server(args, voice=VOICE)
        # No answer, a 503 or a 504 is tried twice more (a second or two); then it is the answer.
        client = make_client(settings, retry=RetryPolicy())
    except ConfigError as error:
        raise Refused(str(error)) from None
    try:
        result = asyncio.run(_read(client, name, wanted))
    except StatisticsError as error:
        return VOICE.fail(describe(error, settings.label), EXIT_FAILED)
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
        VOICE.say(f"{failed:,} of {counted(len(rows), 'object')} could not be read")
        return EXIT_FAILED
    return EXIT_OK


def parse_object(text: str) -> tuple[str, str]:
    """`TYPE:ID` -> (API objectType, id); split at the first colon, TYPE in any case.

    Only the first colon splits, so an id may contain colons and `@` (`8001@SIP_Switch`).
    Layout spellings (`agent_group`, `queue`...) are accepted too.
    """
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
