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


TEAM_AGENTS = 20


def team_agents(team: int, agents: int = FLOOR_AGENTS) -> list[str]:
    """The agent ids of team `team`: `TEAM_AGENTS` consecutive agents of the simulator's
    floor, teams wrapping round it (so team t and team t + agents / TEAM_AGENTS overlap)."""
    teams = max(1, agents // TEAM_AGENTS)
    first = (team % teams) * TEAM_AGENTS
    return [agent_id(index) for index in range(first, first + TEAM_AGENTS)]


def write_team(directory: Path, team: int, *, refresh: float) -> Scaled:
    """floor.yaml for one supervisor: the agents of team `team` and all 50 shared queues (and
    floor.yaml's queue groups), at `refresh` seconds, in `directory`/team-NNN.yaml.

    The statistics are floor.yaml's own; only the agent list is the team's.
    """
    directory.mkdir(parents=True, exist_ok=True)
    text = FLOOR.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^refresh: .*$", f"refresh: {refresh:g}s", text, count=1)
    data = directory / "data"
    shutil.copytree(FLOOR.parent / "data", data, dirs_exist_ok=True)
    agents_file = f"team-{team:03d}-agents.txt"
    (data / agents_file).write_text("".join(f"{a}\n" for a in team_agents(team)), encoding="utf-8")
    text = text.replace("file: data/floor-agents.txt", f"file: data/{agents_file}", 1)
    path = directory / f"team-{team:03d}.yaml"
    path.write_text(text, encoding="utf-8")
    return Scaled(path, TEAM_AGENTS, FLOOR_QUEUES, compile_layout(load_layout(path)))
