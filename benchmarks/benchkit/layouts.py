"""Layouts for `perf.py`: `layouts/floor.yaml` at a 1 s refresh, and the same layout scaled.

Scaling keeps floor.yaml's shape (40 agents per queue, the same widgets and columns) and only
changes the object lists, so N statistics is about 5 per agent plus 7 per queue plus 3 per
queue group. The object lists come from `statdash.sim.ids`, the ids the simulator serves.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.views import CompiledLayout
from statdash.sim.ids import QUEUES_PER_QUEUE_GROUP, agent_id, queue_group_id, queue_id

ROOT = Path(__file__).resolve().parents[2]
FLOOR = ROOT / "layouts" / "floor.yaml"
FLOOR_AGENTS = 2000
FLOOR_QUEUES = 50
MAX_QUEUE_GROUPS = 10


@dataclass(frozen=True, slots=True)
class Scaled:
    """A written layout and what it asks for."""

    path: Path
    agents: int
    queues: int
    layout: CompiledLayout

    @property
    def statistics(self) -> int:
        """How many statistics the subscription holds."""
        return len(self.layout.items)


def write_floor(directory: Path, agents: int, queues: int, *, refresh: float = 1.0) -> Scaled:
    """floor.yaml with `agents` agents and `queues` queues at `refresh` seconds, in `directory`.

    At floor.yaml's own size the shipped object lists are copied, so it is floor.yaml exactly
    (only the refresh differs).
    """
    directory.mkdir(parents=True, exist_ok=True)
    text = FLOOR.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^refresh: .*$", f"refresh: {refresh:g}s", text, count=1)
    if (agents, queues) == (FLOOR_AGENTS, FLOOR_QUEUES):
        shutil.copytree(FLOOR.parent / "data", directory / "data", dirs_exist_ok=True)
    else:
        (directory / "data").mkdir(exist_ok=True)
        (directory / "data" / "floor-agents.txt").write_text(
            "".join(f"{agent_id(index)}\n" for index in range(agents)), encoding="utf-8"
        )
        (directory / "data" / "floor-queues.csv").write_text(
            "id,label\n" + "".join(f"{queue_id(i)},Queue {i + 1}\n" for i in range(queues)),
            encoding="utf-8",
        )
        groups = max(1, min(MAX_QUEUE_GROUPS, queues // QUEUES_PER_QUEUE_GROUP))
        objects = ", ".join(f"{{queue_group: {queue_group_id(i)}}}" for i in range(groups))
        text = re.sub(r"(?m)^(\s+objects: )\[\{queue_group:.*$", rf"\g<1>[{objects}]", text)
    path = directory / "floor.yaml"
    path.write_text(text, encoding="utf-8")
    return Scaled(path, agents, queues, compile_layout(load_layout(path)))


def floor_size_for(statistics: int) -> tuple[int, int]:
    """(agents, queues) of the floor-shaped layout closest to `statistics` statistics."""
    agents = max(10, round(statistics / 5.2 / 10) * 10)
    return agents, max(1, agents // 40)
