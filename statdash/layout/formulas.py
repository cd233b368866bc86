"""Formulas (derived statistics): text -> a safe expression tree, and evaluating that tree.

A formula is parsed once, when the layout loads, by Python's own parser (`ast`, which only
builds a tree and runs nothing), and then rebuilt node by node into the small tree below;
any node outside the whitelist is a `FormulaError` naming where in the text it is. Nothing
is ever compiled or `eval`ed: evaluating walks our own nodes, which know only numbers,
names, `+ - * / %`, comparisons, `and or not` and a few functions.

The language:
- numbers (`100`, `0.5`), names of statistics declared in the layout (`busy`), and text in
  quotes only as the other side of `==`/`!=` (`state == "WaitForNextCall"`, for an agent
  state statistic);
- `+ - * / %`, unary `-`, `< <= > >= == !=` (chains such as `0 < x < 5` too),
  `and`, `or`, `not`;
- `if(cond, a, b)`, `round(x)` / `round(x, n)` (n a whole number), `abs(x)`,
  `min(a, b, ...)` / `max(a, b, ...)` of two or more values;
- aggregates over objects, of one per-object expression: `sum(x)`, `avg(x)`, `count(cond)`
  and the one-argument `min(x)` / `max(x)`, over the widget's objects or, with
  `objects=LIST`, over a list declared under `objects:` (`sum(waiting, objects=sales)`).

A value is a number, true/false, text (an agent's status) or None (n/a). Evaluation never
raises: a missing or non-numeric input, a division by zero, a result that is not a finite
number all give None, and None spreads through arithmetic and comparisons. An aggregate is
n/a when any of its objects' values is; `count(cond)` counts the objects where `cond` is
true; `sum` of conditions counts them too (true is 1).

Public API (also used by alert rules): `parse_formula(text) -> Formula` or `FormulaError`,
`Formula.names`, `Formula.object_names`, `Formula.aggregates`, `Formula.evaluate(lookup,
aggregate)`, `Aggregate.over(lookups)`, and `unknown_names(formula, statistics,
object_lists)` for the located did-you-mean problems of names a layout does not declare.
"""

from __future__ import annotations

import ast
import io
import itertools
import math
import re
import tokenize
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from statdash.layout.suggest import did_you_mean

Value = float | bool | str | None
"""What a name reads: a number, true/false, text (an agent status), or None (n/a)."""
Result = float | bool | None
"""What a formula gives: a number, true/false, or None (n/a)."""
Lookup = Callable[[str], Value]
"""The value of a statistic name for the object being evaluated."""

AggregateFunction = Literal["sum", "min", "max", "avg", "count"]
AGGREGATE_FUNCTIONS: tuple[str, ...] = ("sum", "min", "max", "avg", "count")
VALUE_FUNCTIONS: tuple[str, ...] = ("if", "round", "abs", "min", "max")
FUNCTIONS: tuple[str, ...] = ("if", "round", "abs", "min", "max", "sum", "avg", "count")
OBJECTS_KEYWORD = "objects"
MAX_FORMULA_LENGTH = 400
MAX_ROUND_DIGITS = 10
# What a formula may call a statistic: the layout's declared names without '-' (a minus).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# `if` is a Python keyword, so `if(` is rewritten to this name (same length, so every
# offset stays true) before parsing; user names never start with '_'.
_IF_STANDIN = "_i"


class FormulaError(ValueError):
    """A formula that cannot be used; `offset` is where in its text (0-based characters)."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


# --- The tree --------------------------------------------------------------------------------


def _number(value: Value) -> float | None:
    """A value as a number for arithmetic (true is 1), or None when it is not one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    return None


def _truth(value: Value) -> bool | None:
    """A value as a condition: numbers are true when not zero; text and None are unknown."""
    if isinstance(value, bool):
        return value
    number = _number(value)
    return None if number is None else number != 0.0


def _finite(number: float) -> float | None:
    return number if math.isfinite(number) else None


class Expr:
    """A node of a formula's tree; `offset` is where it starts in the formula's text."""

    __slots__ = ("offset",)

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def value(self, env: _Env) -> Value:
        """The node's value (never raises)."""
        raise NotImplementedError

    def children(self) -> Iterator[Expr]:
        """The nodes directly below this one."""
        return iter(())


@dataclass(frozen=True, slots=True)
class _Env:
    lookup: Lookup
    aggregate: Callable[[Aggregate], Value] | None


class Number(Expr):
    """A number written in the formula."""

    __slots__ = ("number",)

    def __init__(self, offset: int, number: float) -> None:
        super().__init__(offset)
        self.number = number

    def value(self, env: _Env) -> Value:
        return self.number


class Quoted(Expr):
    """Text in quotes, compared with an agent's status."""

    __slots__ = ("text",)

    def __init__(self, offset: int, text: str) -> None:
        super().__init__(offset)
        self.text = text

    def value(self, env: _Env) -> Value:
        return self.text


class Name(Expr):
    """A statistic, by its declared name."""

    __slots__ = ("name",)

    def __init__(self, offset: int, name: str) -> None:
        super().__init__(offset)
        self.name = name

    def value(self, env: _Env) -> Value:
        try:
            return env.lookup(self.name)
        except Exception:  # a lookup that fails is a missing input, never a crash
            return None


def _add(a: float, b: float) -> float | None:
    return _finite(a + b)


def _sub(a: float, b: float) -> float | None:
    return _finite(a - b)


def _mul(a: float, b: float) -> float | None:
    return _finite(a * b)


def _div(a: float, b: float) -> float | None:
    return None if b == 0.0 else _finite(a / b)


def _mod(a: float, b: float) -> float | None:
    return None if b == 0.0 else _finite(a % b)


_ARITHMETIC: dict[type[ast.operator], tuple[str, Callable[[float, float], float | None]]] = {
    ast.Add: ("+", _add),
    ast.Sub: ("-", _sub),
    ast.Mult: ("*", _mul),
    ast.Div: ("/", _div),
    ast.Mod: ("%", _mod),
}


class Arithmetic(Expr):
    """`a + b`, `a - b`, `a * b`, `a / b`, `a % b`."""

    __slots__ = ("apply", "left", "right", "symbol")

    def __init__(
        self,
        offset: int,
        symbol: str,
        apply: Callable[[float, float], float | None],
        left: Expr,
        right: Expr,
    ) -> None:
        super().__init__(offset)
        self.symbol = symbol
        self.apply = apply
        self.left = left
        self.right = right

    def value(self, env: _Env) -> Value:
        a = _number(self.left.value(env))
        if a is None:
            return None
        b = _number(self.right.value(env))
        if b is None:
            return None
        return self.apply(a, b)

    def children(self) -> Iterator[Expr]:
        yield self.left
        yield self.right


class Negate(Expr):
    """`-a` (and `+a`, which is `a` as a number)."""

    __slots__ = ("operand", "sign")

    def __init__(self, offset: int, operand: Expr, sign: float) -> None:
        super().__init__(offset)
        self.operand = operand
        self.sign = sign

    def value(self, env: _Env) -> Value:
        number = _number(self.operand.value(env))
        return None if number is None else self.sign * number

    def children(self) -> Iterator[Expr]:
        yield self.operand


_ORDER: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_EQUALITY: dict[type[ast.cmpop], bool] = {ast.Eq: True, ast.NotEq: False}
_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}


def _compare(op: type[ast.cmpop], a: Value, b: Value) -> bool | None:
    if op in _EQUALITY:
        if isinstance(a, str) or isinstance(b, str):
            if not (isinstance(a, str) and isinstance(b, str)):
                return None
            return (a == b) is _EQUALITY[op]
        x, y = _number(a), _number(b)
        if x is None or y is None:
            return None
        return (x == y) is _EQUALITY[op]
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return None
    return _ORDER[op](x, y)


class Comparison(Expr):
    """`a < b`, `a == b`, ... and chains `a < b <= c` (each pair must hold)."""

    __slots__ = ("operands", "operators")

    def __init__(
        self, offset: int, operands: Sequence[Expr], operators: Sequence[type[ast.cmpop]]
    ) -> None:
        super().__init__(offset)
        self.operands = tuple(operands)
        self.operators = tuple(operators)

    def value(self, env: _Env) -> Value:
        values = [operand.value(env) for operand in self.operands]
        outcome: bool | None = True
        for index, op in enumerate(self.operators):
            holds = _compare(op, values[index], values[index + 1])
            if holds is False:
                return False
            if holds is None:
                outcome = None
        return outcome

    def children(self) -> Iterator[Expr]:
        yield from self.operands


class Logic(Expr):
    """`a and b and ...`, `a or b or ...` (three-valued: unknown only when it matters)."""

    __slots__ = ("is_and", "operands")

    def __init__(self, offset: int, is_and: bool, operands: Sequence[Expr]) -> None:
        super().__init__(offset)
        self.is_and = is_and
        self.operands = tuple(operands)

    def value(self, env: _Env) -> Value:
        # `and` is decided by a false operand, `or` by a true one; else unknown wins.
        decisive = not self.is_and
        unknown = False
        for operand in self.operands:
            truth = _truth(operand.value(env))
            if truth is None:
                unknown = True
            elif truth is decisive:
                return decisive
        return None if unknown else not decisive

    def children(self) -> Iterator[Expr]:
        yield from self.operands


class Not(Expr):
    """`not a`."""

    __slots__ = ("operand",)

    def __init__(self, offset: int, operand: Expr) -> None:
        super().__init__(offset)
        self.operand = operand

    def value(self, env: _Env) -> Value:
        truth = _truth(self.operand.value(env))
        return None if truth is None else not truth

    def children(self) -> Iterator[Expr]:
        yield self.operand


class If(Expr):
    """`if(cond, a, b)`: a when cond is true, b when false, n/a when cond is n/a."""

    __slots__ = ("condition", "otherwise", "then")

    def __init__(self, offset: int, condition: Expr, then: Expr, otherwise: Expr) -> None:
        super().__init__(offset)
        self.condition = condition
        self.then = then
        self.otherwise = otherwise

    def value(self, env: _Env) -> Value:
        truth = _truth(self.condition.value(env))
        if truth is None:
            return None
        return (self.then if truth else self.otherwise).value(env)

    def children(self) -> Iterator[Expr]:
        yield self.condition
        yield self.then
        yield self.otherwise


class Round(Expr):
    """`round(x)` or `round(x, n)`: to n digits after the point (halves to even)."""

    __slots__ = ("digits", "operand")

    def __init__(self, offset: int, operand: Expr, digits: int) -> None:
        super().__init__(offset)
        self.operand = operand
        self.digits = digits

    def value(self, env: _Env) -> Value:
        number = _number(self.operand.value(env))
        return None if number is None else _finite(float(round(number, self.digits)))

    def children(self) -> Iterator[Expr]:
        yield self.operand


class Abs(Expr):
    """`abs(x)`."""

    __slots__ = ("operand",)

    def __init__(self, offset: int, operand: Expr) -> None:
        super().__init__(offset)
        self.operand = operand

    def value(self, env: _Env) -> Value:
        number = _number(self.operand.value(env))
        return None if number is None else abs(number)

    def children(self) -> Iterator[Expr]:
        yield self.operand


class Extreme(Expr):
    """`min(a, b, ...)` / `max(a, b, ...)` of values (n/a when any is)."""

    __slots__ = ("is_max", "operands")

    def __init__(self, offset: int, is_max: bool, operands: Sequence[Expr]) -> None:
        super().__init__(offset)
        self.is_max = is_max
        self.operands = tuple(operands)

    def value(self, env: _Env) -> Value:
        numbers = []
        for operand in self.operands:
            number = _number(operand.value(env))
            if number is None:
                return None
            numbers.append(number)
        return max(numbers) if self.is_max else min(numbers)

    def children(self) -> Iterator[Expr]:
        yield from self.operands


class Aggregate(Expr):
    """`sum/min/max/avg/count(argument[, objects=LIST])`: one figure over many objects.

    `argument` is a formula of its own, evaluated once per object; `objects` is the declared
    object list, or None for the objects of the widget that shows the formula. `index` is
    the aggregate's place in `Formula.aggregates`.
    """

    __slots__ = ("argument", "function", "index", "objects", "objects_offset")

    def __init__(
        self,
        offset: int,
        function: AggregateFunction,
        argument: Formula,
        objects: str | None,
        objects_offset: int,
        index: int,
    ) -> None:
        super().__init__(offset)
        self.function: AggregateFunction = function
        self.argument = argument
        self.objects = objects
        self.objects_offset = objects_offset
        self.index = index

    def value(self, env: _Env) -> Value:
        if env.aggregate is None:
            return None
        try:
            return env.aggregate(self)
        except Exception:  # an aggregate that cannot be read is n/a, never a crash
            return None

    def over(self, lookups: Iterable[Lookup]) -> Result:
        """The aggregate's figure over objects, one `lookup` per object."""
        return self.combine(self.argument.evaluate(lookup) for lookup in lookups)

    def combine(self, values: Iterable[Value]) -> Result:
        """The aggregate's figure from the argument's value for each object."""
        if self.function == "count":
            count = 0
            for value in values:
                truth = _truth(value)
                if truth is None:
                    return None
                count += truth
            return float(count)
        numbers = []
        for value in values:
            number = _number(value)
            if number is None:
                return None
            numbers.append(number)
        if self.function == "sum":
            return _finite(math.fsum(numbers))
        if not numbers:
            return None
        if self.function == "avg":
            return _finite(math.fsum(numbers) / len(numbers))
        return max(numbers) if self.function == "max" else min(numbers)


@dataclass(frozen=True, slots=True, eq=False)
class Formula:
    """A parsed formula: its text, its tree, and the statistic names it reads."""

    text: str
    tree: Expr = field(repr=False)
    object_names: frozenset[str]
    """Names read for the object itself (outside any aggregate)."""
    aggregates: tuple[Aggregate, ...] = field(repr=False)
    """The aggregates, in the order they are written."""
    name_offsets: dict[str, int] = field(repr=False)
    """Where each name is first written (0-based character offset in `text`)."""

    def __eq__(self, other: object) -> bool:
        # The tree is parsed from the text, so the text alone says which formula this is.
        return isinstance(other, Formula) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def names(self) -> frozenset[str]:
        """Every statistic name the formula reads, inside aggregates too."""
        return frozenset(self.name_offsets)

    def evaluate(
        self, lookup: Lookup, aggregate: Callable[[Aggregate], Value] | None = None
    ) -> Result:
        """The formula's value for one object: a number, true/false, or None (n/a).

        `lookup(name)` gives a statistic of the object; `aggregate(node)` gives an
        aggregate's figure (typically `node.over(one lookup per object)`), and without it
        every aggregate is n/a. Never raises.
        """
        try:
            result = self.tree.value(_Env(lookup, aggregate))
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            return None
        if isinstance(result, bool) or result is None:
            return result
        if isinstance(result, int | float):
            return _finite(float(result))
        return None  # text on its own is no figure


# --- Parsing --------------------------------------------------------------------------------


def _offsets(text: str) -> Callable[[int, int], int]:
    """(ast lineno, UTF-8 byte col_offset) -> character offset in `text`."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(lineno: int, col: int) -> int:
        index = max(0, min(lineno - 1, len(lines) - 1))
        chars = len(lines[index].encode()[:col].decode(errors="ignore"))
        return starts[index] + chars

    return offset


def _if_positions(text: str) -> list[int]:
    """Character offsets of `if` written as a function (`if(` or `if (`)."""
    positions = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []  # the parser will say what is wrong
    significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.NEWLINE)]
    for token, following in itertools.pairwise(significant):
        if token.type == tokenize.NAME and token.string == "if" and following.string == "(":
            # `text` is one line here, and tokenize counts characters (not bytes).
            positions.append(token.start[1])
    return positions


_TEXT_ONLY_COMPARED = (
    'text in quotes can only be compared with == or != (e.g. state == "WaitForNextCall")'
)


class _Builder:
    """Turns Python's tree of the text into ours, refusing everything off the whitelist."""

    def __init__(
        self,
        text: str,
        at: Callable[[int, int], int],
        ifs: set[int],
        *,
        inside_aggregate: bool = False,
    ) -> None:
        self.text = text
        self.at = at
        self.ifs = ifs
        self.inside_aggregate = inside_aggregate
        self.object_names: set[str] = set()
        self.name_offsets: dict[str, int] = {}
        self.aggregates: list[Aggregate] = []

    def where(self, node: ast.AST) -> int:
        return self.at(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def source(self, node: ast.AST) -> str:
        start = self.where(node)
        end = self.at(getattr(node, "end_lineno", 1) or 1, getattr(node, "end_col_offset", 0) or 0)
        return self.text[start:end]

    def fail(self, node: ast.AST, message: str) -> FormulaError:
        return FormulaError(message, self.where(node))

    def build(self, node: ast.AST, *, text_allowed: bool = False) -> Expr:
        offset = self.where(node)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and not text_allowed:
                raise FormulaError(_TEXT_ONLY_COMPARED, offset)
            return self.constant(node, offset)
        if isinstance(node, ast.Name):
            return self.name(node, offset)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITHMETIC:
                symbol = {ast.Pow: "**", ast.FloorDiv: "//"}.get(type(node.op), "this operator")
                raise FormulaError(
                    f"{symbol} is not allowed in a formula (allowed: + - * / %)",
                    self._operator_offset(node),
                )
            symbol, apply = _ARITHMETIC[type(node.op)]
            return Arithmetic(offset, symbol, apply, self.build(node.left), self.build(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Negate(offset, self.build(node.operand), -1.0)
            if isinstance(node.op, ast.UAdd):
                return Negate(offset, self.build(node.operand), 1.0)
            if isinstance(node.op, ast.Not):
                return Not(offset, self.build(node.operand))
            raise self.fail(node, "~ is not allowed in a formula (allowed: + - * / %)")
        if isinstance(node, ast.Compare):
            return self.compare(node, offset)
        if isinstance(node, ast.BoolOp):
            return Logic(offset, isinstance(node.op, ast.And), [self.build(v) for v in node.values])
        if isinstance(node, ast.Call):
            return self.call(node, offset)
        raise self.fail(node, _refusal(node))

    def _operator_offset(self, node: ast.BinOp) -> int:
        # Point at the operator itself: the first non-space after the left operand.
        start = self.at(
            getattr(node.left, "end_lineno", 1) or 1, getattr(node.left, "end_col_offset", 0) or 0
        )
        rest = self.text[start:]
        return start + (len(rest) - len(rest.lstrip(" ()")))

    def constant(self, node: ast.Constant, offset: int) -> Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise FormulaError(
                f"{self.source(node)} is not allowed in a formula (numbers, names and text"
                " in quotes only)",
                offset,
            )
        if isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:
                raise FormulaError("this number is too large", offset) from None
            if not math.isfinite(number):
                raise FormulaError("this number is too large", offset)
            return Number(offset, number)
        if isinstance(value, str):
            return Quoted(offset, value)
        raise FormulaError(
            f"{self.source(node)} is not allowed in a formula (numbers, names and text in"
            " quotes only)",
            offset,
        )

    def name(self, node: ast.Name, offset: int) -> Expr:
        if not _NAME.fullmatch(node.id):
            raise FormulaError(
                f"{self.source(node) or node.id!r} is not a statistic name: names start with"
                " a letter, then letters, digits or '_'",
                offset,
            )
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} is a function; call it, e.g. {node.id}(...)", offset)
        self.name_offsets.setdefault(node.id, offset)
        if not self.inside_aggregate:
            self.object_names.add(node.id)
        return Name(offset, node.id)

    def compare(self, node: ast.Compare, offset: int) -> Expr:
        operands = [node.left, *node.comparators]
        for op in node.ops:
            if type(op) not in _SYMBOLS:
                word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
                raise self.fail(
                    node,
                    f"'{word.get(type(op), 'this comparison')}' is not allowed in a formula"
                    " (allowed: < <= > >= == !=)",
                )
        built = [self.build(operand, text_allowed=True) for operand in operands]
        for index, item in enumerate(built):
            if not isinstance(item, Quoted):
                continue
            # Text only makes sense compared for (in)equality with something that is not text.
            ops = [node.ops[i] for i in (index - 1, index) if 0 <= i < len(node.ops)]
            if any(type(op) not in _EQUALITY for op in ops):
                raise FormulaError(_TEXT_ONLY_COMPARED, item.offset)
        return Comparison(offset, built, [type(op) for op in node.ops])

    def call(self, node: ast.Call, offset: int) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the formula functions can be called: " + _functions())
        function = node.func.id
        if self.where(node.func) in self.ifs and function == _IF_STANDIN:
            function = "if"
        elif function not in FUNCTIONS:
            hint = did_you_mean(function, FUNCTIONS) if _NAME.fullmatch(function) else ""
            raise self.fail(node, f"unknown function '{function}'{hint} ({_functions()})")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.fail(argument, "*arguments are not allowed in a formula")
        keywords = {k.arg: k for k in node.keywords}
        if None in keywords:
            raise self.fail(node, "**arguments are not allowed in a formula")
        is_aggregate = function in ("sum", "avg", "count") or (
            function in ("min", "max") and (len(node.args) == 1 or bool(keywords))
        )
        if is_aggregate:
            return self.aggregate(node, function, offset)
        if keywords:
            key = next(iter(node.keywords))
            raise self.fail(key, f"{function}() takes no '{key.arg}='")
        args = node.args
        if function == "if":
            if len(args) != 3:
                raise self.fail(node, f"if() takes 3 values (cond, then, else), got {len(args)}")
            return If(offset, *(self.build(a) for a in args))
        if function == "round":
            if len(args) not in (1, 2):
                raise self.fail(node, f"round() takes 1 or 2 values (x, digits), got {len(args)}")
            digits = 0
            if len(args) == 2:
                digits = self.round_digits(args[1])
            return Round(offset, self.build(args[0]), digits)
        if function == "abs":
            if len(args) != 1:
                raise self.fail(node, f"abs() takes 1 value, got {len(args)}")
            return Abs(offset, self.build(args[0]))
        if len(args) < 2:
            raise self.fail(node, f"{function}() of values takes at least 2 values")
        return Extreme(offset, function == "max", [self.build(a) for a in args])

    def round_digits(self, node: ast.expr) -> int:
        sign = 1
        inner = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, inner = -1, node.operand
        if (
            isinstance(inner, ast.Constant)
            and isinstance(inner.value, int)
            and not isinstance(inner.value, bool)
            and inner.value <= MAX_ROUND_DIGITS
        ):
            return sign * inner.value
        raise self.fail(
            node, f"round()'s digits must be a whole number up to {MAX_ROUND_DIGITS}, e.g. 1"
        )

    def aggregate(self, node: ast.Call, function: str, offset: int) -> Expr:
        if self.inside_aggregate:
            raise self.fail(
                node,
                f"{function}() over objects cannot be inside another aggregate"
                " (declare the inner one as a statistic of its own)",
            )
        if len(node.args) != 1:
            raise self.fail(
                node, f"{function}() over objects takes 1 value (per object), got {len(node.args)}"
            )
        objects: str | None = None
        objects_offset = offset
        for keyword in node.keywords:
            if keyword.arg != OBJECTS_KEYWORD:
                raise self.fail(
                    keyword,
                    f"{function}() takes only '{OBJECTS_KEYWORD}=' (a declared object list),"
                    f" not '{keyword.arg}='",
                )
            if not isinstance(keyword.value, ast.Name) or not _NAME.fullmatch(keyword.value.id):
                raise self.fail(
                    keyword.value,
                    f"'{OBJECTS_KEYWORD}=' takes the name of an object list declared under"
                    " 'objects:'",
                )
            objects = keyword.value.id
            objects_offset = self.where(keyword.value)
        inner = _Builder(self.text, self.at, self.ifs, inside_aggregate=True)
        argument_node = node.args[0]
        tree = inner.build(argument_node)
        for name, at in inner.name_offsets.items():
            self.name_offsets.setdefault(name, at)
        argument = Formula(
            self.source(argument_node),
            tree,
            frozenset(inner.name_offsets),
            (),
            dict(inner.name_offsets),
        )
        assert function in AGGREGATE_FUNCTIONS
        made = Aggregate(
            offset,
            function,  # type: ignore[arg-type]  # checked just above
            argument,
            objects,
            objects_offset,
            len(self.aggregates),
        )
        self.aggregates.append(made)
        return made


def _functions() -> str:
    return "if, round, abs, min, max, sum, avg, count"


def _refusal(node: ast.AST) -> str:
    """Why a node outside the whitelist is refused, in the user's terms."""
    reasons: list[tuple[type[ast.AST] | tuple[type[ast.AST], ...], str]] = [
        (ast.Attribute, "attribute access (a.b) is not allowed in a formula"),
        (ast.Subscript, "indexing (a[b]) is not allowed in a formula"),
        (ast.IfExp, "write if(cond, a, b) instead of 'a if cond else b'"),
        (ast.Lambda, "lambda is not allowed in a formula"),
        (
            (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
            "comprehensions are not allowed in a formula",
        ),
        (
            (ast.List, ast.Tuple, ast.Set, ast.Dict),
            "lists, tuples and mappings are not allowed in a formula",
        ),
        (ast.NamedExpr, "':=' is not allowed in a formula"),
        (ast.JoinedStr, "f-strings are not allowed in a formula"),
        (ast.Starred, "*arguments are not allowed in a formula"),
    ]
    for kinds, reason in reasons:
        if isinstance(node, kinds):
            return reason
    return (
        "this is not allowed in a formula (numbers, names, + - * / %, comparisons,"
        f" and/or/not and {_functions()} only)"
    )


def parse_formula(text: str) -> Formula:
    """Parse a formula's text into a `Formula`; raise `FormulaError` (with its offset) if bad."""
    if not isinstance(text, str):
        raise FormulaError('a formula is text, e.g. "100 * busy / logged_in"')
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(
            f"a formula is at most {MAX_FORMULA_LENGTH} characters (this one is {len(text)})",
            MAX_FORMULA_LENGTH,
        )
    bad = next((i for i, ch in enumerate(text) if _is_control(ch)), None)
    if bad is not None:
        raise FormulaError("a formula must not contain control characters", bad)
    if not text.strip():
        raise FormulaError("the formula is empty")
    # Line breaks and tabs become spaces, one for one, so offsets into the text stay true;
    # leading spaces are cut for the parser (which refuses an indent) and added back to them.
    flat = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    lead = len(flat) - len(flat.lstrip(" "))
    ifs = set(_if_positions(flat))
    written = flat
    for position in ifs:
        written = written[:position] + _IF_STANDIN + written[position + len(_IF_STANDIN) :]
    body = written[lead:]
    try:
        with warnings.catch_warnings():
            # Python's "invalid decimal literal" hints must not reach the user's terminal.
            warnings.simplefilter("ignore")
            module = ast.parse(body, mode="eval")
    except SyntaxError as error:
        column = (error.offset or 1) - 1
        if error.lineno and error.lineno > 1:
            column = len(body)
        message = (error.msg or "invalid syntax").removesuffix("?")
        if message.startswith("invalid syntax. Perhaps"):
            message = "invalid syntax"
        raise FormulaError(
            f"this formula is not valid: {message}", lead + max(0, min(column, len(body)))
        ) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise FormulaError("this formula is too deeply nested", lead) from None
    # ast's offsets are into `body`; shifted by the leading spaces they are into `text`.
    builder = _Builder(written, _shifted(_offsets(body), lead), ifs)
    try:
        tree = builder.build(module.body)
    except RecursionError:
        raise FormulaError("this formula is too deeply nested", lead) from None
    return Formula(
        text,
        tree,
        frozenset(builder.object_names),
        tuple(builder.aggregates),
        builder.name_offsets,
    )


def _is_control(ch: str) -> bool:
    return (ch < " " and ch not in "\n\t\r") or "\x7f" <= ch <= "\x9f"


def _shifted(at: Callable[[int, int], int], by: int) -> Callable[[int, int], int]:
    return lambda lineno, col: at(lineno, col) + by


# --- Names a layout must declare --------------------------------------------------------------


def unknown_names(
    formula: Formula, statistics: Collection[str], object_lists: Collection[str] | None = None
) -> list[FormulaError]:
    """Names the formula reads that are not declared statistics, and object lists that are not
    declared (`object_lists` None: not checked), each a located error with a did-you-mean."""
    problems = []
    for name, offset in formula.name_offsets.items():
        if name in statistics:
            continue
        if not statistics:
            message = (
                f"unknown statistic '{name}': a formula reads statistics declared under"
                " 'statistics:', and this layout declares none"
            )
        else:
            usable = sorted(s for s in statistics if _NAME.fullmatch(s))
            message = (
                f"unknown statistic '{name}'{did_you_mean(name, usable)}"
                f" (declared: {', '.join(usable)})"
            )
        problems.append(FormulaError(message, offset))
    if object_lists is not None:
        for aggregate in formula.aggregates:
            listed = aggregate.objects
            if listed is None or listed in object_lists:
                continue
            if object_lists:
                message = (
                    f"unknown object list '{listed}'{did_you_mean(listed, object_lists)}"
                    f" (declared: {', '.join(object_lists)})"
                )
            else:
                message = (
                    f"unknown object list '{listed}': this layout declares none (under 'objects:')"
                )
            problems.append(FormulaError(message, aggregate.objects_offset))
    return sorted(problems, key=lambda p: p.offset)


def _formula_reads(formulas: Mapping[str, Formula], name: str) -> list[str]:
    """The named formulas `name` reads, in the order written (so messages follow the text)."""
    reads = sorted(formulas[name].name_offsets.items(), key=lambda item: item[1])
    return [read for read, _ in reads if read in formulas]


def _walk(formulas: Mapping[str, Formula]) -> Iterator[tuple[str, list[str]]]:
    """A depth-first walk of named formulas along what they read, with a stack of its own
    (a file can chain thousands; recursion would run out): `("cycle", [a, ..., a])` when a
    read leads back onto the path, `("done", [name])` once everything `name` reads is done.
    Each formula is done once, in the order of the file as far as reads allow."""
    done: set[str] = set()
    for first in formulas:
        if first in done:
            continue
        path: list[str] = [first]
        on_path = {first}
        pending: list[list[str]] = [_formula_reads(formulas, first)[::-1]]
        while path:
            if not pending[-1]:
                finished = path.pop()
                on_path.discard(finished)
                pending.pop()
                done.add(finished)
                yield "done", [finished]
                continue
            read = pending[-1].pop()
            if read in on_path:
                yield "cycle", [*path[path.index(read) :], read]
            elif read not in done:
                path.append(read)
                on_path.add(read)
                pending.append(_formula_reads(formulas, read)[::-1])


def formula_cycles(formulas: Mapping[str, Formula]) -> list[list[str]]:
    """Each cycle among named formulas once, as `[a, b, ..., a]`, from the first in order.

    A formula depends on the formulas its names read; `a -> b -> a` (or `a -> a`) can never
    be computed.
    """
    cycles: list[list[str]] = []
    reported: set[frozenset[str]] = set()
    for event, cycle in _walk(formulas):
        members = frozenset(cycle)
        if event == "cycle" and members not in reported:
            reported.add(members)
            cycles.append(cycle)
    return cycles


def formula_chains(formulas: Mapping[str, Formula], limit: int) -> dict[str, list[str]]:
    """Each named formula at which formulas built on one another first go deeper than
    `limit` -> that chain, `[name, what it reads, ..., the first]` (`limit + 1` names).

    A read that closes a cycle is not followed (`formula_cycles` reports it).
    """
    # The longest chain below each done formula: (its depth, the formula it reads next).
    below: dict[str, tuple[int, str | None]] = {}
    for event, names in _walk(formulas):
        if event != "done":
            continue
        name = names[0]
        reads = [read for read in _formula_reads(formulas, name) if read in below]
        deepest = max(reads, key=lambda read: below[read][0], default=None)
        below[name] = (below[deepest][0] + 1, deepest) if deepest is not None else (1, None)
    crossings: dict[str, list[str]] = {}
    for name, (depth, following) in below.items():
        if depth != limit + 1:
            continue
        chain = [name]
        while following is not None:
            chain.append(following)
            following = below[following][1]
        crossings[name] = chain
    return crossings
