"""`statdash snapshot LAYOUT`: one headless read of every statistic in a layout, for scripts.

One subscription with every item of the layout is opened, its values taken, and deleted on
every way out (`statdash.live.subscriptions.oneshot`); SIGTERM, SIGHUP and Ctrl+C cancel the
read and still delete. Formulas are computed from the values read, like the dashboard does:
their records have `number` null and value "n/a" when a formula has no value (a division by
zero, an input the server refused). The output has one record per widget use of a statistic:
a statistic shown by two widgets (an agent's state in the agents table and in the states
summary) is listed twice, each with that widget's label, format and thresholds, because the
level and the text depend on the widget; it is read only once. `statistic_id` tells the uses
apart.

Exit status: 0 every statistic read; 1 the server could not be read (one line on stderr
says why); 2 a bad layout or bad usage; 3 read, but the server refused some statistics.
Records go to stdout; diagnostics to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TextIO

from statdash.api.describe import describe
from statdash.api.errors import ConfigError, StatisticsError
from statdash.api.values import AgentStateValue, StatValue, parse_value
from statdash.commands.common import EXIT_FAILED, EXIT_OK, load_compiled
from statdash.commands.output import (
    dump_json,
    error_text,
    plain_table,
    quiet_stdout,
    terminal_width,
    use_colour,
    value_text,
)
from statdash.commands.server_options import resolve_endpoint
from statdash.commands.voice import Refused, Voice
from statdash.hub.sources import SourceClient, open_source
from statdash.layout.compile import STATE_COLUMN_LABEL
from statdash.layout.formats import NOT_AVAILABLE, FormatName, Thresholds, format_value, number_of
from statdash.layout.views import (
    CompiledLayout,
    KpiView,
    RowObject,
    StatesView,
    TableView,
    TopView,
    TrendView,
)
from statdash.lifecycle import install_signal_handlers
from statdash.live.derived import recompute
from statdash.live.store import Batch, Store
from statdash.live.subscriptions.oneshot import OneShotRead, read_once
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.text import clean, counted

VOICE = Voice("snapshot")
EXIT_PARTIAL = 3
MAX_LABEL = 80
# Table columns that give up width on a narrow terminal: widget, object, statistic, value.
SQUEEZE = (1, 2, 3, 4)
_COLOURS = {"warning": "\x1b[33m", "alarm": "\x1b[31m", "error": "\x1b[31m"}
_RESET = "\x1b[0m"


def run(args: argparse.Namespace) -> int:
    """Read the layout's statistics once and print them in the chosen format."""
    try:
        settings = resolve_endpoint(args, voice=VOICE)
        # No RetryPolicy, so one try per request: a scheduled snapshot runs again soon, and
        # with one try a refused connection proves the open never reached the server (see
        # oneshot).
        source = open_source(settings, name="statdash snapshot")
    except ConfigError as error:
        raise Refused(str(error)) from None
    client = source.client
    layout = load_compiled(args.layout)
    # Through a hub the read is a lease the hub releases itself: nothing to record.
    records = SubscriptionRecords(args.records) if source.keeps_records else None
    try:
        outcome = asyncio.run(_read(client, layout, records))
    except StatisticsError as error:
        return VOICE.fail(describe(error, settings.label), EXIT_FAILED)
    except KeyboardInterrupt:
        VOICE.say("interrupted")
        return 128 + signal.SIGINT
    if isinstance(outcome, int):
        VOICE.say(f"stopped by {signal.Signals(outcome).name}")
        return 128 + outcome
    snapshot = build(layout, outcome)
    try:
        if args.format == "json":
            print(to_json(snapshot, layout, settings.label))
        elif args.format == "csv":
            write_csv(snapshot, sys.stdout)
        else:
            print_table(snapshot, layout, settings.label)
    except BrokenPipeError:
        quiet_stdout()
    return _finish(snapshot)


async def _read(
    client: SourceClient, layout: CompiledLayout, records: SubscriptionRecords | None
) -> OneShotRead | int:
    """The read, or the number of the signal (SIGTERM, SIGHUP, SIGINT) that cut it short.

    Each signal cancels the read; the cancellation runs `read_once`'s delete on the way out.
    """
    task = asyncio.current_task()
    assert task is not None
    received: list[str] = []

    def stop(reason: str) -> None:
        received.append(reason)
        task.cancel()

    def warn(message: str) -> None:
        VOICE.say(clean(message, 300))

    remove = install_signal_handlers(asyncio.get_running_loop(), stop)
    try:
        try:
            return await read_once(client, layout.items, records=records, warn=warn)
        finally:
            await client.aclose()
    except asyncio.CancelledError:
        if not received:
            raise
        return int(signal.Signals[received[0]])
    finally:
        remove()


# --- Records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Use:
    """One widget's use of one statistic of one object, with how that widget shows it."""

    page: str
    widget: str
    row: RowObject
    label: str
    statistic_id: str
    format: FormatName
    decimals: int
    thresholds: Thresholds | None


@dataclass(frozen=True, slots=True)
class Record:
    """One output record; the field order is the CSV header and the JSON key order."""

    page: str
    widget: str
    object_type: str
    object_id: str
    object_label: str
    statistic: str
    statistic_id: str
    value: str
    number: int | float | None
    level: str | None
    state_status: str | None
    state_reason: str | None
    state_since: str | None
    error: str | None


FIELDS = tuple(f.name for f in fields(Record))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every record, when the values were taken, and how many uses could not be read."""

    records: tuple[Record, ...]
    taken_at: float
    unplaced: tuple[str, ...]
    """Server errors that named no statistic of ours (printed on stderr)."""

    statistics: int
    """How many statistics were read: one per statistic_id, as `check` counts.

    A statistic shown by two widgets is two records but one statistic (read once); a
    formula's inputs count even when no widget shows them; a formula is computed, not read.
    """
    failed: int
    """How many of those came back with an error instead of a value."""


def uses(layout: CompiledLayout) -> Iterator[Use]:
    """Every (widget, object, statistic) in page and widget order, rows before columns."""
    for page in layout.pages:
        for widget in page.widgets:
            if isinstance(widget, TableView):
                title = widget.title or widget.kind
                for row in widget.rows:
                    for column in widget.columns:
                        yield Use(
                            page.title,
                            title,
                            row,
                            column.label,
                            widget.stat_id(row, column),
                            column.format,
                            column.decimals,
                            column.thresholds,
                        )
            elif isinstance(widget, KpiView):
                yield Use(
                    page.title,
                    widget.title or "kpi",
                    widget.object,
                    widget.label,
                    widget.stat_id,
                    widget.format,
                    widget.decimals,
                    widget.thresholds,
                )
            elif isinstance(widget, TopView):
                for row, stat_id in zip(widget.rows, widget.stat_ids, strict=True):
                    yield Use(
                        page.title,
                        widget.title or "top",
                        row,
                        widget.label,
                        stat_id,
                        widget.format,
                        widget.decimals,
                        widget.thresholds,
                    )
            elif isinstance(widget, TrendView):
                for series in widget.series:
                    yield Use(
                        page.title,
                        widget.title or "trend",
                        series.object,
                        series.label,
                        series.stat_id,
                        widget.format,
                        widget.decimals,
                        None,
                    )
            elif isinstance(widget, StatesView):
                for row, stat_id in widget.agents:
                    yield Use(
                        page.title,
                        widget.title or "states",
                        row,
                        STATE_COLUMN_LABEL,
                        stat_id,
                        "state",
                        0,
                        None,
                    )


def build(layout: CompiledLayout, read: OneShotRead) -> Snapshot:
    """The records of every widget use, from one read of the layout's statistics."""
    derived = derived_values(layout, read)
    records = [
        _derived_record(use, derived[use.statistic_id])
        if use.statistic_id in derived
        else _record(layout, use, read)
        for use in uses(layout)
    ]
    unplaced = tuple(error_text(error) for error in read.unplaced)
    failed = {record.statistic_id for record in records if record.error is not None}
    # A formula's input the server refused is shown by no record, but was not read either.
    failed.update(read.refused)
    return Snapshot(tuple(records), read.taken_at, unplaced, len(layout.items), len(failed))


def derived_values(layout: CompiledLayout, read: OneShotRead) -> dict[str, StatValue]:
    """The layout's formulas computed from the values read, by statisticId (n/a included)."""
    if not layout.derived:
        return {}
    store = Store()
    triples = ((value.statistic_id, value.value, value.timestamp) for value in read.values.values())
    store.ingest(Batch.of(triples), now=0.0, wall=read.taken_at)
    recompute(layout.derived, store, wall=read.taken_at)
    return {stat_id: store.get(stat_id) or NOT_AVAILABLE for stat_id in layout.derived}


def _base(use: Use) -> dict[str, str]:
    return {
        "page": clean(use.page, MAX_LABEL),
        "widget": clean(use.widget, MAX_LABEL),
        "object_type": clean(use.row.type, MAX_LABEL),
        "object_id": clean(use.row.id),
        "object_label": clean(use.row.label, MAX_LABEL),
        "statistic": clean(use.label, MAX_LABEL),
        "statistic_id": use.statistic_id,
    }


def _plain_number(figure: float | None) -> float | None:
    """A count reads 12 in JSON and CSV, not 12.0; fractions stay as they are."""
    return int(figure) if figure is not None and figure.is_integer() else figure


def _derived_record(use: Use, value: StatValue) -> Record:
    """A formula's record: its figure, or `null` (value "n/a", no level) when it has none."""
    figure = number_of(value)
    number = _plain_number(figure)
    level = None
    if figure is not None:
        level = use.thresholds.level(figure).word if use.thresholds is not None else "ok"
    return Record(
        **_base(use),
        value=format_value(value, use.format, decimals=use.decimals),
        number=number,
        level=level,
        state_status=None,
        state_reason=None,
        state_since=None,
        error=None,
    )


def _record(layout: CompiledLayout, use: Use, read: OneShotRead) -> Record:
    base = _base(use)
    raw = read.values.get(use.statistic_id)
    if raw is None:
        message = error_text(read.refused.get(use.statistic_id)).removeprefix("error: ")
        return Record(
            **base,
            value="",
            number=None,
            level=None,
            state_status=None,
            state_reason=None,
            state_since=None,
            error=message,
        )
    value = parse_value(raw.value, raw.timestamp)
    figure = number_of(value)
    number = _plain_number(figure)
    level = use.thresholds.level(figure).word if use.thresholds is not None else "ok"
    if isinstance(value, AgentStateValue):
        style = layout.state_style(value.status, value.status_code)
        word = style.word if use.format == "state" else None
        reason = layout.reason_text(value.reason) if value.reason else None
        return Record(
            **base,
            value=value_text(value, word=word or clean(value.status, MAX_LABEL), reason=reason),
            number=number,
            level=level,
            state_status=clean(value.status, MAX_LABEL),
            state_reason=clean(reason, MAX_LABEL) if reason else None,
            state_since=iso(value.since) if value.since is not None else None,
            error=None,
        )
    return Record(
        **base,
        value=format_value(value, use.format, decimals=use.decimals),
        number=number,
        level=level,
        state_status=None,
        state_reason=None,
        state_since=None,
        error=None,
    )


def iso(epoch: float) -> str:
    """`2023-11-14T22:13:20Z`: ISO 8601 in UTC, to the second."""
    moment = datetime.fromtimestamp(epoch, UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _finish(snapshot: Snapshot) -> int:
    """Report refusals on stderr; the exit status."""
    for message in snapshot.unplaced:
        VOICE.say(f"the server refused a statistic: {message}")
    if snapshot.failed or snapshot.unplaced:
        VOICE.say(
            f"{snapshot.failed:,} of {counted(snapshot.statistics, 'statistic')} could not be read"
        )
        return EXIT_PARTIAL
    return EXIT_OK


# --- Output -------------------------------------------------------------------------------


def to_json(snapshot: Snapshot, layout: CompiledLayout, server: str) -> str:
    """`{"layout", "file", "server", "taken_at", "statistics": [...]}`."""
    document = {
        "layout": clean(layout.title, MAX_LABEL),
        "file": layout.file,
        "server": server,
        "taken_at": iso(snapshot.taken_at),
        "statistics": [
            {name: getattr(record, name) for name in FIELDS} for record in snapshot.records
        ],
    }
    return dump_json(document)


def write_csv(snapshot: Snapshot, stream: TextIO) -> None:
    """A header row, then one row per record; empty cells for missing values."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(FIELDS)
    for record in snapshot.records:
        writer.writerow(
            "" if getattr(record, name) is None else getattr(record, name) for name in FIELDS
        )


def print_table(snapshot: Snapshot, layout: CompiledLayout, server: str) -> None:
    """A title line, then aligned columns; levels coloured on a terminal."""
    print(f"{clean(layout.title, MAX_LABEL)} on {server} at {iso(snapshot.taken_at)}")
    rows = [_table_row(record) for record in snapshot.records]
    headers = ["PAGE", "WIDGET", "OBJECT", "STATISTIC", "VALUE", "LEVEL"]
    paint = _paint if use_colour() else None
    for line in plain_table(headers, rows, width=terminal_width(), squeeze=SQUEEZE, paint=paint):
        print(line)


def _table_row(record: Record) -> Sequence[str]:
    if record.error is not None:
        value, level = f"refused: {record.error}", "error"
    else:
        # Blank when fine, so the eye finds warnings and alarms.
        value, level = record.value, "" if record.level == "ok" else record.level or ""
    return [
        record.page,
        record.widget,
        record.object_label,
        record.statistic,
        value,
        level,
    ]


def _paint(column: int, raw: str, padded: str) -> str:
    colour = _COLOURS.get(raw) if column == 5 else None
    return f"{colour}{padded}{_RESET}" if colour else padded
