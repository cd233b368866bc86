"""The formula parser and evaluator: safe trees, located errors, and n/a instead of crashes."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statdash.layout import formulas
from statdash.layout.formulas import (
    Aggregate,
    Expr,
    Formula,
    FormulaError,
    Value,
    parse_formula,
    unknown_names,
)

from .conftest import LAYOUT_SETTINGS

ALLOWED_NODES = {
    formulas.Number,
    formulas.Quoted,
    formulas.Name,
    formulas.Arithmetic,
    formulas.Negate,
    formulas.Comparison,
    formulas.Logic,
    formulas.Not,
    formulas.If,
    formulas.Round,
    formulas.Abs,
    formulas.Extreme,
    formulas.Aggregate,
}


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of a tree, aggregate arguments included."""
    yield node
    if isinstance(node, Aggregate):
        yield from walk(node.argument.tree)
    for child in node.children():
        yield from walk(child)


def values(**named: Value) -> formulas.Lookup:
    """A lookup over fixed values; unknown names are missing."""
    return lambda name: named.get(name)


# Pieces people (and attackers) type; joined at random they exercise every branch.
TOKENS = st.sampled_from(
    [
        "busy",
        "logged_in",
        "x",
        "1",
        "0",
        "2.5",
        "1e308",
        "100",
        " ",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "//",
        "<",
        "<=",
        ">",
        ">=",
        "==",
        "!=",
        "and",
        "or",
        "not",
        "if",
        "if(",
        "round(",
        "abs(",
        "min(",
        "max(",
        "sum(",
        "avg(",
        "count(",
        "objects=",
        "q",
        ".",
        "[",
        "]",
        "{",
        "}",
        "lambda",
        ":",
        "for",
        "in",
        "__import__",
        "__class__",
        "'os'",
        '"x"',
        "import",
        "os",
        "system",
        "eval(",
        "exec(",
        "open(",
        "=",
        ":=",
        "*",
        "**",
        "@",
        "~",
        "^",
        "|",
        "&",
        "yield",
        "await",
        "f'{x}'",
        "\\",
        "#",
        ";",
        "\n",
        "\t",
        "é",
        "_i(",
    ]
)
hostile_text = st.lists(TOKENS, max_size=14).map("".join)


@LAYOUT_SETTINGS
@given(st.one_of(st.text(max_size=60), hostile_text))
def test_any_text_is_a_located_error_or_a_tree_of_allowed_nodes(text: str) -> None:
    """Every input string parses to a tree of whitelisted nodes or a FormulaError inside it."""
    try:
        formula = parse_formula(text)
    except FormulaError as error:
        assert 0 <= error.offset <= len(text)
        assert error.message
        return
    assert {type(node) for node in walk(formula.tree)} <= ALLOWED_NODES
    assert formula.names <= {n for n in formula.names if n.isascii() and n[0].isalpha()}


@LAYOUT_SETTINGS
@given(
    hostile_text,
    st.dictionaries(
        st.sampled_from(["busy", "logged_in", "x", "q", "os"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.floats(),
            st.integers(-(10**30), 10**30),
            st.sampled_from(["WaitForNextCall", "LoggedOut"]),
        ),
    ),
)
def test_evaluating_never_raises_and_gives_only_numbers_truth_or_na(
    text: str, named: dict[str, Value]
) -> None:
    """Any formula with any inputs evaluates to a finite number, true/false or None."""
    try:
        formula = parse_formula(text)
    except FormulaError:
        return
    lookup = values(**named)
    result = formula.evaluate(lookup, lambda node: node.over([lookup, lookup]))
    assert result is None or isinstance(result, bool) or math.isfinite(result)


@pytest.mark.parametrize(
    "text",
    [
        '__import__("os").system("true")',
        "busy.__class__",
        "x[0]",
        "lambda: 1",
        "[x for x in busy]",
        "(x := 1)",
        "open('/etc/passwd')",
        "eval('1')",
        "busy ** 1000",
        "1 // 2",
        "x if busy else logged_in",
        "f'{busy}'",
        "{1: 2}",
        "(1, 2)",
        "True",
        "None",
        "busy in logged_in",
        "~busy",
        "sum(*busy)",
        "round(busy, digits=1)",
        "_i(busy, 1, 2)",
    ],
)
def test_anything_but_arithmetic_is_refused(text: str) -> None:
    """Attribute access, calls outside the list, lambdas, comprehensions and the like are errors."""
    with pytest.raises(FormulaError):
        parse_formula(text)


@pytest.mark.parametrize(
    ("text", "named", "expected"),
    [
        ("100 * busy / logged_in", {"busy": 3, "logged_in": 4}, 75.0),
        ("busy % 4", {"busy": 10}, 2.0),
        ("-busy + 1", {"busy": 3}, -2.0),
        ("busy > 2 and logged_in <= 4", {"busy": 3, "logged_in": 4}, True),
        ("not busy or logged_in == 1", {"busy": 3, "logged_in": 4}, False),
        ("0 < busy < 5", {"busy": 3}, True),
        ("if(busy > logged_in, 1, 2)", {"busy": 3, "logged_in": 4}, 2.0),
        ("if (busy, 1, 2)", {"busy": 0}, 2.0),
        ("round(busy / 3, 2)", {"busy": 1}, 0.33),
        ("round(busy)", {"busy": 2.5}, 2.0),
        ("abs(busy - logged_in)", {"busy": 3, "logged_in": 4}, 1.0),
        ("min(busy, logged_in, 2)", {"busy": 3, "logged_in": 4}, 2.0),
        ("max(busy, logged_in)", {"busy": 3, "logged_in": 4}, 4.0),
        ('state == "WaitForNextCall"', {"state": "WaitForNextCall"}, True),
        ('state != "WaitForNextCall"', {"state": "LoggedOut"}, True),
        ("(busy > 1) + (busy > 2)", {"busy": 3}, 2.0),
    ],
)
def test_formulas_compute_what_they_say(
    text: str, named: dict[str, Value], expected: float | bool
) -> None:
    """Each operator and function gives the value arithmetic and logic say it should."""
    assert parse_formula(text).evaluate(values(**named)) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("100 * busy / logged_in", {"busy": 3, "logged_in": 0}),
        ("busy % logged_in", {"busy": 3, "logged_in": 0}),
        ("100 * busy / logged_in", {"busy": 3}),
        ("busy + 1", {"busy": "WaitForNextCall"}),
        ("busy * 1e308 * 10", {"busy": 10}),
        ("busy > 1", {}),
        ("if(busy, 1, 2)", {}),
        ("not busy", {}),
        ('state == "Ready"', {"state": 3}),
        ("busy", {"busy": "text"}),
        ("sum(busy)", {"busy": 1}),
    ],
)
def test_na_instead_of_a_crash(text: str, named: dict[str, Value]) -> None:
    """Division by zero, a missing or text input, overflow and no aggregate source give None."""
    assert parse_formula(text).evaluate(values(**named)) is None


def test_logic_is_unknown_only_when_it_matters() -> None:
    """A false operand decides `and`, a true one decides `or`, even beside a missing input."""
    assert parse_formula("busy and missing").evaluate(values(busy=0)) is False
    assert parse_formula("busy or missing").evaluate(values(busy=1)) is True
    assert parse_formula("busy and missing").evaluate(values(busy=1)) is None


def test_aggregates_over_objects() -> None:
    """sum/avg/min/max/count combine one value per object; any object's n/a makes it n/a."""
    rows = [values(w=2), values(w=6), values(w=4)]
    results = {
        text: parse_formula(text).evaluate(values(w=2), lambda node: node.over(rows))
        for text in ("sum(w)", "avg(w)", "min(w)", "max(w)", "count(w > 3)", "w / sum(w)")
    }
    assert results == {
        "sum(w)": 12.0,
        "avg(w)": 4.0,
        "min(w)": 2.0,
        "max(w)": 6.0,
        "count(w > 3)": 2.0,
        "w / sum(w)": 2 / 12,
    }
    with_gap = [values(w=2), values()]
    assert parse_formula("sum(w)").evaluate(values(), lambda n: n.over(with_gap)) is None
    assert parse_formula("avg(w)").evaluate(values(), lambda n: n.over([])) is None
    assert parse_formula("sum(w)").evaluate(values(), lambda n: n.over([])) == 0.0


def test_names_and_aggregates_are_reported_for_subscribing() -> None:
    """A formula says which names it reads for its object and which inside each aggregate."""
    formula = parse_formula("waiting / sum(waiting + busy, objects=sales) + min(oldest)")
    assert formula.names == {"waiting", "busy", "oldest"}
    assert formula.object_names == {"waiting"}
    assert [(a.function, a.argument.text, a.objects) for a in formula.aggregates] == [
        ("sum", "waiting + busy", "sales"),
        ("min", "oldest", None),
    ]


@pytest.mark.parametrize(
    ("text", "offset", "words"),
    [
        ("100 * busy ** 2", 11, "** is not allowed"),
        ("busy + foo(1)", 7, "unknown function 'foo'"),
        ("busy + rond(1)", 7, "did you mean 'round'"),
        ("busy + x.y", 7, "attribute access"),
        ("sum(sum(busy))", 4, "inside another aggregate"),
        ("round(busy, x)", 12, "whole number"),
        ("if(busy, 1)", 0, "takes 3 values"),
        ("   ", 0, "empty"),
        ("busy\x1b[2J", 4, "control characters"),
        ("x" * 401, 400, "at most 400 characters"),
    ],
)
def test_errors_point_inside_the_formula(text: str, offset: int, words: str) -> None:
    """A bad formula's error says what is wrong and where in the text it is."""
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert words in caught.value.message
    assert caught.value.offset == offset


def test_unknown_names_get_a_did_you_mean_at_their_offset() -> None:
    """Names and object lists a layout does not declare are errors at their own offsets."""
    formula = parse_formula("100 * bussy / logged_in + sum(w, objects=saels)")
    problems = unknown_names(formula, {"busy", "logged_in"}, {"sales"})
    assert [(p.offset, p.message) for p in problems] == [
        (6, "unknown statistic 'bussy'; did you mean 'busy'? (declared: busy, logged_in)"),
        (30, "unknown statistic 'w' (declared: busy, logged_in)"),
        (41, "unknown object list 'saels'; did you mean 'sales'? (declared: sales)"),
    ]


def test_a_formula_is_immutable_data_with_its_text() -> None:
    """The parsed formula keeps its own text, for messages and `check`."""
    formula = parse_formula("  busy + 1")
    assert isinstance(formula, Formula)
    assert formula.text == "  busy + 1"
    assert formula.name_offsets == {"busy": 2}


@pytest.mark.parametrize(
    "text", ['"WaitForNextCall"', 'if(busy, "a", "b")', '"a" + 1', 'busy < "a"']
)
def test_text_is_only_compared_for_equality(text: str) -> None:
    """Quoted text is refused anywhere but beside == or !=, where it meets an agent status."""
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert "can only be compared with == or !=" in caught.value.message
