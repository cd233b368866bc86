"""Latest value and bounded history per statisticId, a revision counter, and data freshness.

The store is the only state the screen reads. Every source (poll, push, replay) hands it a
`Batch` through the one entrance, `ingest()`, which compares each raw `value` with the
statistic's previous value (through `statdash.api.values`, the one reader of value shapes),
parses only those that differ, and returns the ids that really changed, so unchanged
statistics cost nothing downstream. A poll's values come undecoded, each with a key (its
bytes, the answer's timestamp aside, `responses._value_keys`): one whose key is the one the
held value came with is not even decoded. It is mutated on one thread (the event loop) and
holds no Textual.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import msgspec

from statdash.api.responses import decode_value
from statdash.api.values import NumberValue, StatValue, UnknownValue, parse_value, same_value

# Data older than this many refresh intervals is stale: shown dimmed, never blanked.
STALE_AFTER_INTERVALS = 2.0


class History:
    """A fixed-capacity ring of (epoch seconds, number) samples in two flat float arrays.

    Flat arrays keep an 8-hour shift of history at 16 bytes a sample, not ~100 bytes of
    boxed floats and tuples.
    """

    __slots__ = ("_capacity", "_count", "_start", "_times", "_values")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("history capacity must be at least 1")
        self._capacity = capacity
        self._times = array("d", bytes(8 * capacity))
        self._values = array("d", bytes(8 * capacity))
        self._start = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        """How many samples the ring keeps before dropping the oldest."""
        return self._capacity

    def append(self, time: float, value: float) -> None:
        """Add a sample, dropping the oldest one when full; a sample of the very moment of
        the newest replaces it (two samples of one instant say nothing more than one, and a
        trend's shape must not depend on how often it was asked)."""
        if self._count:
            newest = (self._start + self._count - 1) % self._capacity
            if self._times[newest] == time:
                self._values[newest] = value
                return
        index = (self._start + self._count) % self._capacity
        self._times[index] = time
        self._values[index] = value
        if self._count < self._capacity:
            self._count += 1
        else:
            self._start = (self._start + 1) % self._capacity

    def samples(self, since: float = -math.inf) -> Iterator[tuple[float, float]]:
        """Samples oldest first, from time `since` on."""
        for offset in range(self._count):
            index = (self._start + offset) % self._capacity
            time = self._times[index]
            if time >= since:
                yield time, self._values[index]

    def values(self, since: float = -math.inf) -> list[float]:
        """The sampled numbers oldest first, from time `since` on."""
        return [value for _, value in self.samples(since)]


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one ingest did: the ids whose value changed, and the store's new revision."""

    changed: frozenset[str]
    revision: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Statistic values as one source delivered them: the one shape the store takes.

    Index-aligned columns (statisticIds, values, timestamps) rather than one object per
    statistic: a poll of 10,000 statistics is read as the client decoded it, without
    building a model per value (docs/performance.md). Build it with the constructor for
    its source: `answer` (a poll or peek: REST), `pushed` (push), `replayed` (a recording).
    """

    statistic_ids: Sequence[str]
    values: Sequence[object]
    """Raw `value` objects as the wire has them, or parsed values when `parsed`."""
    timestamps: Sequence[object]
    """Raw timestamps (unused when `parsed`: a parsed value carries its own)."""
    full: bool = True
    """A full answer: the ids that came are current now, and it may take a history sample.
    False for pushed changes, which name only what changed."""
    newer_only: bool = False
    """Keep a held value that is newer than the one offered."""
    parsed: bool = False
    arrived: Sequence[str] | None = None
    """Every id that arrived, when not just `statistic_ids` (a replayed tick)."""
    sample: bool = True
    """False when the batch takes no history sample (a replayed pushed change)."""
    value_keys: Sequence[msgspec.Raw] | None = None
    """Not None: `values` are undecoded (`msgspec.Raw`), and this is each one's key (see
    `wired`)."""

    @classmethod
    def answer(
        cls,
        statistic_ids: Sequence[str],
        raw_values: Sequence[object],
        raw_timestamps: Sequence[object],
        *,
        newer_only: bool = False,
    ) -> Batch:
        """One poll's (or peek's) columns, as the client gives them.

        `newer_only` keeps a held value that is newer than the one offered (a reconciliation
        peek under push may be answered from before the latest pushed change).
        """
        return cls(
            statistic_ids=statistic_ids,
            values=raw_values,
            timestamps=raw_timestamps,
            newer_only=newer_only,
        )

    @classmethod
    def wired(
        cls,
        statistic_ids: Sequence[str],
        raw_values: Sequence[msgspec.Raw],
        value_keys: Sequence[msgspec.Raw],
        raw_timestamps: Sequence[object],
        *,
        newer_only: bool = False,
    ) -> Batch:
        """`answer` with each value undecoded and its key, as `StatisticValues.wire_columns()`
        gives them: the store decodes only a value whose key is not the held value's."""
        return cls(
            statistic_ids=statistic_ids,
            values=raw_values,
            timestamps=raw_timestamps,
            newer_only=newer_only,
            value_keys=value_keys,
        )

    @classmethod
    def of(
        cls, statistics: Iterable[tuple[str, object, object]], *, newer_only: bool = False
    ) -> Batch:
        """`answer` from (statisticId, raw value, raw timestamp) triples."""
        triples = list(statistics)
        return cls.answer(
            [triple[0] for triple in triples],
            [triple[1] for triple in triples],
            [triple[2] for triple in triples],
            newer_only=newer_only,
        )

    @classmethod
    def pushed(
        cls,
        statistic_ids: Sequence[str],
        raw_values: Sequence[object],
        raw_timestamps: Sequence[object],
    ) -> Batch:
        """Pushed changes: only these ids, and none out of order.

        Unlike a poll, a push names only what changed, so arrival times are left alone: a
        pushed channel says everything is current through `Store.alive()`. A value older
        than the one held (a late, out-of-order delivery) is dropped, so a stale value never
        overwrites a newer one.
        """
        return cls(
            statistic_ids=statistic_ids,
            values=raw_values,
            timestamps=raw_timestamps,
            full=False,
            newer_only=True,
        )

    @classmethod
    def replayed(
        cls, values: Mapping[str, StatValue], arrived: Sequence[str], *, sample: bool = True
    ) -> Batch:
        """Values already parsed (a replay): `arrived` is every id that came; `sample` False
        when the recorded store took no history sample then (a pushed change)."""
        ids = list(values)
        return cls(
            statistic_ids=ids,
            values=list(values.values()),
            timestamps=(),
            parsed=True,
            arrived=arrived,
            sample=sample,
        )

    def __len__(self) -> int:
        return len(self.statistic_ids)

    def slices(self, size: int) -> Iterator[Batch]:
        """This batch as consecutive batches of at most `size` values, in order.

        For a caller that applies a large batch one step of the event loop at a time: the
        store takes the slices one by one and ends up as if it had taken the whole batch. Only
        the last slice of a full answer is `full`, naming every id that arrived (freshness,
        the history sample); the slices before it only store their values.
        """
        count = len(self.statistic_ids)
        if count <= size:
            yield self
            return
        arrived = self.statistic_ids if self.arrived is None else self.arrived
        for start in range(0, count, size):
            end = start + size
            last = end >= count
            yield replace(
                self,
                statistic_ids=self.statistic_ids[start:end],
                values=self.values[start:end],
                timestamps=self.timestamps[start:end],
                value_keys=None if self.value_keys is None else self.value_keys[start:end],
                full=self.full and last,
                arrived=arrived if last else None,
            )


class Store:
    """Latest values, history for the statistics that need it, and when data last arrived."""

    def __init__(self, history_capacity: Mapping[str, int] | None = None) -> None:
        self._values: dict[str, StatValue] = {}
        # The key (`Batch.wired`) of the undecoded value each held number or agent state
        # was read from or found equal to, as the latest answer brought it: the same key
        # again reads the same (see `_apply_wired`). A key refers to the whole answer it
        # came in and keeps it alive, so only the latest answer's are kept: an entry is
        # replaced by each answer bringing the id, and dropped when a full answer does not.
        self._keys: dict[str, msgspec.Raw] = {}
        # When each statistic last arrived, kept cheaply: polls usually bring the very same ids,
        # so the latest poll's ids share one time, and only ids missing from it keep their own.
        self._latest_ids: Sequence[str] = ()
        self._latest_set: frozenset[str] = frozenset()
        self._latest_at = 0.0
        self._seen_before: dict[str, float] = {}
        self._history: dict[str, History] = {}
        # Derived statistic (a formula's) -> the ids it reads directly, server or derived:
        # the server statistics behind it are reached through these, never copied (a formula
        # over `sum(x)` of N objects would otherwise hold N ids in each of its N copies).
        self._derived_reads: dict[str, frozenset[str]] = {}
        self._derived_sample_due = False
        self.track_history(history_capacity or {})
        self.revision = 0
        self.last_good_poll: float | None = None
        """Monotonic time of the last successful ingest."""

    def ingest(self, batch: Batch, *, now: float, wall: float) -> Ingested:
        """Take one batch, whatever its source; the one way values enter the store.

        `now` is monotonic (freshness), `wall` is epoch seconds (history sample times); a
        pushed batch uses neither (see `Batch.pushed`).
        """
        if batch.parsed:
            changed = self._put(batch.statistic_ids, batch.values)
        elif batch.value_keys is not None:
            changed = self._apply_wired(
                batch.statistic_ids,
                batch.values,  # type: ignore[arg-type]  # undecoded, as `value_keys` says
                batch.value_keys,
                batch.timestamps,
                newer_only=batch.newer_only,
            )
        else:
            changed = self._apply(
                batch.statistic_ids, batch.values, batch.timestamps, newer_only=batch.newer_only
            )
        if not batch.full:
            if changed:
                self.revision += 1
            return Ingested(frozenset(changed), self.revision)
        arrived = batch.statistic_ids if batch.arrived is None else batch.arrived
        return self._finish(arrived, changed, now, wall, sample=batch.sample)

    def _apply(
        self,
        statistic_ids: Sequence[str],
        raw_values: Sequence[object],
        raw_timestamps: Sequence[object],
        *,
        newer_only: bool,
        refused: list[str] | None = None,
    ) -> list[str]:
        """Store the values that differ from those held; returns their ids (and adds to
        `refused` those of values older than the one held, kept under `newer_only`)."""
        changed: list[str] = []
        values = self._values
        keys = self._keys
        for statistic_id, raw_value, raw_timestamp in zip(
            statistic_ids, raw_values, raw_timestamps, strict=True
        ):
            previous = values.get(statistic_id)
            # Most values are the same as last poll's; `same_value` says so without parsing.
            if previous is not None and same_value(raw_value, previous):
                continue
            value = parse_value(raw_value, raw_timestamp)
            if value == previous:
                continue
            if newer_only and _older(value, previous):
                if refused is not None:
                    refused.append(statistic_id)
                continue
            values[statistic_id] = value
            changed.append(statistic_id)
            if keys:
                keys.pop(statistic_id, None)  # the value held no longer came with that key
        return changed

    def _apply_wired(
        self,
        statistic_ids: Sequence[str],
        raw_values: Sequence[msgspec.Raw],
        value_keys: Sequence[msgspec.Raw],
        raw_timestamps: Sequence[object],
        *,
        newer_only: bool,
    ) -> list[str]:
        """`_apply` for undecoded values: one whose key is the one the held number or agent
        state came with is the same value, as `_apply` would find after decoding it; the
        others are decoded and go through `_apply`."""
        held = self._keys
        ids: list[str] = []
        taken: set[str] = set()
        decoded: list[object] = []
        stamps: list[object] = []
        keys: list[msgspec.Raw] = []
        for statistic_id, raw_value, key, raw_timestamp in zip(
            statistic_ids, raw_values, value_keys, raw_timestamps, strict=True
        ):
            # An id sent twice in one answer is compared with its first value, not skipped.
            if held.get(statistic_id) == key and statistic_id not in taken:
                held[statistic_id] = key  # equal, and keeps only this answer alive
                continue
            ids.append(statistic_id)
            taken.add(statistic_id)
            decoded.append(decode_value(raw_value))
            stamps.append(raw_timestamp)
            keys.append(key)
        if not ids:
            return []
        refused: list[str] = []
        changed = self._apply(ids, decoded, stamps, newer_only=newer_only, refused=refused)
        values = self._values
        kept_older = set(refused)
        for statistic_id, key in zip(ids, keys, strict=True):
            if statistic_id in kept_older or type(values[statistic_id]) is UnknownValue:
                # Refused: the held value stays, but the key would keep an old answer alive.
                # Unknown: it holds the raw JSON, its time too, so it is always compared.
                held.pop(statistic_id, None)
            else:
                held[statistic_id] = key
        return changed

    def alive(self, now: float) -> None:
        """Everything the last full answer brought is current as of `now` (a live push channel)."""
        self._latest_at = now
        self.last_good_poll = now

    def sample(self, wall: float) -> None:
        """A history sample of every tracked statistic, derived ones too (under push: each
        refresh beat; pushed changes themselves take none, so trends keep their time scale)."""
        if self._history:
            self._sample_history(wall)
            self._sample_derived(wall)

    def _put(self, statistic_ids: Sequence[str], values: Sequence[object]) -> list[str]:
        """Store values already parsed (a replay) that differ from those held; their ids."""
        changed: list[str] = []
        held = self._values
        for statistic_id, value in zip(statistic_ids, values, strict=True):
            if isinstance(value, StatValue) and held.get(statistic_id) != value:
                held[statistic_id] = value
                self._keys.pop(statistic_id, None)
                changed.append(statistic_id)
        return changed

    def _finish(
        self,
        statistic_ids: Sequence[str],
        changed: list[str],
        now: float,
        wall: float,
        *,
        sample: bool = True,
    ) -> Ingested:
        """What a full answer (a poll, or a replayed tick) does beyond storing the values."""
        self._arrived(statistic_ids, now)
        if sample:
            if self._history:
                self._sample_history(wall)
            # The formulas computed from this answer take their samples when they are put.
            self._derived_sample_due = True
        self.last_good_poll = now
        if changed:
            self.revision += 1
        return Ingested(frozenset(changed), self.revision)

    def _arrived(self, statistic_ids: Sequence[str], now: float) -> None:
        """Note that these ids (and only these) arrived at `now`."""
        if statistic_ids != self._latest_ids:
            arrived = frozenset(statistic_ids)
            for statistic_id in self._latest_set - arrived:
                self._seen_before[statistic_id] = self._latest_at
                self._keys.pop(statistic_id, None)  # it would keep an old answer alive
            for statistic_id in arrived & self._seen_before.keys():
                del self._seen_before[statistic_id]
            self._latest_ids = list(statistic_ids)  # a copy: the caller's list may change
            self._latest_set = arrived
        self._latest_at = now

    def _sample_history(self, wall: float) -> None:
        """A sample for every history-keeping statistic that came in this poll."""
        arrived = self._latest_set  # this poll's, as `_arrived` just noted
        for statistic_id, history in self._history.items():
            if statistic_id in arrived:
                value = self._values.get(statistic_id)
                if isinstance(value, NumberValue):
                    history.append(wall, value.number)

    @property
    def arrived(self) -> Sequence[str]:
        """The ids of the latest ingest: the same object until an ingest brings other ids."""
        return self._latest_ids

    def values(self) -> Mapping[str, StatValue]:
        """Every latest value by statisticId (read it, never change it)."""
        return self._values

    def get(self, statistic_id: str) -> StatValue | None:
        """The latest value, or None when the statistic has not arrived (yet)."""
        return self._values.get(statistic_id)

    @property
    def tracks_history(self) -> bool:
        """True when some statistic keeps a history ring."""
        return bool(self._history)

    def history(self, statistic_id: str) -> History | None:
        """The history ring of a statistic that keeps one."""
        return self._history.get(statistic_id)

    def age(self, now: float) -> float | None:
        """Seconds since the last successful poll, or None before the first one."""
        return None if self.last_good_poll is None else max(0.0, now - self.last_good_poll)

    def is_stale(self, statistic_id: str, now: float, interval: float) -> bool:
        """True when the statistic's latest value is older than two refresh intervals.

        A derived statistic is stale when any statistic it is computed from is (through the
        formulas it reads, at most MAX_FORMULA_DEPTH deep).
        """
        reads = self._derived_reads.get(statistic_id)
        if reads is not None:
            return any(self.is_stale(read, now, interval) for read in reads)
        if statistic_id in self._latest_set:
            seen: float | None = self._latest_at
        else:
            seen = self._seen_before.get(statistic_id)
        return seen is None or now - seen > STALE_AFTER_INTERVALS * interval

    def track_history(self, capacity: Mapping[str, int]) -> None:
        """Keep history for these statistics too (existing rings and their samples stay)."""
        for statistic_id, size in capacity.items():
            if statistic_id not in self._history:
                self._history[statistic_id] = History(size)

    def derive_from(self, reads: Mapping[str, frozenset[str]]) -> None:
        """Note which statistics (server or derived) each derived statistic reads directly."""
        self._derived_reads.update(reads)

    def put_derived(self, values: Mapping[str, StatValue], *, wall: float) -> frozenset[str]:
        """Take computed values of derived statistics; the ids whose value changed.

        Called after every ingest (with whatever the formulas gave): derived statistics
        with history get a sample whenever one of their sources arrived, like server ones.
        """
        changed = [
            stat_id for stat_id, value in values.items() if self._values.get(stat_id) != value
        ]
        for stat_id in changed:
            self._values[stat_id] = values[stat_id]
            self._keys.pop(stat_id, None)
        if self._derived_sample_due:
            self._derived_sample_due = False
            self._sample_derived(wall)
        if changed:
            self.revision += 1
        return frozenset(changed)

    def _sample_derived(self, wall: float) -> None:
        """A sample of every history-keeping derived statistic one of whose sources arrived."""
        arrived = self._latest_set
        fed: dict[str, bool] = {}  # derived id -> one of its server statistics arrived

        def was_fed(stat_id: str) -> bool:
            known = fed.get(stat_id)
            if known is None:
                reads = self._derived_reads[stat_id]
                known = not reads.isdisjoint(arrived) or any(
                    was_fed(read) for read in reads if read in self._derived_reads
                )
                fed[stat_id] = known
            return known

        for stat_id, history in self._history.items():
            if stat_id not in self._derived_reads or not was_fed(stat_id):
                continue
            value = self._values.get(stat_id)
            if isinstance(value, NumberValue) and math.isfinite(value.number):
                history.append(wall, value.number)

    def forget(self, keep: Iterable[str]) -> None:
        """Drop every statistic not in `keep` (after the layout changed)."""
        keep_set = set(keep)
        tables = (
            self._values,
            self._keys,
            self._seen_before,
            self._history,
            self._derived_reads,
        )
        for table in tables:
            for statistic_id in [key for key in table if key not in keep_set]:
                del table[statistic_id]
        self._latest_set &= keep_set
        self._latest_ids = ()  # the next poll sets both afresh
        self.revision += 1


def _older(value: StatValue, held: StatValue | None) -> bool:
    """True when both carry a timestamp and `value` was produced before `held`."""
    return (
        held is not None
        and held.timestamp is not None
        and value.timestamp is not None
        and value.timestamp < held.timestamp
    )
