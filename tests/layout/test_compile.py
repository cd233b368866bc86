"""Compiling: stable, deduplicated statisticIds, resolved widgets, and where each id came from."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from statdash.layout.compile import compile_layout, statistic_id
from statdash.layout.formats import Level, StateStyle
from statdash.layout.loader import load_layout_text
from statdash.layout.views import (
    AggregateStat,
    CompiledLayout,
    FormulaStat,
    KpiView,
    StatesView,
    TableView,
    TrendView,
)

TEAM = """\
title: Team
statistics:
  aht: {name: AverageHandlingTime, label: AHT, format: duration, thresholds: {warn: 5m, alarm: 8m}}
  sl20:
    category: ServiceFactor1
    subject: DNAction
    mainMask: CallAnswered
    timeRangeRight: 20
    label: SL 20s
    format: percent
column_sets:
  queue_cols: [$sl20, {stat: Current_In_Queue, label: In queue, priority: 9}]
objects:
  team: {type: agent, ids: [ana.silva, {id: ben.novak, label: Ben}]}
states:
  NotReadyForNextCall: {color: red}
  Training: {word: Training, color: blue, glyph: T}
pages:
  - title: Team
    columns: 2
    widgets:
      - kind: agents
        agents: team
        columns: [{stat: $aht, label: Handle, priority: 2}, TalkDuration]
      - kind: states
        agents: team
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}, {queue_group: QueueGroup_01}]
        column_set: queue_cols
        columns: [{stat: ServiceLevel, format: percent, decimals: 1}]
  - widgets:
      - {kind: kpi, object: {queue: 8001@SIP_Switch}, stat: $sl20, trend: true}
      - kind: trend
        object: {queue: 8001@SIP_Switch, label: Sales}
        series: [{stat: Current_In_Queue}, {stat: $sl20, label: SL}]
        window: 30m
"""


def compiled(text: str = TEAM) -> CompiledLayout:
    """Load and compile layout text."""
    return compile_layout(load_layout_text(text, file="team.yaml"))


def test_ids_are_short_stable_hashes() -> None:
    """Every id is `s_` + 12 hex digits, and a known pair always gets the same id."""
    result = compiled()
    assert all(re.fullmatch(r"s_[0-9a-f]{12}", i.statistic_id) for i in result.items)
    # Pinned: changing the hash breaks every saved reference to an id, so it must be deliberate.
    assert statistic_id("Agent", "ana.silva", {"name": "CurrentAgentState"}) == "s_943f159b52ce"


def test_same_layout_same_ids() -> None:
    """Compiling the same text twice yields identical items in the identical order."""
    assert [i.to_wire() for i in compiled().items] == [i.to_wire() for i in compiled().items]


def test_ids_do_not_depend_on_where_a_pair_is_used() -> None:
    """Moving a widget to another page changes no id: ids hash the pair, not its position."""
    kpi = "      - {kind: kpi, object: {queue: 8001@SIP_Switch}, stat: $sl20, trend: true}\n"
    moved = TEAM.replace(kpi, "").replace("      - kind: states\n", kpi + "      - kind: states\n")
    assert moved != TEAM
    assert {i.statistic_id for i in compiled(moved).items} == {
        i.statistic_id for i in compiled().items
    }


def test_duplicate_pairs_are_subscribed_once() -> None:
    """The agent state of the table and of the states widget is one item, one id."""
    result = compiled()
    table, states = result.pages[0].widgets[0], result.pages[0].widgets[1]
    assert isinstance(table, TableView) and isinstance(states, StatesView)
    state_column = table.columns[0]
    assert [table.stat_id(row, state_column) for row in table.rows] == [
        stat_id for _, stat_id in states.agents
    ]
    ids = [i.statistic_id for i in result.items]
    assert len(ids) == len(set(ids))
    # 2 agents x (state, AHT, talk) + 2 queue rows x 3 columns + SL of the kpi/trend shared.
    assert len(ids) == 2 * 3 + 2 * 3


def test_different_definitions_get_different_ids() -> None:
    """Two ad-hoc definitions differing in one field are two items."""
    first = statistic_id("Queue", "q", {"definition": {"category": "X", "subject": "Y"}})
    second = statistic_id("Queue", "q", {"definition": {"category": "X", "subject": "Z"}})
    assert first != second


def test_items_are_a_valid_subscription_request() -> None:
    """The items make a SubscriptionRequest the API models accept, names or definitions."""
    request = compiled().subscription_request("op-1")
    body = request.to_wire()
    assert body["operationId"] == "op-1"
    definitions = [s for s in body["data"]["statistics"] if "definition" in s]
    assert definitions[0]["definition"] == {
        "category": "ServiceFactor1",
        "subject": "DNAction",
        "mainMask": "CallAnswered",
        "timeRangeRight": 20,
    }


def test_agents_table_resolves_state_column_declarations_and_overrides() -> None:
    """State first (kept always), then columns with labels and formats from declarations."""
    table = compiled().pages[0].widgets[0]
    assert isinstance(table, TableView)
    assert [(r.id, r.type, r.label) for r in table.rows] == [
        ("ana.silva", "Agent", "ana.silva"),
        ("ben.novak", "Agent", "Ben"),
    ]
    state, handle, talk = table.columns
    assert (state.label, state.format, state.priority) == ("State", "state", 0)
    assert (handle.label, handle.format, handle.priority, handle.statistic) == (
        "Handle",
        "duration",
        2,
        "AverageHandlingTime",
    )
    assert handle.thresholds is not None and handle.thresholds.level(400) is Level.WARN
    assert (talk.label, talk.format, talk.thresholds) == ("TalkDuration", "integer", None)


def test_column_set_comes_before_the_widget_columns() -> None:
    """A queues table shows its column set's columns, then its own, and every row's cells."""
    table = compiled().pages[0].widgets[2]
    assert isinstance(table, TableView)
    assert [c.label for c in table.columns] == ["SL 20s", "In queue", "ServiceLevel"]
    assert [(c.format, c.decimals) for c in table.columns] == [
        ("percent", 0),
        ("integer", 0),
        ("percent", 1),
    ]
    assert [r.type for r in table.rows] == ["Queue", "GroupQueues"]
    assert len({table.stat_id(r, c) for r in table.rows for c in table.columns}) == 6


def test_kpi_and_trend_share_ids_and_resolve_labels() -> None:
    """The kpi and the trend's SL series are the same id; labels default sensibly."""
    kpi, trend = compiled().pages[1].widgets
    assert isinstance(kpi, KpiView) and isinstance(trend, TrendView)
    assert kpi.trend and kpi.trend_window == 600.0
    assert (kpi.label, kpi.format) == ("SL 20s", "percent")
    assert trend.series[1].stat_id == kpi.stat_id
    assert [s.label for s in trend.series] == ["Sales Current_In_Queue", "SL"]
    assert (trend.window, trend.style) == (1800.0, "sparkline")


def test_origins_say_where_each_id_was_asked_for() -> None:
    """Every id maps to its object, statistic and the file line of its first use."""
    result = compiled()
    assert set(result.origins) == {i.statistic_id for i in result.items}
    table = result.pages[0].widgets[0]
    assert isinstance(table, TableView)
    origin = result.origins[table.stat_id(table.rows[1], table.columns[1])]
    assert (origin.object.id, origin.statistic, str(origin.location), origin.path) == (
        "ben.novak",
        "AverageHandlingTime",
        "team.yaml:24:19",
        "pages[0].widgets[0].columns[0]",
    )
    state = result.origins[table.stat_id(table.rows[0], table.columns[0])]
    assert [str(loc) for loc in state.locations] == ["team.yaml:22:9", "team.yaml:25:9"]


def test_state_styles_lay_the_layout_over_the_defaults() -> None:
    """A colour override keeps the default word and glyph; a new status gets its own style."""
    result = compiled()
    assert result.state_style("NotReadyForNextCall") == StateStyle("Not ready", "■", "red")
    assert result.state_style("Training") == StateStyle("Training", "T", "blue")
    assert result.state_style("WaitForNextCall").word == "Ready"
    assert result.state_style("Mystery").glyph == "?"


def test_compiled_layout_is_immutable() -> None:
    """View models cannot be changed by the code that reads them."""
    result = compiled()
    with pytest.raises(AttributeError):
        result.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.origins["x"] = result.origins[result.items[0].statistic_id]  # type: ignore[index]


SHARE = """\
title: Share of the floor
statistics:
  talk: {name: TalkDuration}
  share: {formula: "100 * talk / sum(talk)", format: percent}
pages:
  - widgets:
      - {kind: agents, agents: [AGENTS], columns: [$talk, $share]}
"""


def entries(value: object) -> int:
    """Ids held by a compiled derived statistic, counted through every tuple, set and
    mapping in its fields (strings and the formula itself count as one)."""
    if isinstance(value, FormulaStat | AggregateStat):
        return sum(entries(getattr(value, name)) for name in value.__dataclass_fields__)
    if isinstance(value, Mapping):
        return sum(1 + entries(item) for item in value.values())
    if isinstance(value, tuple | frozenset | set | list):
        return sum(entries(item) for item in value)
    return 1


@pytest.mark.parametrize("agents", [300, 600])
def test_an_aggregate_over_n_objects_holds_linear_entries(agents: int) -> None:
    """The docs' `100 * talk / sum(talk)` over N agents compiles into N formulas reading
    their own talk and the one aggregate, and one aggregate of N members: 8 entries an agent
    in all, not N more for each agent (that was N x N: 1.3 GB at 5,000 agents)."""
    ids = ", ".join(f"a{n}" for n in range(agents))
    layout = compile_layout(load_layout_text(SHARE.replace("AGENTS", ids), file="f.yaml"))
    formulas = [s for s in layout.derived.values() if isinstance(s, FormulaStat)]
    aggregates = [s for s in layout.derived.values() if isinstance(s, AggregateStat)]
    assert (len(formulas), len(aggregates)) == (agents, 1)
    assert len(aggregates[0].members) == agents
    # Per formula: its id, object, formula, one input (name and id) and one aggregate id;
    # the aggregate: its id, its node, and per member a name and an id.
    held = sum(entries(stat) for stat in layout.derived.values())
    assert held == 6 * agents + (2 + 2 * agents)
