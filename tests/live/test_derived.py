"""Derived statistics on store changes: recomputed when their inputs change, n/a, staleness."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from statdash.api.models import SubscriptionItem
from statdash.api.values import NumberValue
from statdash.layout.compile import compile_layout
from statdash.layout.formats import NOT_AVAILABLE, format_value, number_of
from statdash.layout.formulas import parse_formula
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout, DerivedStat, FormulaStat, RowObject, TableView
from statdash.live import derived as derived_module
from statdash.live.controller import LiveController, Plan, plan_for
from statdash.live.derived import DerivedValues, recompute
from statdash.live.store import Batch, Ingested, Store
from tests.live.fakes import FakeClient, VirtualClock

LAYOUT = """\
title: Formulas
statistics:
  busy: {name: CurrentBusyAgents}
  logged_in: {name: CurrentLoggedInAgents}
  state: {name: CurrentAgentState}
  occupancy: {formula: "100 * busy / logged_in", format: percent}
  share: {formula: "100 * busy / sum(busy)"}
  ready: {formula: 'state == "WaitForNextCall"'}
pages:
  - widgets:
      - kind: queues
        objects: [{agent_group: Team_01}, {agent_group: Team_02}]
        columns: [$busy, $logged_in, $occupancy, $share]
      - {kind: kpi, object: {agent_group: Team_01}, stat: $occupancy, trend: 1m}
      - {kind: agents, agents: [ana.silva], state: null, columns: [$ready]}
"""


def compiled() -> CompiledLayout:
    return compile_layout(load_layout_text(LAYOUT, file="formulas.yaml"))


def server_id(layout: CompiledLayout, object_id: str, name: str) -> str:
    return next(i.statistic_id for i in layout.items if (i.object_id, i.name) == (object_id, name))


def cell(layout: CompiledLayout, object_id: str, column: int) -> str:
    table = next(w for w in layout.widgets() if isinstance(w, TableView) and w.kind == "queues")
    return table.cells[("GroupAgents", object_id, column)]


def feed(store: Store, values: Mapping[str, object], now: float = 0.0) -> Ingested:
    return store.ingest(
        Batch.of((sid, value, None) for sid, value in values.items()), now=now, wall=1000.0 + now
    )


def number(value: float) -> dict[str, object]:
    return {"intValue": value, "stringValue": str(value)}


def team_values(
    layout: CompiledLayout, busy1: int, in1: int, busy2: int, in2: int
) -> dict[str, object]:
    return {
        server_id(layout, "Team_01", "CurrentBusyAgents"): number(busy1),
        server_id(layout, "Team_01", "CurrentLoggedInAgents"): number(in1),
        server_id(layout, "Team_02", "CurrentBusyAgents"): number(busy2),
        server_id(layout, "Team_02", "CurrentLoggedInAgents"): number(in2),
        server_id(layout, "ana.silva", "CurrentAgentState"): {
            "stateValue": {"status": "WaitForNextCall", "time": 1}
        },
    }


def test_formulas_are_computed_into_the_store_under_their_own_ids() -> None:
    """After an ingest the store holds each formula's value for each object of its widget."""
    layout = compiled()
    store = Store()
    values = DerivedValues(layout.derived, store)
    result = values.update(feed(store, team_values(layout, 3, 4, 1, 2)), wall=1000.0)
    occupancy_1, occupancy_2 = cell(layout, "Team_01", 2), cell(layout, "Team_02", 2)
    share_1 = cell(layout, "Team_01", 3)
    assert number_of(store.get(occupancy_1)) == 75.0
    assert number_of(store.get(occupancy_2)) == 50.0
    assert number_of(store.get(share_1)) == 75.0  # 3 of the 4 busy agents of both teams
    assert {occupancy_1, occupancy_2, share_1} <= result.changed
    assert result.revision == store.revision


def test_only_formulas_whose_inputs_changed_are_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change of Team_02's figures recomputes Team_02's occupancy and the aggregate chain,
    never Team_01's occupancy."""
    layout = compiled()
    store = Store()
    values = DerivedValues(layout.derived, store)
    values.update(feed(store, team_values(layout, 3, 4, 1, 2)), wall=1000.0)
    seen: list[str] = []
    original = derived_module.compute

    def counting(stat: DerivedStat, read: object) -> object:
        seen.append(stat.statistic_id)
        return original(stat, read)  # type: ignore[arg-type]

    monkeypatch.setattr(derived_module, "compute", counting)
    values.update(feed(store, team_values(layout, 3, 4, 2, 2), now=2.0), wall=1002.0)
    assert cell(layout, "Team_02", 2) in seen
    assert cell(layout, "Team_01", 2) not in seen
    assert cell(layout, "Team_01", 3) in seen  # its share reads the sum over both teams
    seen.clear()
    values.update(feed(store, team_values(layout, 3, 4, 2, 2), now=4.0), wall=1004.0)
    assert seen == []


def test_division_by_zero_is_na_shown_as_na() -> None:
    """A team with nobody logged in has occupancy n/a: no number, 'n/a' in any format."""
    layout = compiled()
    store = Store()
    DerivedValues(layout.derived, store).update(
        feed(store, team_values(layout, 0, 0, 1, 2)), wall=1000.0
    )
    value = store.get(cell(layout, "Team_01", 2))
    assert value is NOT_AVAILABLE
    assert number_of(value) is None
    assert {format_value(value, fmt) for fmt in ("integer", "percent", "duration", "text")} == {
        "n/a"
    }


def test_missing_input_is_na_and_a_state_can_be_compared() -> None:
    """Before an input arrives the formula is n/a; an agent state compares with a status."""
    layout = compiled()
    store = Store()
    partial = {server_id(layout, "Team_01", "CurrentBusyAgents"): number(2)}
    recompute(layout.derived, store, wall=0.0)
    DerivedValues(layout.derived, store).update(feed(store, partial), wall=1000.0)
    assert store.get(cell(layout, "Team_01", 2)) is NOT_AVAILABLE
    feed(store, team_values(layout, 3, 4, 1, 2))
    recompute(layout.derived, store, wall=1000.0)
    agents = next(w for w in layout.widgets() if isinstance(w, TableView) and w.kind == "agents")
    ready = agents.cells[("Agent", "ana.silva", 0)]
    assert store.get(ready) == NumberValue(1.0, "true")


def test_a_formula_is_stale_when_an_input_is() -> None:
    """A formula's staleness follows its inputs: stale as soon as one of them is."""
    layout = compiled()
    store = Store()
    values = DerivedValues(layout.derived, store)
    values.update(feed(store, team_values(layout, 3, 4, 1, 2)), wall=1000.0)
    occupancy = cell(layout, "Team_01", 2)
    assert not store.is_stale(occupancy, now=1.0, interval=2.0)
    # Only Team_02 arrives from now on: Team_01's inputs age, and so does its occupancy.
    team_2 = {
        sid: value
        for sid, value in team_values(layout, 3, 4, 1, 2).items()
        if sid
        in (
            server_id(layout, "Team_02", "CurrentBusyAgents"),
            server_id(layout, "Team_02", "CurrentLoggedInAgents"),
        )
    }
    values.update(feed(store, team_2, now=10.0), wall=1010.0)
    assert store.is_stale(occupancy, now=10.0, interval=2.0)
    assert not store.is_stale(cell(layout, "Team_02", 2), now=10.0, interval=2.0)


def test_a_formula_on_a_trend_keeps_history() -> None:
    """A KPI trend of a formula samples its value each time its inputs arrive (n/a skipped)."""
    layout = compiled()
    plan = plan_for(layout)
    store = Store(plan.history_capacity)
    values = DerivedValues(layout.derived, store)
    occupancy = cell(layout, "Team_01", 2)
    assert occupancy in plan.history_capacity
    for step, busy in enumerate([1, 2, 0]):
        values.update(
            feed(store, team_values(layout, busy, 4, 1, 2), now=2.0 * step),
            wall=1000.0 + 2.0 * step,
        )
    values.update(feed(store, team_values(layout, 1, 0, 1, 2), now=6.0), wall=1006.0)
    ring = store.history(occupancy)
    assert ring is not None and ring.values() == [25.0, 50.0, 0.0]


def test_a_formula_over_an_aggregate_is_stale_when_any_aggregated_input_is() -> None:
    """Team_02's share of `sum(busy)` goes stale when Team_01's busy does: staleness is
    followed through the aggregate it reads, not only its own inputs."""
    layout = compiled()
    store = Store()
    values = DerivedValues(layout.derived, store)
    values.update(feed(store, team_values(layout, 3, 4, 1, 2)), wall=1000.0)
    share_2 = cell(layout, "Team_02", 3)
    assert not store.is_stale(share_2, now=1.0, interval=2.0)
    busy_2 = server_id(layout, "Team_02", "CurrentBusyAgents")
    values.update(feed(store, {busy_2: number(1)}, now=10.0), wall=1010.0)
    assert store.is_stale(share_2, now=10.0, interval=2.0)
    assert not store.is_stale(busy_2, now=10.0, interval=2.0)


def test_a_derived_history_is_sampled_when_a_statistic_two_formulas_down_arrives() -> None:
    """A formula that reads only an aggregate takes a sample when one of the aggregate's
    server statistics arrives, and none when only an unrelated one does."""
    store = Store({"f_share": 10})
    store.derive_from({"f_sum": frozenset({"a", "b"}), "f_share": frozenset({"f_sum"})})
    kept = NumberValue(50.0, "50")
    feed(store, {"b": number(1)}, now=0.0)
    store.put_derived({"f_share": kept}, wall=1000.0)
    feed(store, {"elsewhere": number(1)}, now=1.0)
    store.put_derived({"f_share": kept}, wall=1001.0)
    ring = store.history("f_share")
    assert ring is not None and ring.values() == [50.0]


async def test_the_controller_computes_formulas_after_each_ingest() -> None:
    """Through the controller, each ingest reports the formulas it changed, already stored."""
    # The fake server answers one statistic, "a"; one formula doubles it.
    doubled = FormulaStat(
        "f_double",
        RowObject("x", "Agent", "x"),
        parse_formula("a * 2"),
        {"a": "a"},
        (),
    )
    item = SubscriptionItem(statistic_id="a", object_id="x", object_type="Agent", name="X")
    plan = Plan([item], 1.0, derived={"f_double": doubled})
    changes: list[Ingested] = []
    controller = LiveController(
        FakeClient(VirtualClock()), plan, on_change=changes.append, on_status=lambda s: None
    )
    controller.start()
    for _ in range(2000):
        await asyncio.sleep(0)
        if changes:
            break
    value = controller.store.get("f_double")
    source = controller.store.get("a")
    await controller.close()
    assert isinstance(value, NumberValue) and isinstance(source, NumberValue)
    assert value.number == 2 * source.number
    assert changes[0].changed == {"a", "f_double"}
