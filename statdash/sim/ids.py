"""Object ids of the simulated contact center, stable by index whatever the seed.

A smaller contact center is a prefix of a larger one: agent number 7 has the same id whether
the simulator runs 20 agents or 2,000, so shipped layouts (and their agent list files) match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

FIRST_NAMES = (
    "ana",
    "ben",
    "carla",
    "dev",
    "elena",
    "farid",
    "grace",
    "hugo",
    "ines",
    "jon",
    "kira",
    "liam",
    "maya",
    "nils",
    "olga",
    "paulo",
    "quinn",
    "rosa",
    "sami",
    "tara",
    "umar",
    "vera",
    "wes",
    "xenia",
    "yusuf",
    "zoe",
    "aiko",
    "bruno",
    "chloe",
    "diego",
    "emma",
    "felix",
    "gina",
    "hana",
    "ivan",
    "jade",
    "karl",
    "lena",
    "milo",
    "nora",
)
LAST_NAMES = (
    "silva",
    "berg",
    "khan",
    "novak",
    "costa",
    "meyer",
    "ortiz",
    "rossi",
    "tanaka",
    "weber",
    "dubois",
    "hansen",
    "ivanova",
    "jensen",
    "kowalski",
    "lopez",
    "moreau",
    "nakamura",
    "olsen",
    "petrov",
    "quist",
    "romero",
    "schmidt",
    "takahashi",
    "ueda",
    "varga",
    "wagner",
    "yilmaz",
    "zhang",
    "adams",
    "baker",
    "clarke",
    "davies",
    "evans",
    "fischer",
    "garcia",
    "hughes",
    "ito",
    "jones",
    "kim",
    "larsen",
    "martin",
    "nguyen",
    "obrien",
    "park",
    "reyes",
    "santos",
    "turner",
    "vogel",
    "walsh",
)

AGENTS_PER_GROUP = 20
QUEUES_PER_QUEUE_GROUP = 5
SWITCH = "SIP_Switch"


def agent_id(index: int) -> str:
    """Employee id of agent `index` (0-based): `ana.silva`, `ben.novak`, ...

    The first 2,000 ids are distinct first.last pairs; later ones repeat them with a numeric
    suffix. The surname shifts with the first name so a team of 20 does not share one surname.
    """
    residue, rest = index % len(FIRST_NAMES), index // len(FIRST_NAMES)
    first = FIRST_NAMES[residue]
    last = LAST_NAMES[(rest + 3 * residue) % len(LAST_NAMES)]
    cycle = rest // len(LAST_NAMES)
    return f"{first}.{last}" if cycle == 0 else f"{first}.{last}{cycle + 1}"


def agent_group_id(index: int) -> str:
    """Agent group `index` (0-based): `Team_01`, `Team_02`, ... (20 agents each)."""
    return f"Team_{index + 1:02d}"


def queue_id(index: int) -> str:
    """Queue DN `index` (0-based): `8001@SIP_Switch`, `8002@SIP_Switch`, ..."""
    return f"{8001 + index}@{SWITCH}"


def route_point_id(index: int) -> str:
    """Route point DN `index` (0-based): one per queue, `7001@SIP_Switch`, ..."""
    return f"{7001 + index}@{SWITCH}"


def queue_group_id(index: int) -> str:
    """Queue group `index` (0-based): `QueueGroup_01`, ... (5 queues each)."""
    return f"QueueGroup_{index + 1:02d}"


def group_count(agents: int) -> int:
    """How many agent groups a floor of `agents` has: one per 20 agents, at least one."""
    return max(1, -(-agents // AGENTS_PER_GROUP))


def queue_group_count(queues: int) -> int:
    """How many queue groups `queues` queues form: one per 5 queues, at least one."""
    return max(1, -(-queues // QUEUES_PER_QUEUE_GROUP))


# --- And back: which simulator has a given object ------------------------------------------

_SUFFIXED_LAST = re.compile(r"([a-z]+)([1-9][0-9]*)?")


def agent_index(agent: str) -> int | None:
    """The index whose `agent_id` is `agent`, or None for an id the scheme never makes."""
    first, dot, last = agent.partition(".")
    match = _SUFFIXED_LAST.fullmatch(last)
    if not dot or first not in FIRST_NAMES or match is None or match[1] not in LAST_NAMES:
        return None
    residue = FIRST_NAMES.index(first)
    cycle = int(match[2]) - 1 if match[2] else 0
    rest = cycle * len(LAST_NAMES) + (LAST_NAMES.index(match[1]) - 3 * residue) % len(LAST_NAMES)
    index = rest * len(FIRST_NAMES) + residue
    # The round trip rules out what the arithmetic alone would accept (`ana.silva1`).
    return index if agent_id(index) == agent else None


def smallest_floor(objects: Iterable[tuple[str, str]]) -> tuple[int, int] | None:
    """The fewest (agents, queues) of a simulator that has every (API objectType, id) given,
    its groups whole; None when some object is one the simulator never has."""
    agents = queues = 1
    for object_type, object_id in objects:
        need = _needs(object_type, object_id)
        if need is None:
            return None
        agents, queues = max(agents, need[0]), max(queues, need[1])
    return agents, queues


def _needs(object_type: str, object_id: str) -> tuple[int, int] | None:
    """The (agents, queues) a simulator needs to have this one object."""
    if object_type == "Agent":
        index = agent_index(object_id)
        return None if index is None else (index + 1, 1)
    if object_type == "GroupAgents":
        index = _index_of(object_id, agent_group_id, r"Team_(\d+)", 1)
        return None if index is None else ((index + 1) * AGENTS_PER_GROUP, 1)
    if object_type in ("Queue", "RoutePoint"):
        make, first = (queue_id, 8001) if object_type == "Queue" else (route_point_id, 7001)
        index = _index_of(object_id, make, rf"(\d+)@{SWITCH}", first)
        return None if index is None else (1, index + 1)
    if object_type == "GroupQueues":
        index = _index_of(object_id, queue_group_id, r"QueueGroup_(\d+)", 1)
        return None if index is None else (1, (index + 1) * QUEUES_PER_QUEUE_GROUP)
    return None


def _index_of(object_id: str, make: Callable[[int], str], pattern: str, first: int) -> int | None:
    """The index `make` turns into `object_id`: the number `pattern` finds, less `first`."""
    match = re.fullmatch(pattern, object_id)
    if match is None:
        return None
    index = int(match[1]) - first
    return index if index >= 0 and make(index) == object_id else None
