"""Formulas on store changes: recompute the derived statistics whose inputs changed, into the store.

The compiled layout lists every derived statistic (`FormulaStat`, `AggregateStat`) after
everything it reads, so one pass in that order brings each up to date: a statistic is
recomputed only when something it reads changed in this ingest (or in this pass, for a
formula over formulas). Results go into the store under their own ids, so widgets,
thresholds, trends and snapshots read them exactly like server statistics; a formula
without a value is stored as `NOT_AVAILABLE` (shown "n/a", `null` in a snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from statdash.api.values import AgentStateValue, NumberValue, StatValue
from statdash.layout.formats import NOT_AVAILABLE, number_of
from statdash.layout.formulas import Lookup, Result, Value
from statdash.layout.views import DerivedStat, FormulaStat
from statdash.live.store import Ingested, Store

TRUE = NumberValue(1.0, "true")
FALSE = NumberValue(0.0, "false")


def value_of(value: StatValue | None) -> Value:
    """What a formula reads from a stored value: its number, an agent's status, or None."""
    if isinstance(value, AgentStateValue):
        return value.status
    return number_of(value)


def stored(result: Result) -> NumberValue:
    """A formula's result as a stored value (true/false as 1/0, n/a as `NOT_AVAILABLE`)."""
    if result is None:
        return NOT_AVAILABLE
    if isinstance(result, bool):
        return TRUE if result else FALSE
    return NumberValue(result, format(result, ".15g"))


def compute(stat: DerivedStat, read: Callable[[str], Value]) -> Result:
    """The value of one derived statistic, reading its inputs by id through `read`."""
    if isinstance(stat, FormulaStat):
        inputs, aggregates = stat.inputs, stat.aggregates
        return stat.formula.evaluate(
            lambda name: read(inputs[name]), lambda node: read(aggregates[node.index])
        )
    return stat.aggregate.over(_member_lookup(member, read) for member in stat.members)


def _member_lookup(member: Mapping[str, str], read: Callable[[str], Value]) -> Lookup:
    return lambda name: read(member[name])


class DerivedValues:
    """Keeps the store's derived statistics up to date with their inputs."""

    def __init__(self, derived: Mapping[str, DerivedStat], store: Store) -> None:
        self._store = store
        # (statistic, the ids it reads), in dependency order; `reads` is built once here.
        self._order = tuple((stat, stat.reads) for stat in derived.values())
        self._computed_once = False
        store.derive_from({stat.statistic_id: reads for stat, reads in self._order})

    def update(self, ingested: Ingested, *, wall: float) -> Ingested:
        """After an ingest: recompute what its changes affect; `ingested` plus what changed."""
        if not self._order:
            return ingested
        store = self._store
        changed = set(ingested.changed)
        computed: dict[str, StatValue] = {}

        def read(stat_id: str) -> Value:
            value = computed.get(stat_id)
            return value_of(value if value is not None else store.get(stat_id))

        for stat, reads in self._order:
            # The first pass computes everything: a formula of constants, or inputs that
            # arrived before this plan, still need a first value.
            if self._computed_once and reads.isdisjoint(changed):
                continue
            value = stored(compute(stat, read))
            if store.get(stat.statistic_id) != value:
                computed[stat.statistic_id] = value
                changed.add(stat.statistic_id)
        self._computed_once = True
        derived_changed = store.put_derived(computed, wall=wall)
        if not derived_changed:
            return ingested
        return Ingested(ingested.changed | derived_changed, store.revision)


def recompute(derived: Mapping[str, DerivedStat], store: Store, *, wall: float) -> None:
    """Compute every derived statistic once from what the store holds (a one-off read)."""
    DerivedValues(derived, store).update(Ingested(frozenset(), store.revision), wall=wall)
