"""The layouts in layouts/ pass offline, compile, match the simulator's ids, and load quickly."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.shipped import layouts_dir, shipped_layout
from statdash.layout.views import StatesView, TableView
from statdash.sim import ids

from .conftest import LAYOUTS, SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_layout_loads_and_compiles(name: str) -> None:
    """Each shipped layout is sound and yields a non-empty, duplicate-free subscription."""
    compiled = compile_layout(load_layout(LAYOUTS / f"{name}.yaml"))
    statistic_ids = [item.statistic_id for item in compiled.items]
    assert statistic_ids and len(statistic_ids) == len(set(statistic_ids))


def test_shipped_layouts_are_found_from_the_package() -> None:
    """`statdash demo` finds the shipped layouts from a checkout: the layouts/ directory."""
    assert layouts_dir().resolve() == LAYOUTS.resolve()
    assert shipped_layout("demo.yaml").is_file()


def _data_lines(path: Path) -> list[str]:
    return [
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]


def test_layouts_holds_only_layouts_and_their_data_folder() -> None:
    """layouts/ holds layout files only (so `statdash check layouts/*` checks them all); the
    object lists they read live in layouts/data/."""
    assert sorted(p.name for p in LAYOUTS.iterdir() if not p.name.endswith(".yaml")) == ["data"]
    assert sorted(p.name for p in (LAYOUTS / "data").iterdir()) == [
        "floor-agents.txt",
        "floor-queues.csv",
    ]


def test_floor_agent_file_matches_the_simulator() -> None:
    """floor-agents.txt is exactly agent_id(0..1999), the agents of `sim --agents 2000`."""
    agents = _data_lines(LAYOUTS / "data" / "floor-agents.txt")
    assert agents == [ids.agent_id(i) for i in range(2000)]


def test_floor_queue_file_matches_the_simulator() -> None:
    """floor-queues.csv lists queue_id(0..49), each with a label."""
    rows = list(csv.DictReader(_data_lines(LAYOUTS / "data" / "floor-queues.csv")))
    assert [row["id"] for row in rows] == [ids.queue_id(k) for k in range(50)]
    assert all(row["label"] for row in rows)


@pytest.mark.parametrize(("name", "agents"), [("demo", 50), ("supervisor", 20), ("floor", 2000)])
def test_agent_lists_are_the_first_agents_of_the_simulator(name: str, agents: int) -> None:
    """Each layout's agents are agent_id(0..n-1), so a simulator of that size knows them all."""
    compiled = compile_layout(load_layout(LAYOUTS / f"{name}.yaml"))
    tables = [w for w in compiled.widgets() if isinstance(w, TableView) and w.kind == "agents"]
    states = [w for w in compiled.widgets() if isinstance(w, StatesView)]
    expected = [ids.agent_id(i) for i in range(agents)]
    for table in tables:
        assert [row.id for row in table.rows] == expected
    for widget in states:
        assert [row.id for row, _ in widget.agents] == expected


def test_floor_loads_and_compiles_quickly() -> None:
    """The 2,000-agent floor loads in well under a second and compiles in about as long.

    Measured on the dev machine: load ~5 ms, compile ~120 ms (10,380 items); the bounds
    leave room for a slow CI machine.
    """
    start = time.perf_counter()
    layout = load_layout(LAYOUTS / "floor.yaml")
    loaded = time.perf_counter()
    compiled = compile_layout(layout)
    done = time.perf_counter()
    assert len(compiled.items) > 10_000
    assert loaded - start < 0.5
    assert done - loaded < 2.0
