"""The hub's wire: keys name definitions, subjects never carry a server's or file's text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statdash.api.models import StatisticDefinition, SubscriptionItem
from statdash.hub import protocol

TOKEN = r"[A-Za-z0-9_-]+"


def _item(statistic_id: str, object_id: str = "A1", **changes: object) -> SubscriptionItem:
    fields: dict[str, object] = {
        "statistic_id": statistic_id,
        "object_id": object_id,
        "object_type": "Agent",
        "name": "CurrentAgentState",
    }
    fields.update(changes)
    return SubscriptionItem.model_validate(fields)


def test_the_same_definition_has_one_key_whatever_the_clients_call_it() -> None:
    """Two layouts naming one statistic differently share its key; another object does not."""
    one = protocol.definition_key(protocol.wire_item(_item("state_a1")))
    two = protocol.definition_key(protocol.wire_item(_item("agent-state-of-A1")))
    other = protocol.definition_key(protocol.wire_item(_item("state_a1", "A2")))
    assert one == two
    assert one != other


def test_notification_settings_are_part_of_the_definition() -> None:
    """A statistic asked with other notification settings is another statistic upstream."""
    definition = StatisticDefinition(category="CurrentState", subject="DNActionsMask")
    changed = definition.model_copy(update={"notification_mode": "Periodical"})
    plain = _item("x", name=None, definition=definition)
    periodical = _item("x", name=None, definition=changed)
    assert protocol.definition_key(protocol.wire_item(plain)) != protocol.definition_key(
        protocol.wire_item(periodical)
    )


@given(st.text(min_size=1, max_size=40))
def test_any_object_id_makes_a_plain_subject_token(object_id: str) -> None:
    """Dots, spaces, `*`, `>` or any character in an id never reach the subject."""
    subject = protocol.Subjects("floor-1").values(protocol.object_key("Agent", object_id))
    root, namespace, kind, token = subject.split(".")
    assert (root, namespace, kind) == ("statdash", "floor-1", "values")
    assert token.isalnum()


def test_ids_that_look_like_wildcards_get_keys_of_their_own() -> None:
    """`a.*` and `a.>` are two objects, neither a wildcard, and differ from `a`."""
    keys = {protocol.object_key("Agent", text) for text in ("a", "a.*", "a.>", "a b")}
    assert len(keys) == 4


@pytest.mark.parametrize("namespace", ["", "a.b", "a*", ">", "x y", "a" * 65])
def test_a_namespace_that_is_not_one_plain_token_is_refused(namespace: str) -> None:
    """A namespace becomes a subject token, so it may hold no dot, wildcard or space."""
    with pytest.raises(ValueError, match="letters, digits"):
        protocol.Subjects(namespace)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc1", b"not msgpack at all", protocol.encode(protocol.Renew(leases=["x"]))],
)
def test_a_message_that_is_not_the_kind_expected_is_one_protocol_error(data: bytes) -> None:
    """Garbage, or a message of another kind, is a HubProtocolError, nothing else."""
    with pytest.raises(protocol.HubProtocolError):
        protocol.decode(data, protocol.Status)


def test_a_message_of_another_protocol_version_is_refused() -> None:
    """A hub of another version is named as such, not misread."""
    data = protocol.encode(protocol.Renew(leases=["x"], version=99))
    with pytest.raises(protocol.HubProtocolError, match="protocol 99"):
        protocol.decode(data, protocol.Renew)
