"""The recording file: its SQLite tables, the compact value encoding, and reading it back.

One recording is one SQLite database (docs/recordings.md documents every table for people
who query it with sqlite3). A change is one row of small integers: the tick (one ingest of
the store), the statistic (interned to a small integer), and the value: a number as an
INTEGER (or its exact text when that is shorter than a REAL), an agent state as an interned
id into `states` plus when it began, in milliseconds relative to the tick. Every
`KEYFRAME_SECONDS` a keyframe stores the whole state, so reading the state at any moment
replays at most one keyframe interval of changes.

`Recording` reads a file (also one still being written); every problem with it, a file that
is no recording, damaged or from a newer statdash, is a `RecordingError` with a sentence to
show, never a traceback. A file is untrusted input, like a layout: it is opened read-only
with the schema distrusted, refused unless its schema objects are exactly the tables statdash
writes (a view or a trigger in their place could hang a read or build gigabytes), every
value is length-checked in SQL before it is fetched, and the stored layout is held to a
layout file's limits. A file cut short (a full disk, a copy not finished) is read as far as
it goes, and `cut_short` says so.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import os
import sqlite3
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statdash.api.values import AgentStateValue, NumberValue, StatValue, UnknownValue
from statdash.layout.compile import compile_layout
from statdash.layout.files import MAX_FILE_BYTES
from statdash.layout.loader import LayoutError, load_layout_source
from statdash.layout.source import LayoutSource, LayoutSourceError
from statdash.layout.views import CompiledLayout
from statdash.regular import NotRegularFile, open_regular

# 2: the layout is stored as its text (and its object lists) and compiled again on replay;
# ticks say whether the store took a history sample.
# 3: `gaps` holds the stretches the recorder did not record (it fell behind the data).
FORMAT_VERSION = 3
# The earliest format this statdash reads: a format-2 file is a format-3 one without gaps.
OLDEST_FORMAT = 2
# 'SDRC' in the SQLite header: `file` and sqlite3 users can tell a statdash recording.
APPLICATION_ID = 0x53445243
KEYFRAME_SECONDS = 60.0
SQLITE_MAGIC = b"SQLite format 3\x00"
# `changes.state` of a value whose shape statdash does not know; `value` holds its JSON.
UNKNOWN_STATE = 0
# `changes.state` of a number shown as a word (a formula's `n/a`, `true`, `false`): `value`
# holds the JSON of [number, text].
WORDED_NUMBER = -1
# A stored layout (text and object lists) is at most a few MB; more is a hostile file.
MAX_LAYOUT_BYTES = 64 * 1024 * 1024
# The longest value of any other cell (a statisticId, a label, an unknown value's JSON); a
# longer one is a hostile file and is never fetched (SQLite holds up to 1 GB in a cell).
MAX_CELL_LENGTH = 1_000_000
# Integers SQLite keeps exactly and a float converts back to exactly.
_EXACT_INT = 2**53

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE layouts(tick INTEGER PRIMARY KEY, json BLOB NOT NULL);
CREATE TABLE statistics(
    id INTEGER PRIMARY KEY, statistic_id TEXT NOT NULL UNIQUE,
    object_type TEXT, object_id TEXT, label TEXT);
CREATE TABLE states(
    id INTEGER PRIMARY KEY, status TEXT NOT NULL, status_code INTEGER,
    reason TEXT, media TEXT, place_id TEXT);
CREATE TABLE ticks(tick INTEGER PRIMARY KEY, t REAL NOT NULL, arrived INTEGER NOT NULL,
    keyframe INTEGER NOT NULL, sampled INTEGER NOT NULL);
CREATE TABLE arrivals(tick INTEGER NOT NULL, stat INTEGER NOT NULL,
    PRIMARY KEY(tick, stat)) WITHOUT ROWID;
CREATE TABLE changes(tick INTEGER NOT NULL, stat INTEGER NOT NULL, value, state INTEGER, since,
    PRIMARY KEY(tick, stat)) WITHOUT ROWID;
CREATE TABLE keyframes(tick INTEGER NOT NULL, stat INTEGER NOT NULL, value, state INTEGER, since,
    PRIMARY KEY(tick, stat)) WITHOUT ROWID;
CREATE TABLE gaps(tick INTEGER PRIMARY KEY, since REAL NOT NULL, until REAL NOT NULL,
    why TEXT NOT NULL);
"""
# What format 2 lacks: its files are read as having no gaps.
_SINCE_FORMAT_3 = frozenset({"gaps"})

StateKey = tuple[str, int | None, str | None, str | None, str | None]
Row = tuple[Any, Any, Any]
"""(value, state, since): a value as it is stored."""


class RecordingError(Exception):
    """A recording that cannot be read; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the session that is not in the file: from `since` to `until` (epoch
    seconds) no ingest was recorded; `tick` is the first tick after it (it holds the whole
    state again), or the tick count when the recording ended inside the gap."""

    tick: int
    since: float
    until: float
    why: str

    def text(self) -> str:
        """The gap in words, as replay and export say it."""
        return f"not recorded from {clock_text(self.since)} to {clock_text(self.until)}"


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """What the `meta` table says about a recording."""

    version: int
    server: str
    started: float
    """Epoch seconds of the first tick's moment (the recording's start)."""
    refresh: float
    keyframe_seconds: float
    statdash_version: str


# --- the value encoding ---------------------------------------------------------------------


class Encoder:
    """StatValue -> (value, state, since), interning agent states; one per writer."""

    def __init__(self) -> None:
        self.states: dict[StateKey, int] = {}
        self.new_states: list[tuple[int, *StateKey]] = []
        # One copy of each text the states name. A state is a combination (each agent's
        # place, each status and reason): floor.yaml's floor brings tens of thousands over a
        # shift, and keys made of the decoded strings kept four strings alive each, all
        # alike but the place: most of what recording holds that grows over a shift.
        self._texts: dict[str, str] = {}

    def encode(self, value: StatValue, tick_ms: int) -> Row:
        """The stored form of one value at a tick of epoch milliseconds `tick_ms`."""
        if type(value) is NumberValue:
            number = value.number
            text = value.text
            if number.is_integer() and abs(number) < _EXACT_INT and text == str(int(number)):
                return int(number), None, None
            # A short figure ("38.59") is fewer bytes as text than as an 8-byte REAL, and exact.
            if not _reads_back(text, number):
                return json.dumps([number, text]), WORDED_NUMBER, None
            if len(text) < 8 or text != repr(number):
                return text, None, None
            return number, None, None
        if type(value) is AgentStateValue:
            key: StateKey = (
                value.status,
                value.status_code,
                value.reason,
                value.media,
                value.place_id,
            )
            state = self.states.get(key)
            if state is None:
                state = len(self.states) + 1  # 0 is UNKNOWN_STATE
                key = (
                    self._texts.setdefault(value.status, value.status),
                    value.status_code,
                    self._shared(value.reason),
                    self._shared(value.media),
                    self._shared(value.place_id),
                )
                self.states[key] = state
                self.new_states.append((state, *key))
            return None, state, _since(value.since, tick_ms)
        assert isinstance(value, UnknownValue)
        return _unknown_json(value.raw), UNKNOWN_STATE, None

    def _shared(self, text: str | None) -> str | None:
        """The one copy of `text` the interned states share (None stays None)."""
        if text is None:
            return None
        return self._texts.setdefault(text, text)


def clock_text(moment: float) -> str:
    """A recorded moment as the screen and messages say it: `HH:MM:SS` local time."""
    return time.strftime("%H:%M:%S", time.localtime(moment))


def tick_millis(moment: float) -> int:
    """A tick's time in whole epoch milliseconds, which agent-state starts are relative to."""
    return round(moment * 1000)


def _since(since: float | None, tick_ms: int) -> int | float | None:
    if since is None:
        return None
    if math.isfinite(since):
        millis = round(since * 1000)
        # Whole milliseconds (what servers send) relative to the tick are a byte or two
        # (0 takes none: the state began in this poll); anything else is kept as it is.
        if millis / 1000.0 == since:
            return millis - tick_ms
    return since


def _reads_back(text: str, number: float) -> bool:
    """True when `text` parses back to `number` (so storing the text alone loses nothing)."""
    try:
        parsed = float(text)
    except ValueError:
        return False
    return parsed == number or (math.isnan(parsed) and math.isnan(number))


def _unknown_json(raw: object) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(repr(raw))


class Decoder:
    """(value, state, since) -> StatValue, with the recording's interned states."""

    def __init__(self, states: Mapping[int, StateKey]) -> None:
        self.states = states

    def decode(self, value: Any, state: Any, since: Any, tick_ms: int) -> StatValue:
        """The value a stored row holds; RecordingError when the row makes no sense."""
        if state is None:
            if type(value) is int:
                return NumberValue(float(value), str(value))
            if type(value) is float:
                return NumberValue(value, repr(value))
            if type(value) is str:
                try:
                    return NumberValue(float(value), value)
                except ValueError:
                    pass
            raise RecordingError(f"a stored value is damaged ({type(value).__name__})")
        if state == WORDED_NUMBER:
            try:
                number, text = json.loads(value)
                return NumberValue(float(number), str(text))
            except (TypeError, ValueError):
                raise RecordingError("a stored value is damaged (a worded number)") from None
        if state == UNKNOWN_STATE:
            try:
                return UnknownValue(json.loads(value))
            except (TypeError, ValueError):
                raise RecordingError("a stored value of unknown shape is damaged") from None
        key = self.states.get(state)
        if key is None:
            raise RecordingError(f"a change names agent state {state!r}, which is not stored")
        status, status_code, reason, media, place_id = key
        return AgentStateValue(
            status=status,
            status_code=status_code,
            reason=reason,
            since=self._since(since, tick_ms),
            media=media,
            place_id=place_id,
        )

    def _since(self, since: Any, tick_ms: int) -> float | None:
        if since is None:
            return None
        if type(since) is int:
            return (tick_ms + since) / 1000.0
        if type(since) is float:
            return since
        raise RecordingError("a stored agent-state start time is damaged")


# --- reading --------------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing recording; RecordingError if there is none.

    The file is opened read-only (`mode=ro`, `query_only`), so no read can change it, and
    with `trusted_schema=OFF`, so nothing in its schema runs functions with side effects.
    A file a killed recorder left still reads whole: SQLite reads its WAL beside it.
    """
    try:
        # Never a plain open: a FIFO would block replay and export until a writer came.
        with open(open_regular(path, os.O_RDONLY), "rb") as handle:
            head = handle.read(100)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except NotRegularFile as error:
        raise RecordingError(f"{path}: this is {error.kind}, not a recording") from None
    except OSError as error:
        # A directory the user cannot enter fails here (exists() too): one line, no traceback.
        raise RecordingError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not head.startswith(SQLITE_MAGIC):
        raise RecordingError(f"{path}: not a statdash recording (not an SQLite database)")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA trusted_schema=OFF")
    except (OSError, sqlite3.Error) as error:
        raise RecordingError(f"{path}: cannot open it ({error})") from None
    return connection


def _schema_objects() -> frozenset[tuple[str, str, str, str]]:
    """(type, name, table, sql) of every object a recording's schema holds, from SCHEMA."""
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.executescript(SCHEMA)
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return frozenset((str(a), str(b), str(c), str(d)) for a, b, c, d in rows)


SCHEMA_OBJECTS = _schema_objects()
SCHEMA_OBJECTS_FORMAT_2 = frozenset(
    item for item in SCHEMA_OBJECTS if item[2] not in _SINCE_FORMAT_3
)


# The small tables, read whole when the file is opened: every cell is checked at once.
_TEXT_COLUMNS = {
    "meta": ("key", "value"),
    "statistics": ("id", "statistic_id", "object_type", "object_id", "label"),
    "states": ("id", "status", "status_code", "reason", "media", "place_id"),
    "ticks": ("tick", "t", "arrived", "keyframe", "sampled"),
    "gaps": ("tick", "since", "until", "why"),
}


def _capped(column: str) -> str:
    """`column` in a SELECT, or NULL when it holds more than MAX_CELL_LENGTH (not fetched)."""
    return f"iif(length({column}) > {MAX_CELL_LENGTH}, NULL, {column})"


# stat, value, state, since of a change or keyframe row, none of them fetched when too long
# (a NULL where a value belongs reads as a damaged value).
_CAPPED_ROW = ", ".join(_capped(column) for column in ("stat", "value", "state", "since"))


class Recording:
    """One recording, open for reading: its info, layout, ticks and values at any moment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        self._short: str | None = None
        try:
            self._short = self._check_size()
            self.info = self._read_info()
            self._stat_ids: list[str] = [""]
            self._stat_ids.extend(self._load_statistic_ids())
            self.times: list[float] = []
            self.sampled: list[bool] = []
            """Per tick: did the store take a history sample (every poll; a push beat)."""
            self._arrival_ticks: list[int] = []
            self._keyframe_ticks: list[int] = []
            self._load_ticks()
            self.gaps: list[Gap] = self._load_gaps()
            """The stretches not recorded, in time order (none in a format-2 file)."""
            states = {
                row[0]: (row[1], row[2], row[3], row[4], row[5])
                for row in self._query("SELECT * FROM states")
            }
            self.decoder = Decoder(states)
        except RecordingError:
            self._db.close()
            raise
        self._layouts: dict[int, CompiledLayout] = {}

    @property
    def cut_short(self) -> str | None:
        """A sentence when the file is shorter than its header says (a full disk, a copy not
        finished): what it holds is read as far as it goes. None for a whole file."""
        if self._short is None:
            return None
        return f"{self.path}: {self._short}; showing the {self.tick_count} ticks it holds"

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _query(self, sql: str, parameters: Sequence[object] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise self._unreadable(error) from None

    def _unreadable(self, error: sqlite3.Error) -> RecordingError:
        """The error for an SQLite failure, saying so when the file was cut short."""
        if self._short is not None:
            return RecordingError(
                f"{self.path}: {self._short}, and what is left cannot be read ({error})"
            )
        return RecordingError(f"{self.path}: {_damage(error)}")

    def _read_info(self) -> RecordingInfo:
        try:
            application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        if application_id != APPLICATION_ID:
            raise RecordingError(f"{self.path}: an SQLite database, but not a statdash recording")
        if version > FORMAT_VERSION:
            raise RecordingError(
                f"{self.path}: recorded by a newer statdash (format {version}; this one reads "
                f"formats {OLDEST_FORMAT} to {FORMAT_VERSION}); replay it with that version"
            )
        if version < OLDEST_FORMAT:
            raise RecordingError(
                f"{self.path}: recorded by an earlier statdash (format {version}; this one "
                f"reads formats {OLDEST_FORMAT} to {FORMAT_VERSION}); replay it with the "
                "statdash that made it"
            )
        self._check_schema(version)
        meta = dict(self._query("SELECT key, value FROM meta"))
        try:
            return RecordingInfo(
                version=version,
                server=str(meta["server"]),
                started=float(meta["started"]),
                refresh=float(meta["refresh"]),
                keyframe_seconds=float(meta["keyframe_seconds"]),
                statdash_version=str(meta["statdash_version"]),
            )
        except (KeyError, TypeError, ValueError):
            raise RecordingError(f"{self.path}: the recording's meta table is incomplete") from None

    def _check_size(self) -> str | None:
        """How the file is cut short (shorter than its header says), or None when whole.

        Checked before SQLite reads it. A full disk leaves such a file (a checkpoint that
        wrote the first page and no more) whose WAL may still hold the rest, so it is read
        as far as it goes rather than refused.
        """
        try:
            size = os.path.getsize(self.path)
            with self.path.open("rb") as handle:
                header = handle.read(100)
        except OSError as error:
            raise RecordingError(f"{self.path}: cannot read it ({error})") from None
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        # The header's page count is that of the main file (pages still in the WAL are not).
        header_pages = int.from_bytes(header[28:32], "big")
        if header_pages and size < header_pages * page_size:
            return (
                f"the file is cut short ({size} of {header_pages * page_size} bytes: a full "
                "disk, or a copy not finished)"
            )
        return None

    def _check_schema(self, version: int) -> None:
        """Refuse a file whose schema objects are not exactly the tables statdash writes.

        A view or a trigger where a table belongs runs whatever its author wrote on every
        read (a query that never ends, a gigabyte `zeroblob`); an altered table may hold
        columns computed the same way. Only the exact objects of SCHEMA are read.
        """
        rows = self._query("SELECT type, name, tbl_name, sql FROM sqlite_master")
        found = {tuple(str(part) for part in row) for row in rows}
        expected = SCHEMA_OBJECTS if version >= 3 else SCHEMA_OBJECTS_FORMAT_2
        strange = sorted(found - expected)
        if strange:
            kind, name = strange[0][0], strange[0][1]
            more = f" (and {len(strange) - 1} more)" if len(strange) > 1 else ""
            raise RecordingError(
                f"{self.path}: not a statdash recording's tables: the {kind} {name!r}{more}"
                " is not one statdash writes; the file was altered or made elsewhere"
            )
        missing = sorted(expected - found)
        if missing:
            raise RecordingError(
                f"{self.path}: the recording is damaged: the {missing[0][0]} "
                f"{missing[0][1]!r} is missing"
            )
        for table, columns in _TEXT_COLUMNS.items():
            if version < 3 and table in _SINCE_FORMAT_3:
                continue
            longest = " OR ".join(f"length({column}) > {MAX_CELL_LENGTH}" for column in columns)
            if self._query(f"SELECT EXISTS(SELECT 1 FROM {table} WHERE {longest})")[0][0]:
                raise RecordingError(
                    f"{self.path}: the {table} table holds a value longer than "
                    f"{MAX_CELL_LENGTH:,} characters; the file was altered"
                )

    def _load_statistic_ids(self) -> list[str]:
        rows = self._query("SELECT id, statistic_id FROM statistics ORDER BY id")
        for expected, (number, _) in enumerate(rows, start=1):
            if number != expected:
                raise RecordingError(f"{self.path}: the statistics table is damaged")
        return [statistic_id for _, statistic_id in rows]

    def _load_ticks(self) -> None:
        rows = self._query("SELECT tick, t, arrived, keyframe, sampled FROM ticks ORDER BY tick")
        for expected, (tick, moment, arrived, keyframe, sampled) in enumerate(rows):
            if tick != expected or not isinstance(moment, float) or not math.isfinite(moment):
                raise RecordingError(f"{self.path}: the ticks table is damaged")
            self.times.append(moment)
            self.sampled.append(bool(sampled))
            if arrived:
                self._arrival_ticks.append(tick)
            if keyframe:
                self._keyframe_ticks.append(tick)

    def _load_gaps(self) -> list[Gap]:
        self._gap_starts: list[float] = []
        if self.info.version < 3:
            return []
        rows = self._query("SELECT tick, since, until, why FROM gaps ORDER BY tick")
        gaps: list[Gap] = []
        for tick, since, until, why in rows:
            if not (
                type(tick) is int
                and 0 <= tick <= len(self.times)
                and isinstance(since, float)
                and isinstance(until, float)
                and math.isfinite(since)
                and math.isfinite(until)
                and since <= until
                # In time order, one after the other: `gap_at` looks one up by bisection.
                and (not gaps or gaps[-1].until <= since)
                and isinstance(why, str)
            ):
                raise RecordingError(f"{self.path}: the gaps table is damaged")
            gaps.append(Gap(tick, since, until, why))
        self._gap_starts = [gap.since for gap in gaps]
        return gaps

    def gap_at(self, moment: float) -> Gap | None:
        """The gap `moment` falls in (from its start up to, not including, its end), or None."""
        index = bisect.bisect_right(self._gap_starts, moment) - 1
        if index >= 0 and moment < self.gaps[index].until:
            return self.gaps[index]
        return None

    def gaps_between(self, start: float, end: float) -> list[Gap]:
        """The gaps that overlap the stretch from `start` to `end`."""
        return [gap for gap in self.gaps if gap.since <= end and gap.until > start]

    @property
    def layout(self) -> CompiledLayout:
        """The layout the recording was started with, compiled again from its text."""
        return self.layout_at(0)

    @property
    def layout_ticks(self) -> list[int]:
        """The ticks from which a layout applies: 0, then each reload of the layout file."""
        return [tick for (tick,) in self._query("SELECT tick FROM layouts ORDER BY tick")]

    def layout_at(self, tick: int) -> CompiledLayout:
        """The layout in effect at `tick` (the last one stored at or before it)."""
        # The blob's length is checked in SQL: an oversized one is never fetched.
        rows = self._query(
            "SELECT tick, iif(length(json) > ?, NULL, json) FROM layouts WHERE tick <= ?"
            " ORDER BY tick DESC LIMIT 1",
            (MAX_LAYOUT_BYTES, max(tick, 0)),
        )
        if not rows:
            raise RecordingError(f"{self.path}: the recording holds no layout")
        stored_at, blob = rows[0]
        if blob is None:
            raise RecordingError(
                f"{self.path}: the stored layout is damaged (it is larger than "
                f"{MAX_LAYOUT_BYTES // 2**20} MB)"
            )
        if stored_at not in self._layouts:
            self._layouts[stored_at] = self._compile(blob)
        return self._layouts[stored_at]

    def _compile(self, blob: object) -> CompiledLayout:
        try:
            if not isinstance(blob, bytes):
                raise LayoutSourceError("it is not compressed text")
            inflater = zlib.decompressobj()
            data = inflater.decompress(blob, MAX_LAYOUT_BYTES)
            if inflater.unconsumed_tail:
                raise LayoutSourceError(f"it is larger than {MAX_LAYOUT_BYTES // 2**20} MB")
            source = LayoutSource.from_json(data.decode("utf-8"))
            _check_limits(source)
        except (zlib.error, UnicodeDecodeError, LayoutSourceError) as error:
            raise RecordingError(f"{self.path}: the stored layout is damaged ({error})") from None
        try:
            return compile_layout(load_layout_source(source))
        except LayoutError as error:
            first = error.problems[0]
            more = len(error.problems) - 1
            also = f" (and {more} more)" if more else ""
            raise RecordingError(
                f"{self.path}: the stored layout does not load in this statdash: {first}{also}"
            ) from None
        except RecursionError:
            raise RecordingError(f"{self.path}: the stored layout is nested too deeply") from None

    @property
    def updates(self) -> str:
        """How the recorded session's values arrived: `push` when some tick holds a pushed
        change (no history sample: only pushes take none), else `poll`."""
        pushed = self._query("SELECT EXISTS(SELECT 1 FROM ticks WHERE sampled = 0)")
        return "push" if pushed and pushed[0][0] else "poll"

    @property
    def tick_count(self) -> int:
        """How many ticks (ingests) the recording holds."""
        return len(self.times)

    @property
    def start(self) -> float:
        """Epoch seconds of the first tick (or of the start when there is none)."""
        return self.times[0] if self.times else self.info.started

    @property
    def end(self) -> float:
        """Epoch seconds of the last tick."""
        return self.times[-1] if self.times else self.info.started

    def tick_at(self, moment: float) -> int:
        """The last tick at or before `moment`, -1 when `moment` is before the first."""
        return bisect.bisect_right(self.times, moment) - 1

    def statistic_id(self, stat: object) -> str:
        """The statisticId of an interned statistic number."""
        try:
            if type(stat) is not int or stat < 1:
                raise IndexError
            return self._stat_ids[stat]
        except IndexError:
            raise RecordingError(
                f"{self.path}: a change names statistic {stat!r:.40}, not stored"
            ) from None

    def labels(self) -> dict[str, tuple[str, str, str]]:
        """statisticId -> (object type, object id, label) as the layout named them."""
        rows = self._query("SELECT statistic_id, object_type, object_id, label FROM statistics")
        return {row[0]: (row[1] or "", row[2] or "", row[3] or "") for row in rows}

    def arrived_at(self, tick: int) -> list[str]:
        """The statisticIds that the ingest of `tick` brought (poll: usually every one)."""
        index = bisect.bisect_right(self._arrival_ticks, tick) - 1
        if index < 0:
            return []
        rows = self._query(
            f"SELECT {_capped('stat')} FROM arrivals WHERE tick = ? ORDER BY stat",
            (self._arrival_ticks[index],),
        )
        return [self.statistic_id(stat) for (stat,) in rows]

    def arrival_changes(self, after: int, through: int) -> list[int]:
        """Ticks in (after, through] whose ingest brought a different set of ids."""
        low = bisect.bisect_right(self._arrival_ticks, after)
        high = bisect.bisect_right(self._arrival_ticks, through)
        return self._arrival_ticks[low:high]

    def keyframe_before(self, tick: int) -> int:
        """The last keyframe at or before `tick`, -1 when there is none."""
        index = bisect.bisect_right(self._keyframe_ticks, tick) - 1
        return self._keyframe_ticks[index] if index >= 0 else -1

    def keyframe(self, tick: int) -> dict[str, StatValue]:
        """Every value as it was after `tick`'s ingest, from the keyframe stored at `tick`."""
        index = bisect.bisect_left(self._keyframe_ticks, tick)
        if index == len(self._keyframe_ticks) or self._keyframe_ticks[index] != tick:
            raise RecordingError(f"{self.path}: no keyframe at tick {tick}")
        rows = self._query(f"SELECT {_CAPPED_ROW} FROM keyframes WHERE tick = ?", (tick,))
        decode = self.decoder.decode
        tick_ms = tick_millis(self.times[tick])
        stat_id = self.statistic_id
        return {
            stat_id(stat): decode(value, state, since, tick_ms)
            for stat, value, state, since in rows
        }

    def changes(self, after: int, through: int) -> Iterator[tuple[int, dict[str, StatValue]]]:
        """(tick, the values that changed in it) for every tick in (after, through]."""
        through = min(through, len(self.times) - 1)
        if through <= after:
            return
        rows = self._query(
            f"SELECT tick, {_CAPPED_ROW} FROM changes"
            " WHERE tick > ? AND tick <= ? AND typeof(tick) = 'integer'",
            (after, through),
        )
        decode = self.decoder.decode
        stat_ids = self._stat_ids
        times = self.times
        # Most changes are numbers seen before ("0", "38.59"); values are immutable, so one
        # decoded value serves every row that holds the same figure (a seek reads ~70k rows).
        ints: dict[int, StatValue] = {}
        texts: dict[str, StatValue] = {}
        current = after + 1
        tick_ms = tick_millis(times[current])
        batch: dict[str, StatValue] = {}
        for tick, stat, value, state, since in rows:
            if tick != current:
                yield current, batch
                # Ticks with no change still happened (an unchanged poll); say so.
                for empty in range(current + 1, tick):
                    yield empty, {}
                current, batch = tick, {}
                tick_ms = tick_millis(times[tick])
            statistic_id = (
                stat_ids[stat]
                if type(stat) is int and 0 < stat < len(stat_ids)
                else self.statistic_id(stat)
            )
            kind = type(value)
            if state is None and (kind is int or kind is str):
                cache: dict[Any, StatValue] = ints if kind is int else texts
                decoded = cache.get(value)
                if decoded is None:
                    decoded = cache[value] = decode(value, state, since, tick_ms)
                batch[statistic_id] = decoded
            else:
                batch[statistic_id] = decode(value, state, since, tick_ms)
        yield current, batch
        for empty in range(current + 1, through + 1):
            yield empty, {}

    def change_count(self, after: int, through: int) -> int:
        """How many changes the ticks in (after, through] hold."""
        rows = self._query(
            "SELECT count(*) FROM changes WHERE tick > ? AND tick <= ?", (after, through)
        )
        return int(rows[0][0])

    def state_at(self, tick: int) -> dict[str, StatValue]:
        """Every value as it was right after `tick`'s ingest (empty before the first)."""
        if tick < 0:
            return {}
        keyframe = self.keyframe_before(tick)
        values = self.keyframe(keyframe) if keyframe >= 0 else {}
        for _, changed in self.changes(keyframe, tick):
            values.update(changed)
        return values


def _check_limits(source: LayoutSource) -> None:
    """A stored layout is held to a layout file's limits: its text and each object list at
    most MAX_FILE_BYTES (the widget count and nesting are the loader's, as for a file)."""
    limit = MAX_FILE_BYTES // 2**20
    if len(source.text.encode("utf-8")) > MAX_FILE_BYTES:
        raise LayoutSourceError(f"its text is larger than a layout file may be ({limit} MB)")
    for name, body in source.files.items():
        if len(body.encode("utf-8")) > MAX_FILE_BYTES:
            raise LayoutSourceError(
                f"its object list {name!r} is larger than a file may be ({limit} MB)"
            )


def _damage(error: sqlite3.Error) -> str:
    """The sentence for an SQLite failure while reading."""
    text = str(error)
    if "malformed" in text or "not a database" in text or "no such table" in text:
        return f"the recording is damaged ({text}); it may have been truncated or overwritten"
    return f"cannot read the recording ({text})"
