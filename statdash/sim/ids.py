"""Object ids of the simulated contact center, stable by index whatever the seed.

A smaller contact center is a prefix of a larger one: agent number 7 has the same id whether
the simulator runs 20 agents or 2,000, so shipped layouts (and their agent list files) match.
"""

from __future__ import annotations

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
