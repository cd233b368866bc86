"""Formulas in a layout: where their problems point, and what they compile into."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statdash.layout.compile import _Compiler, compile_layout
from statdash.layout.formulas import parse_formula
from statdash.layout.loader import LayoutError, load_layout_text
from statdash.layout.views import (
    AggregateStat,
    CompiledLayout,
    FormulaStat,
    KpiView,
    RowObject,
    TableView,
)
from statdash.layout.vocabulary import MAX_FORMULA_DEPTH

from .conftest import LAYOUT_SETTINGS

FORMULA_TOKENS = st.sampled_from(
    ["busy", "bussy", "logged_in", "sum(", "objects=sales", "objects=nope", ")", "(", ",",
     "*", "/", "**", ".", "100", "é", '"', "'", "\\", "\n", "if(", "x.y", "#"]
)  # fmt: skip

HEADER = """\
title: Formulas
statistics:
  busy: {name: CurrentBusyAgents, label: Busy}
  logged_in: {name: CurrentLoggedInAgents, label: Logged in}
  waiting: {name: CurrentNumberWaitingCalls}
  occupancy: {formula: "100 * busy / logged_in", label: Occupancy, format: percent,
              thresholds: {warn: 90, alarm: 95}}
objects:
  sales: {type: queue, ids: [8001@SIP_Switch, 8002@SIP_Switch, 8003@SIP_Switch]}
"""


def build(pages: str, header: str = HEADER) -> CompiledLayout:
    return compile_layout(load_layout_text(header + pages, file="f.yaml"))


def problems(text: str) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="f.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_inputs_are_subscribed_once_though_no_widget_shows_them() -> None:
    """A KPI of a formula subscribes its two inputs; a second use adds nothing."""
    layout = build(
        """\
pages:
  - widgets:
      - {kind: kpi, object: {agent_group: Team_01}, stat: $occupancy}
      - {kind: kpi, object: {agent_group: Team_01}, stat: $occupancy, title: Again}
"""
    )
    assert sorted((i.object_id, i.name) for i in layout.items) == [
        ("Team_01", "CurrentBusyAgents"),
        ("Team_01", "CurrentLoggedInAgents"),
    ]
    first, second = (w for w in layout.widgets() if isinstance(w, KpiView))
    assert first.stat_id == second.stat_id and first.stat_id.startswith("f_")
    assert (first.label, first.format, first.thresholds is not None) == (
        "Occupancy",
        "percent",
        True,
    )
    formula = layout.derived[first.stat_id]
    assert isinstance(formula, FormulaStat)
    assert formula.reads == {i.statistic_id for i in layout.items}


def test_a_formula_and_its_inputs_shown_together_share_the_subscription() -> None:
    """Columns of busy, logged_in and occupancy subscribe busy and logged_in once per row."""
    layout = build(
        """\
pages:
  - widgets:
      - kind: queues
        objects: [{agent_group: Team_01}, {agent_group: Team_02}]
        columns: [$busy, $logged_in, $occupancy]
"""
    )
    assert len(layout.items) == 4
    table = next(w for w in layout.widgets() if isinstance(w, TableView))
    for row in table.rows:
        formula = layout.derived[table.cells[(row.type, row.id, 2)]]
        assert isinstance(formula, FormulaStat)
        assert dict(formula.inputs) == {
            "busy": table.cells[(row.type, row.id, 0)],
            "logged_in": table.cells[(row.type, row.id, 1)],
        }


def test_aggregates_run_over_the_widgets_objects_or_a_named_list() -> None:
    """`sum(waiting)` sums the table's rows; `objects=sales` sums the list, subscribed too."""
    layout = build(
        """\
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch}, {queue: 8002@SIP_Switch}]
        columns:
          - {stat: {formula: "sum(waiting)"}, label: Here}
          - {stat: {formula: "sum(waiting, objects=sales)"}, label: Sales}
"""
    )
    table = next(w for w in layout.widgets() if isinstance(w, TableView))
    assert [c.label for c in table.columns] == ["Here", "Sales"]
    row = table.rows[0]
    here = layout.derived[table.cells[(row.type, row.id, 0)]]
    sales = layout.derived[table.cells[(row.type, row.id, 1)]]
    assert isinstance(here, FormulaStat) and isinstance(sales, FormulaStat)
    here_sum, sales_sum = layout.derived[here.aggregates[0]], layout.derived[sales.aggregates[0]]
    assert isinstance(here_sum, AggregateStat) and isinstance(sales_sum, AggregateStat)
    assert len(here_sum.members) == 2 and len(sales_sum.members) == 3
    # Every row shows the same total: one aggregate, computed once.
    other = layout.derived[table.cells[(table.rows[1].type, table.rows[1].id, 0)]]
    assert isinstance(other, FormulaStat) and other.aggregates == here.aggregates
    assert sorted(i.object_id for i in layout.items) == [
        "8001@SIP_Switch",
        "8002@SIP_Switch",
        "8003@SIP_Switch",
    ]


def test_derived_statistics_come_after_everything_they_read() -> None:
    """`derived` is in dependency order: each reads only server items or earlier entries."""
    header = HEADER.replace(
        "objects:", '  share: {formula: "100 * occupancy / sum(occupancy)"}\nobjects:'
    )
    layout = build(
        """\
pages:
  - widgets:
      - kind: queues
        objects: [{agent_group: Team_01}, {agent_group: Team_02}]
        columns: [$share]
""",
        header,
    )
    seen = {item.statistic_id for item in layout.items}
    for stat_id, stat in layout.derived.items():
        assert stat.reads <= seen, stat_id
        seen.add(stat_id)
    assert len(layout.derived) == 2 + 1 + 2  # occupancy x2, the sum, share x2


@pytest.mark.parametrize(
    ("written", "column"),
    [
        ('"100 * bussy / logged_in"', 31),
        ("'100 * bussy / logged_in'", 31),
        ("100 * bussy / logged_in", 30),
    ],
)
def test_a_problem_points_at_the_name_inside_the_formula(written: str, column: int) -> None:
    """The column of an unknown name is the name's own, quoted or not, with a did-you-mean."""
    text = HEADER.replace('"100 * busy / logged_in"', written.replace("bussy", "busy")).replace(
        "busy / logged_in", "bussy / logged_in"
    )
    found = problems(
        text + "pages:\n  - widgets:\n      - {kind: kpi, object: {queue: q}, stat: $occupancy}\n"
    )
    assert found == [
        f"f.yaml:6:{column}: statistics.occupancy.formula: unknown statistic 'bussy'; did you"
        " mean 'busy'? (declared: busy, logged_in, occupancy, waiting)"
    ]


def test_a_block_formula_points_at_its_value() -> None:
    """A formula written as a block (|) is located at the value, not a guessed column."""
    found = problems(
        """\
title: Block
statistics:
  busy: {name: CurrentBusyAgents}
  bad:
    formula: |
      busy ** 2
pages:
  - widgets:
      - {kind: kpi, object: {queue: q}, stat: $bad}
"""
    )
    assert found == [
        "f.yaml:5:14: statistics.bad.formula: ** is not allowed in a formula (allowed: + - * / %)"
    ]


def test_a_formula_needs_declared_statistics() -> None:
    """A layout without declarations says so for a formula's names."""
    found = problems(
        "title: T\npages:\n  - widgets:\n"
        '      - {kind: kpi, object: {queue: q}, stat: {formula: "waiting + 1"}}\n'
    )
    assert found == [
        "f.yaml:4:58: pages[0].widgets[0].stat.formula: unknown statistic 'waiting': a formula"
        " reads statistics declared under 'statistics:', and this layout declares none"
    ]


@pytest.mark.parametrize(
    "widget",
    [
        "{kind: agents, agents: [ana.silva], state: $occupancy}",
        "{kind: states, agents: [ana.silva], state: $occupancy}",
        '{kind: states, agents: [ana.silva], state: {formula: "busy + 1"}}',
    ],
)
def test_a_formula_is_no_agent_state(widget: str) -> None:
    """An agents table or a states bar refuses a formula as the agents' state."""
    found = problems(HEADER + f"pages:\n  - widgets:\n      - {widget}\n")
    assert len(found) == 1
    assert "an agent's state must be a server statistic" in found[0]
    assert found[0].startswith("f.yaml:12:52: pages[0].widgets[0].state: ")


def test_a_formula_can_be_compiled_per_object_outside_any_widget() -> None:
    """`formula_ids` (the hook for alert rules) gives one derived id per object and
    subscribes the inputs, with bare aggregates over those objects."""
    layout = load_layout_text(
        HEADER + "pages:\n  - widgets:\n      - {kind: kpi, object: {queue: q}, stat: $waiting}\n",
        file="f.yaml",
    )
    compiler = _Compiler(layout)
    rows = (
        RowObject("8001@SIP_Switch", "Queue", "Sales"),
        RowObject("8002@SIP_Switch", "Queue", "B"),
    )
    ids = compiler.formula_ids(parse_formula("waiting > 5 or sum(waiting) > 8"), rows)
    assert len(set(ids)) == 2
    assert {item.object_id for item in compiler.items.values()} == {r.id for r in rows}
    first = compiler.derived[ids[0]]
    assert isinstance(first, FormulaStat) and first.object == rows[0]
    total = compiler.derived[first.aggregates[0]]
    assert isinstance(total, AggregateStat) and len(total.members) == 2


@LAYOUT_SETTINGS
@given(st.one_of(st.text(max_size=40), st.lists(FORMULA_TOKENS, max_size=10).map(" ".join)))
def test_any_formula_in_a_layout_loads_or_gives_located_problems(formula: str) -> None:
    """Whatever a formula's text, the layout loads or every problem is on a real line and column."""
    text = HEADER.replace('"100 * busy / logged_in"', json.dumps(formula)) + (
        "pages:\n  - widgets:\n      - {kind: kpi, object: {queue: q}, stat: $occupancy}\n"
    )
    lines = text.splitlines()
    try:
        compile_layout(load_layout_text(text, file="f.yaml"))
    except LayoutError as error:
        for problem in error.problems:
            assert problem.line is not None and 1 <= problem.line <= len(lines)
            assert problem.column is not None
            assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1


def chain(length: int) -> str:
    """A layout declaring s1..s{length}, each formula adding one to the one before (s0 is a
    server statistic), with a KPI of the last."""
    lines = ["title: Chain", "statistics:", "  s0: {name: CurrentBusyAgents}"]
    lines += [f'  s{i}: {{formula: "s{i - 1} + 1"}}' for i in range(1, length + 1)]
    lines += [
        "pages:",
        "  - widgets:",
        f"      - {{kind: kpi, object: {{agent_group: T}}, stat: ${f's{length}'}}}",
    ]
    return "\n".join(lines) + "\n"


def test_a_chain_of_250_formulas_is_a_located_problem_not_a_recursion_error() -> None:
    """250 formulas each reading the one before are refused where the chain crosses the
    limit, pointing at the name read; compiling would have run out of stack."""
    assert problems(chain(250)) == [
        f"f.yaml:54:19: statistics.s{MAX_FORMULA_DEPTH + 1}.formula: formulas build on one"
        f" another {MAX_FORMULA_DEPTH + 1} deep here (s51 -> s50 -> s49 -> ... -> s1); at most"
        f" {MAX_FORMULA_DEPTH} may be chained"
    ]


def test_a_chain_at_the_limit_compiles_and_computes_through() -> None:
    """MAX_FORMULA_DEPTH formulas in a chain are fine: one KPI, one server input."""
    compiled = compile_layout(load_layout_text(chain(MAX_FORMULA_DEPTH), file="f.yaml"))
    assert [item.name for item in compiled.items] == ["CurrentBusyAgents"]
    assert len(compiled.derived) == MAX_FORMULA_DEPTH


def test_thousands_of_chained_formulas_are_walked_without_recursion() -> None:
    """A 3,000-formula chain (past the old recursive cycle search's reach), and the same
    closed into a cycle, are each one problem, the cycle shown short; nothing recurses per
    formula."""
    text = chain(3000).replace('s1: {formula: "s0 + 1"}', 's1: {formula: "s3000 + 1"}')
    assert problems(text) == [
        "f.yaml:4:18: statistics.s1.formula: formulas form a cycle: s1 -> s3000 -> s2999 ->"
        " ... -> s1; a formula cannot depend on itself"
    ]
    found = problems(chain(3000))
    assert len(found) == 1 and "formulas build on one another 51 deep" in found[0]
