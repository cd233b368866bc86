"""Pins: predefined statistics of single objects held at a chosen value (tests and demos).

The catalogue (`catalog.py`) says what a statistic is; a pin overrides what is served for one
of them until released. The admin routes set and release pins (POST/DELETE /simulator/pin).
"""

from __future__ import annotations

import math
from typing import Any

from statdash.sim import model as m
from statdash.sim.catalog import (
    CatalogError,
    Compute,
    Value,
    agent_state,
    fraction,
    number,
    predefined_entry,
    sources,
)
from statdash.sim.model import Agent, ContactCenter

PinKey = tuple[str, str, str]  # (objectType, objectId, name)


class PinError(Exception):
    """A pin request that cannot be applied: `code` 404 (unknown) or 400 (bad value)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Pins:
    """Predefined statistics of single objects held at a chosen value (tests and demos).

    A pin changes what is served (peeks, statistic-values, push), not the floor: the agent
    keeps working and the other statistics keep their own figures.
    """

    def __init__(self, model: ContactCenter) -> None:
        self.model = model
        self.values: dict[PinKey, tuple[Any, Compute]] = {}

    def bind(self, key: PinKey, compute: Compute) -> Compute:
        """`compute`, served as the pinned value while `key` is pinned."""
        values = self.values

        def served() -> Value:
            # An empty dict is the common case: one truth test per value on the hot path.
            if values:
                pinned = values.get(key)
                if pinned is not None:
                    return pinned[1]()
            return compute()

        return served

    def pin(self, object_type: str, object_id: str, name: str, value: Any) -> PinKey:
        """Pin one statistic; PinError naming what is wrong (nothing changes then)."""
        try:
            entry, index = predefined_entry(self.model, name, object_type, object_id)
        except CatalogError as exc:
            raise PinError(exc.code, exc.message) from None
        model = self.model
        compute: Compute
        if entry.unit == "state":
            if not isinstance(value, str) or value not in m.STATUSES:
                raise PinError(
                    400, f"value of {name} must be a status word: {', '.join(m.STATUSES)}"
                )
            compute = _pinned_state(model, model.agents[index], value, int(model.now))
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PinError(400, f"value of {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise PinError(400, f"value of {name} must be a finite number >= 0, got {value}")
            if "fractional" in entry.unit:
                x = float(value)
                compute = lambda: fraction(model, x)  # noqa: E731
            elif value != int(value):
                raise PinError(400, f"value of {name} ({entry.unit}) must be whole, got {value}")
            else:
                n = int(value)
                compute = lambda: number(model, n)  # noqa: E731
        key = (object_type, object_id, name)
        self.values[key] = (value, compute)
        return key

    def unpin(self, key: PinKey) -> None:
        """Release one pin; PinError 404 when it is not pinned."""
        if self.values.pop(key, None) is None:
            object_type, object_id, name = key
            raise PinError(404, f"{name} of {object_type} '{object_id}' is not pinned")

    def clear(self) -> list[PinKey]:
        """Release every pin; the keys that were pinned."""
        keys = list(self.values)
        self.values.clear()
        return keys

    def to_json(self) -> list[dict[str, Any]]:
        """The pins, in the shape POST /simulator/pin accepts."""
        return [
            {"objectType": t, "objectId": o, "name": n, "value": value}
            for (t, o, n), (value, _) in self.values.items()
        ]


def _pinned_state(model: ContactCenter, agent: Agent, status: str, since: int) -> Compute:
    def compute() -> Value:
        value = agent_state(model, agent)
        state = value["stateValue"]
        state["status"] = status
        state["time"] = since
        state.pop("reason", None)
        for dn in state["place"]["dnStatuses"]:
            dn["status"] = status
            dn["time"] = since
        return value

    return compute


def pin_sources(model: ContactCenter, key: PinKey) -> tuple[int, ...]:
    """The `sources` keys of a pinned statistic's object (to push the change of a pin)."""
    object_type, object_id, _ = key
    return sources(model, object_type, object_id)
