"""Store changes -> a recording file: rows built on the event loop, written by one thread.

A `Recorder` is a listener of the data path (`statdash.live.controller.Listener`): it hears
each ingest of the store right after it happens, turns the values that changed into small
tuples (microseconds a change) and hands them over; a writer thread commits whatever has
gathered once every `flush_seconds` in one transaction (SQLite in WAL mode,
`synchronous=NORMAL`), so a crash or SIGKILL loses at most that last second or so, and a
committed transaction is never half there. Every `KEYFRAME_SECONDS` of
recorded time the whole store goes in too, as a keyframe. Only the server's name is stored
(the caller's `server` label), never a credential.

Memory is bounded: when the writer falls behind (a slow disk) and `max_pending` values wait
for it, the recorder stops taking ingests rather than grow, and says so (`notice`, on the
status line). Once the writer has written everything it was handed, the next ingest is
recorded whole (every value as a change and as a keyframe) and the stretch between is
stored as a gap, so replay and export say "not recorded" there instead of showing the last
values as if nothing had changed.

The layout goes in as the text it was read from (`LayoutSource`), again at each reload, so
replay compiles exactly what ran. A file is created under a temporary name and appears
under its own only once its tables, meta and layout are committed: a start that fails
leaves nothing, and two recorders can never share one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statdash import __version__
from statdash.layout.views import (
    CompiledLayout,
    FormulaStat,
    KpiView,
    TableView,
    TopView,
    TrendView,
)
from statdash.live.controller import Listener
from statdash.live.recordings.file import (
    APPLICATION_ID,
    FORMAT_VERSION,
    KEYFRAME_SECONDS,
    SCHEMA,
    Encoder,
    clock_text,
    tick_millis,
)
from statdash.live.store import Ingested, Store

log = logging.getLogger("statdash.live")

FLUSH_SECONDS = 1.0
MAX_PENDING_VALUES = 200_000
"""Values (changes, keyframe rows, arrivals) that may wait for the writer before the
recorder stops taking ingests: 20 s of floor.yaml's whole store changing every second (see
docs/recordings.md for what that weighs). A batch holds at most that plus one tick (plus,
after a gap, the tick that resumed it: the whole store twice); two batches at most are
held, the one being written and the one gathering."""
BEHIND = "writing fell behind"
"""Why a gap was not recorded (the `why` of its row)."""
REDACTED_WEBHOOK = "https://webhook.invalid/redacted"
"""What a recording stores in place of a webhook URL written in the layout (.invalid never
resolves, RFC 2606)."""


class _Columns:
    """Rows of one table kept as one list per column until the writer inserts them.

    A row waiting for the writer is a slot in each list, not a tuple of its own: the tick,
    the statistic and most values are objects that exist anyway (the tick's number, the
    interned statistic number, the store's own text of a figure), so a change adds
    almost no object that outlives the ingest. Tuples that lived a second each, by the
    thousand (a keyframe is 10,380 of them on floor.yaml), were interleaved in Python's
    allocator with objects that live for hours, and left its arenas pinned: RSS crept
    with `--record` (docs/performance.md). The writer's tuples live one insert each.
    """

    __slots__ = ("columns",)

    def __init__(self, width: int) -> None:
        self.columns: tuple[list[Any], ...] = tuple([] for _ in range(width))

    def __len__(self) -> int:
        return len(self.columns[0])

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The rows, in the order they were added (for `executemany`)."""
        return zip(*self.columns, strict=True)


@dataclass(slots=True)
class _Batch:
    """Rows gathered on the event loop since the last commit, table by table."""

    statistics: list[tuple[int, str, str | None, str | None, str | None]] = field(
        default_factory=list
    )
    states: list[tuple[Any, ...]] = field(default_factory=list)
    ticks: list[tuple[int, float, int, int, int]] = field(default_factory=list)
    layouts: list[tuple[int, bytes]] = field(default_factory=list)
    arrivals: _Columns = field(default_factory=lambda: _Columns(2))
    """(tick, stat)"""
    changes: _Columns = field(default_factory=lambda: _Columns(5))
    """(tick, stat, value, state, since)"""
    keyframes: _Columns = field(default_factory=lambda: _Columns(5))
    """(tick, stat, value, state, since), as `changes`"""
    gaps: list[tuple[int, float, float, str]] = field(default_factory=list)
    resumed: int = 0
    """Values of a tick that resumed after a gap (the whole store, twice): not counted by the
    bound, else a floor larger than the bound would pause again at once."""

    def empty(self) -> bool:
        return not (self.statistics or self.ticks or self.states or self.layouts or self.gaps)

    def values(self) -> int:
        """The rows that grow with the floor (changes, keyframe rows, arrivals)."""
        return len(self.changes) + len(self.keyframes) + len(self.arrivals)


class RecorderError(Exception):
    """The recording file could not be created; the message says which and why."""


class Recorder(Listener):
    """Appends every ingest of one store to one recording file."""

    feature = "recording"

    def __init__(
        self,
        path: Path,
        layout: CompiledLayout,
        *,
        server: str,
        started: float | None = None,
        keyframe_seconds: float = KEYFRAME_SECONDS,
        flush_seconds: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING_VALUES,
    ) -> None:
        self.path = path
        self._layout = layout
        self._layout_blob = _layout_blob(layout, path)
        self._keyframe_seconds = keyframe_seconds
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        started = time.time() if started is None else started
        self._encoder = Encoder()
        self._stats: dict[str, int] = {}
        self._new_stats: list[tuple[int, str, str | None, str | None, str | None]] = []
        self._labels = _labels(layout)
        self._tick = -1
        self._last_arrived: object = None
        self._next_keyframe = -1.0
        self._batch = _Batch()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._failure: str | None = None
        # The writer is committing a batch it took (the gathering one may fill meanwhile).
        self._writing = False
        # While behind: when the first ingest not recorded happened, and the last one.
        self._gap_since: float | None = None
        self._gap_last = 0.0
        self._notice: str | None = None
        self.changes_recorded = 0
        self.ingests_not_recorded = 0
        self._identity = (0, 0)
        self._db = self._create(path, server, started)
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Values gathered and not yet handed to the writer thread (what `max_pending` bounds)."""
        return self._batch.values()

    @property
    def caught_up(self) -> bool:
        """True when the writer has written everything it was handed (nothing waits)."""
        # Under the lock: the writer swaps the batch and says it is writing in one step.
        with self._lock:
            return not self._writing and self._batch.empty()

    @property
    def notice(self) -> str | None:
        """While behind, or after a gap: what the status line says (the recording goes on)."""
        return self._notice

    @property
    def failure(self) -> str | None:
        """Why writing stopped (a full disk, a removed directory), or None while it works."""
        return self._failure

    def _create(self, path: Path, server: str, started: float) -> sqlite3.Connection:
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            # exists() itself fails in a directory the user cannot enter: the same one line.
            if path.exists():
                raise RecorderError(f"{path}: the file exists; record to a new file")
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as db:
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={FORMAT_VERSION}")
                db.executescript("BEGIN;" + SCHEMA + "COMMIT;")
                meta = {
                    "server": server,
                    "started": started,
                    "refresh": self._layout.refresh,
                    "keyframe_seconds": self._keyframe_seconds,
                    "statdash_version": __version__,
                    "layout_file": self._layout.file,
                }
                db.execute("BEGIN")
                db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                db.execute("INSERT INTO layouts VALUES (0, ?)", (self._layout_blob,))
                db.execute("COMMIT")
            # A hard link appears whole or not at all, and never over a file that exists.
            try:
                os.link(partial, path)
            except FileExistsError:
                raise RecorderError(f"{path}: the file exists; record to a new file") from None
        except (OSError, sqlite3.Error) as error:
            raise RecorderError(f"{path}: cannot record there ({_why(error)})") from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()
        try:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._identity = _identity(path)
        except (OSError, sqlite3.Error) as error:
            raise RecorderError(f"{path}: cannot record there ({_why(error)})") from None
        return db

    # --- on the event loop ------------------------------------------------------------------

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """Note one ingest of `store` at epoch time `wall`: what changed and what arrived,
        and whether the store took a history sample (so a replay samples where it did)."""
        if self._stopping or self._failure is not None:
            return
        resuming = False
        if self._gap_since is not None:
            if not self.caught_up:
                self._skip(wall)
                return
            # The writer wrote all it was handed: record again, from the whole store.
            resuming = True
        elif self._batch.values() - self._batch.resumed >= self._max_pending:
            self._gap_since = wall
            self._notice = f"recording paused since {clock_text(wall)}: {BEHIND}"
            # Info: the status line (or watch's one line) says it, through the listener seam.
            log.info("%s: %s", self.path, self._notice)
            self._skip(wall)
            return
        self._tick += 1
        tick = self._tick
        tick_ms = tick_millis(wall)
        stat = self._stat
        # What changed in a gap is unknown: on resuming every value is a change at this
        # tick, so a replay playing on across the gap lands on the right state.
        changed = store.values() if resuming else ingested.changed
        arrived = store.arrived
        # The store keeps the very same list while polls bring the same ids: one identity test.
        new_arrivals = resuming or arrived is not self._last_arrived
        self._last_arrived = arrived
        with self._lock:
            batch = self._batch
            self.changes_recorded += self._add(batch.changes, store, changed, tick, tick_ms)
            if new_arrivals:
                ticks, stats = batch.arrivals.columns
                for number in sorted(stat(sid) for sid in arrived):
                    ticks.append(tick)
                    stats.append(number)
            keyframe = resuming or wall >= self._next_keyframe
            if keyframe:
                self._keyframe(store, tick, tick_ms, batch)
                self._next_keyframe = wall + self._keyframe_seconds
            if resuming:
                self._end_gap(tick, wall, batch)
                batch.resumed = batch.values()
            batch.ticks.append((tick, wall, int(new_arrivals), int(keyframe), int(sampled)))
            self._take_new_names(batch)

    def layout_changed(self, layout: CompiledLayout) -> None:
        """The layout file was reloaded: store it (it applies from the next tick) and name the
        statistics it adds with its labels."""
        if self._stopping or self._failure is not None:
            return
        blob = _layout_blob(layout, self.path)
        self._labels.update(_labels(layout))
        with self._lock:
            self._batch.layouts.append((self._tick + 1, blob))

    def _skip(self, wall: float) -> None:
        """An ingest not recorded (the writer is behind): only counted."""
        self.ingests_not_recorded += 1
        self._gap_last = wall

    def _end_gap(self, tick: int, until: float, batch: _Batch) -> None:
        """Store the gap that ends at `tick` (at epoch `until`) and say it on the status line."""
        since = self._gap_since
        assert since is not None
        self._gap_since = None
        batch.gaps.append((tick, since, until, BEHIND))
        self._notice = f"recording gap {clock_text(since)}-{clock_text(until)}: {BEHIND}"
        log.info("%s: %s", self.path, self._notice)

    def _stat(self, statistic_id: str) -> int:
        number = self._stats.get(statistic_id)
        if number is None:
            number = len(self._stats) + 1
            self._stats[statistic_id] = number
            object_type, object_id, label = self._labels.get(statistic_id, (None, None, None))
            self._new_stats.append((number, statistic_id, object_type, object_id, label))
        return number

    def _take_new_names(self, batch: _Batch) -> None:
        batch.statistics.extend(self._new_stats)
        self._new_stats.clear()
        batch.states.extend(self._encoder.new_states)
        self._encoder.new_states.clear()

    def _keyframe(self, store: Store, tick: int, tick_ms: int, batch: _Batch) -> None:
        self._add(batch.keyframes, store, store.values(), tick, tick_ms)

    def _add(
        self, table: _Columns, store: Store, ids: Iterable[str], tick: int, tick_ms: int
    ) -> int:
        """Append the store's values of `ids` at `tick` to `table`; how many there were."""
        ticks, stats, values, states, sinces = table.columns
        encode = self._encoder.encode
        stat = self._stat
        get = store.get
        added = 0
        # In key order, so every insert appends to the last page and pages are left full.
        for statistic_id in sorted(ids, key=stat):
            held = get(statistic_id)
            if held is None:
                continue
            value, state, since = encode(held, tick_ms)
            ticks.append(tick)
            stats.append(stat(statistic_id))
            values.append(value)
            states.append(state)
            sinces.append(since)
            added += 1
        return added

    def close(self) -> None:
        """Write what is left and close the file; safe to call more than once."""
        if self._stopping:
            return
        if self._gap_since is not None and self._failure is None:
            # The session ended inside a gap: it runs to the last ingest not recorded.
            with self._lock:
                self._batch.gaps.append((self._tick + 1, self._gap_since, self._gap_last, BEHIND))
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)

    async def aclose(self) -> None:
        """`close`, off the event loop (it joins the writer thread)."""
        await asyncio.to_thread(self.close)

    # --- on the writer thread ---------------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            while not self._stopping:
                self._wake.wait(self._flush_seconds)
                self._flush()
            self._flush()
        finally:
            try:
                self._db.close()
            except sqlite3.Error as error:
                log.warning("closing the recording %s: %s", self.path, error)

    def _flush(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, _Batch()
            # Set under the lock with the swap: the event loop never sees an empty batch and
            # an idle writer while a batch is still being written.
            self._writing = not batch.empty()
        try:
            if batch.empty() or self._failure is not None:
                return
            self._commit(batch)
        finally:
            self._writing = False

    def _commit(self, batch: _Batch) -> None:
        """Write one batch in one transaction (or stop the recording with why it failed)."""
        db = self._db
        try:
            # SQLite writes on into a file removed or replaced under it, and all of that
            # would be lost: a file that is no longer at its path stops the recording.
            replaced = _identity(self.path) != self._identity
        except FileNotFoundError:
            replaced = True
        except OSError as error:
            self._stop(f"cannot reach the file ({_why(error)})")
            return
        if replaced:
            self._stop("the file was removed or replaced while recording")
            return
        try:
            db.execute("BEGIN")
            db.executemany("INSERT INTO statistics VALUES (?, ?, ?, ?, ?)", batch.statistics)
            db.executemany("INSERT INTO states VALUES (?, ?, ?, ?, ?, ?)", batch.states)
            db.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?)", batch.changes.rows())
            db.executemany("INSERT INTO arrivals VALUES (?, ?)", batch.arrivals.rows())
            db.executemany("INSERT INTO keyframes VALUES (?, ?, ?, ?, ?)", batch.keyframes.rows())
            db.executemany("INSERT INTO ticks VALUES (?, ?, ?, ?, ?)", batch.ticks)
            db.executemany("INSERT OR REPLACE INTO layouts VALUES (?, ?)", batch.layouts)
            db.executemany("INSERT INTO gaps VALUES (?, ?, ?, ?)", batch.gaps)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            # A full disk must not end the dashboard: recording stops, the screen goes on.
            # What was committed before stays: the file replays up to here.
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            self._stop(_why(error))

    def _stop(self, why: str) -> None:
        """Stop writing for good; the controller hears `failure` and the status line says it."""
        self._failure = f"recording stopped: {self.path.name}: {why}"
        # Info, not error: the failure is reported once, through the listener seam (a
        # logged error would print a second line on a headless command's stderr).
        log.info("%s: %s", self.path, self._failure)


def _identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the file at `path`: another one there is not our recording."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _why(error: OSError | sqlite3.Error) -> str:
    """A write failure in words: a full disk said plainly, else the system's own words."""
    if (
        isinstance(error, sqlite3.Error)
        and getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    ):
        return "the disk is full"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def _layout_blob(layout: CompiledLayout, path: Path) -> bytes:
    """The stored form of a layout: its source text, compressed."""
    if layout.source is None:
        raise RecorderError(f"{path}: this layout was not read from a file and cannot be recorded")
    # A webhook's URL is a secret: a recording is a file people share, and replay runs no
    # alert actions, so a placeholder that still loads stands in for it.
    source = layout.source.without(layout.secrets(), REDACTED_WEBHOOK)
    return zlib.compress(source.to_json().encode("utf-8"), 6)


def _labels(layout: CompiledLayout) -> dict[str, tuple[str, str, str]]:
    """statisticId -> (object type, object id, the layout's label for the statistic)."""
    labels: dict[str, tuple[str, str, str]] = {}
    for statistic_id, origin in layout.origins.items():
        labels[statistic_id] = (origin.object.type, origin.object.id, origin.statistic)
    # The label a person reads (a column's, a KPI's, a trend line's) beats the statistic's
    # name; the first widget that shows a statistic names it.
    named: set[str] = set()

    def name(statistic_id: str, object_type: str, object_id: str, label: str) -> None:
        if statistic_id not in named:
            named.add(statistic_id)
            labels[statistic_id] = (object_type, object_id, label)

    for view in layout.widgets():
        if isinstance(view, TableView):
            columns = {column.index: column.label for column in view.columns}
            for (object_type, object_id, index), statistic_id in view.cells.items():
                name(statistic_id, object_type, object_id, columns[index])
        elif isinstance(view, KpiView):
            name(view.stat_id, view.object.type, view.object.id, view.label)
        elif isinstance(view, TopView):
            for row, statistic_id in zip(view.rows, view.stat_ids, strict=True):
                name(statistic_id, row.type, row.id, view.label)
        elif isinstance(view, TrendView):
            for series in view.series:
                name(series.stat_id, series.object.type, series.object.id, series.label)
    # Formulas no widget shows (an alert rule's condition and figure) go by their text.
    for statistic_id, derived in layout.derived.items():
        if isinstance(derived, FormulaStat):
            row = derived.object
            name(statistic_id, row.type, row.id, derived.formula.text)
        else:
            over = derived.aggregate.objects or "the widget's objects"
            name(statistic_id, "Objects", over, f"{derived.aggregate.function}(...)")
    return labels


RECORDING_SUFFIX = ".sqlite"
RECORDING_PREFIX = "statdash-"


class DailyRecorder(Listener):
    """A recording per local day in one directory; files older than `keep_days` are deleted.

    The first file is created at once (so a directory that cannot take one is refused
    before the dashboard starts); two dashboards starting in the same second each get a
    file of their own.
    """

    def __init__(
        self,
        directory: Path,
        layout: CompiledLayout,
        *,
        server: str,
        keep_days: float,
        started: float | None = None,
    ) -> None:
        self.directory = directory
        self._layout = layout
        self._server = server
        self._keep_days = keep_days
        self._failure: str | None = None
        self.paths: list[Path] = []
        started = time.time() if started is None else started
        self._day = _day_of(started)
        self._current: Recorder | None = self._new_file(started)

    @property
    def failure(self) -> str | None:
        """Why recording stopped (the current file's failure, or a new day's that failed)."""
        if self._failure is not None:
            return self._failure
        return self._current.failure if self._current is not None else None

    @property
    def notice(self) -> str | None:
        """The current file's notice (paused, or a gap), if any."""
        return self._current.notice if self._current is not None else None

    feature = "recording"

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """Record into the file of `wall`'s day, starting a new one when the day turned."""
        day = _day_of(wall)
        if day != self._day:
            self._day = day
            if self._current is not None:
                self._current.close()
            try:
                self._current = self._new_file(wall)
            except RecorderError as error:
                # The dashboard goes on; the status line says that recording stopped.
                self._current = None
                self._failure = f"recording stopped: {error}"
                log.info("%s", self._failure)
        if self._current is not None:
            # A new file's first tick is a keyframe of the whole store, so it replays alone.
            self._current.ingested(store, ingested, wall, sampled=sampled)

    def layout_changed(self, layout: CompiledLayout) -> None:
        """The layout was reloaded: the current file stores it, and so will the next day's."""
        self._layout = layout
        if self._current is not None:
            self._current.layout_changed(layout)

    def _new_file(self, wall: float) -> Recorder:
        stamp = time.strftime("%Y-%m-%d-%H%M%S", time.localtime(wall))
        for attempt in range(1, 100):
            suffix = "" if attempt == 1 else f"-{attempt}"
            path = self.directory / f"{RECORDING_PREFIX}{stamp}{suffix}{RECORDING_SUFFIX}"
            try:
                if path.exists():
                    continue
                try:
                    recorder = Recorder(path, self._layout, server=self._server, started=wall)
                except RecorderError:
                    if path.exists():
                        continue  # another dashboard took this name a moment ago
                    raise
            except OSError as error:
                # A directory the user may no longer enter (exists() fails there too).
                raise RecorderError(
                    f"{self.directory}: cannot record there ({_why(error)})"
                ) from None
            self.paths.append(path)
            delete_old_recordings(self.directory, self._keep_days, now=wall, keep=path)
            return recorder
        raise RecorderError(f"{self.directory}: no free file name for {stamp}")

    def close(self) -> None:
        """Close the current file."""
        if self._current is not None:
            self._current.close()

    async def aclose(self) -> None:
        """`close`, off the event loop (it joins the writer thread)."""
        await asyncio.to_thread(self.close)


def _day_of(wall: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(wall))


def delete_old_recordings(
    directory: Path, keep_days: float, *, now: float, keep: Path | None = None
) -> list[Path]:
    """Delete statdash recordings in `directory` last written more than `keep_days` ago."""
    deleted: list[Path] = []
    limit = now - keep_days * 86400
    for path in sorted(directory.glob(f"{RECORDING_PREFIX}*{RECORDING_SUFFIX}")):
        try:
            if path == keep or path.stat().st_mtime >= limit:
                continue
            for part in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                part.unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not delete the old recording %s: %s", path, error)
            continue
        deleted.append(path)
    return deleted
