"""Helpers for recording tests: a small compiled layout and a stream of ingests to record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from statdash.api.values import StatValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.recordings.recorder import Recorder
from statdash.live.store import Batch, Store

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
