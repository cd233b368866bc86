"""Object ids by index, and back: the smallest simulator that has a given set of objects."""

from __future__ import annotations

from statdash.sim import ids
from statdash.sim.model import ContactCenter


def test_every_agent_id_leads_back_to_its_index() -> None:
    """agent_index inverts agent_id, past the 2,000 distinct pairs into the numbered cycles."""
    for index in (*range(0, 4100, 7), 99_999):
        assert ids.agent_index(ids.agent_id(index)) == index
    assert ids.agent_index("ana.silva2") == 2000
    for stranger in ("x.one", "ana", "ana.silva1", "ana.silva02", "Ana.Silva", "ana.nobody"):
        assert ids.agent_index(stranger) is None


def test_smallest_floor_covers_every_object() -> None:
    """The sizes are the least that give every object; groups count their members."""
    objects = [
        ("Agent", ids.agent_id(1999)),
        ("Queue", ids.queue_id(3)),
        ("GroupQueues", "QueueGroup_10"),
        ("RoutePoint", ids.route_point_id(7)),
    ]
    assert ids.smallest_floor(objects) == (2000, 50)
    assert ids.smallest_floor([("GroupAgents", "Team_05")]) == (100, 1)
    assert ids.smallest_floor([("Queue", ids.queue_id(0))]) == (1, 1)


def test_smallest_floor_has_exactly_those_objects() -> None:
    """A simulator of the sizes given knows every object (checked against the model itself)."""
    objects = [
        ("Agent", ids.agent_id(130)),
        ("GroupQueues", "QueueGroup_03"),
        ("Queue", "8002@SIP_Switch"),
    ]
    size = ids.smallest_floor(objects)
    assert size == (131, 15)
    model = ContactCenter(agents=size[0], queues=size[1])
    assert ids.agent_id(130) in model.agent_index
    assert "QueueGroup_03" in model.queue_group_index
    assert len(model.agent_index) == 131 and len(model.queue_group_index) == 3


def test_objects_no_simulator_has_give_no_size() -> None:
    """An id outside the simulator's scheme (or an unknown type) means no simulator fits."""
    assert ids.smallest_floor([("Agent", "x.one")]) is None
    assert ids.smallest_floor([("Queue", "9001@Other_Switch")]) is None
    assert ids.smallest_floor([("Queue", "8000@SIP_Switch")]) is None
    assert ids.smallest_floor([("Place", "Place_1")]) is None
    assert ids.smallest_floor([("Agent", ids.agent_id(0)), ("Team", "Team_01")]) is None
