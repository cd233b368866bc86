"""Helpers for recording tests: a small compiled layout and a stream of ingests to record."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from statdash.api.values import StatValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.recordings.recorder import MAX_PENDING_VALUES, Recorder, _Batch
from statdash.live.store import Batch, Store
from tests.support.wait import until

LAYOUT = """
title: Recorded floor
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        agents: [ana, ben, cai]
        columns:
          - {stat: TotalNumberInboundCalls, label: Calls}
      - kind: kpi
        title: Waiting
        object: {queue: sales}
        stat: CurrentNumberWaitingCalls
        label: Waiting
        trend: 1m
"""


def small_layout() -> CompiledLayout:
    """Three agents (state and calls) and one queue KPI with a 1 minute trend."""
    return compile_layout(load_layout_text(LAYOUT, file="recorded.yaml"))


@dataclass
class Seen:
    """What the live store held right after each ingest."""

    values: list[dict[str, StatValue]] = field(default_factory=list)
    arrived: list[list[str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


def record_stream(
    path: Path,
    layout: CompiledLayout,
    ingests: Sequence[tuple[float, Mapping[str, StatValue], Sequence[str]]],
    *,
    keyframe_seconds: float = 60.0,
    store: Store | None = None,
) -> Seen:
    """Feed (wall, values, arrived ids) ingests to a store and a recorder as the controller does."""
    store = store if store is not None else Store()
    recorder = Recorder(
        path,
        layout,
        server="stats.example.com:443",
        started=ingests[0][0] if ingests else 0.0,
        keyframe_seconds=keyframe_seconds,
        flush_seconds=0.05,
    )
    seen = Seen()
    for wall, values, arrived in ingests:
        result = store.ingest(Batch.replayed(values, arrived), now=wall, wall=wall)
        recorder.ingested(store, result, wall, sampled=True)
        seen.values.append(dict(store.values()))
        seen.arrived.append(list(arrived))
        seen.times.append(wall)
    recorder.close()
    assert recorder.failure is None
    return seen


class HeldRecorder(Recorder):
    """A recorder whose writer blocks before each commit until the test sets `release`: a
    disk as slow as the test wants, with no timing involved. `holding` is set once the
    writer has taken a batch and waits."""

    def __init__(
        self,
        path: Path,
        layout: CompiledLayout,
        *,
        started: float,
        max_pending: int = MAX_PENDING_VALUES,
    ) -> None:
        self.release = threading.Event()
        self.holding = threading.Event()
        super().__init__(
            path,
            layout,
            server="stats.example.com:443",
            started=started,
            flush_seconds=0.005,
            max_pending=max_pending,
        )

    def _commit(self, batch: _Batch) -> None:
        self.holding.set()
        self.release.wait()
        super()._commit(batch)


def record_with_gap(
    path: Path,
    layout: CompiledLayout,
    ingests: Sequence[tuple[float, Mapping[str, StatValue], Sequence[str]]],
    *,
    max_pending: int,
    resume_at: int,
) -> None:
    """Record `ingests` with the writer held from the first one until ingest `resume_at`:
    what passes `max_pending` meanwhile is the one gap. From `resume_at` on, each ingest
    waits for the writer to catch up (a disk that keeps up again)."""
    store = Store()
    recorder = HeldRecorder(path, layout, started=ingests[0][0], max_pending=max_pending)
    for index, (wall, values, arrived) in enumerate(ingests):
        if index >= resume_at:
            recorder.release.set()
            until(lambda: recorder.caught_up, what="the writer caught up")
        result = store.ingest(Batch.replayed(values, arrived), now=wall, wall=wall)
        recorder.ingested(store, result, wall, sampled=True)
        if index == 0:
            until(recorder.holding.is_set, what="the writer took the first tick")
    recorder.release.set()
    recorder.close()
    assert recorder.failure is None


def cut_short_copy(path: Path) -> Path:
    """A copy of the recording at `path` whose main file is one page though its header says
    more, with every page in the WAL beside it: what a full disk leaves when the first page
    of a checkpoint was written and no more (the adversarial sweep's file). Made by SQLite
    itself: VACUUM in WAL mode writes every page to the WAL, the two files are copied before
    any checkpoint, and the main file is cut to its first page."""
    cut = path.parent / "cut"
    cut.mkdir()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("VACUUM")
        shutil.copy(path, cut / path.name)
        shutil.copy(path.with_name(path.name + "-wal"), cut / (path.name + "-wal"))
    finally:
        db.close()
    with (cut / path.name).open("r+b") as handle:
        handle.truncate(4096)
    return cut / path.name


def deny_entry(monkeypatch: pytest.MonkeyPatch) -> set[Path]:
    """Directories the user cannot enter (add to the returned set): stat() of anything in
    them raises PermissionError.

    Tests run as root, whom permissions do not stop, so the PermissionError a user gets is
    raised by patching `os.stat` (which `Path.stat`, `exists()`, `is_dir()` and
    `statdash.regular` call) for them.
    """
    directories: set[Path] = set()
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        # `Path.stat` calls `os.stat`, and so does `statdash.regular`: one patch for both.
        if isinstance(path, str | Path) and Path(path).parent in directories:
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    return directories
