"""How a layout problem is worded: user values quoted and described, pydantic errors as sentences.

Every message about a layout's content is made here or through `problem`, so the words a
supervisor reads are chosen in one place: our own checks raise `problem(...)` with a final
message, and pydantic's own errors are turned into sentences by `friendly_message`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from statdash.layout.suggest import did_you_mean, one_of
from statdash.layout.vocabulary import WIDGET_KIND_TAG, WIDGET_KINDS
from statdash.text import clean, counted

_MAX_SHOWN = 60
_QUOTED = re.compile(r"'([^']*)'")


def shown(value: object) -> str:
    """A user value quoted for a message, clipped so a hostile file cannot flood the terminal."""
    return f"'{clean(value if isinstance(value, str) else repr(value), _MAX_SHOWN)}'"


def describe(value: object) -> str:
    """What a value is, in words: `a list`, `a number (12)`, `text ('abc')`."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({shown(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of keys"
    return type(value).__name__


def problem(message: str, **where: Any) -> PydanticCustomError:
    """An error whose message is final.

    `where` may carry `at=(file, line, column)` (a spot in another file, e.g. an object list)
    or `on_key=True` (point at the key itself rather than its value).
    """
    return PydanticCustomError("layout", message, where or None)


def problem_at(loc: tuple[str | int, ...], message: str, **where: Any) -> InitErrorDetails:
    """A `problem` at key path `loc` below the mapping being validated, ready to be raised."""
    return InitErrorDetails(type=problem(message, **where), loc=loc, input=None)


def friendly_message(error: ErrorDetails) -> str:
    """The words a user reads for one pydantic error (ours are already final)."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind == "layout":
        return error["msg"]
    if kind == "missing":
        return f"missing required key '{error['loc'][-1]}'" if error["loc"] else "missing value"
    if kind == "union_tag_not_found":
        return f"a widget is a mapping with 'kind': one of {one_of(WIDGET_KINDS)}"
    if kind == "union_tag_invalid":
        expected = [
            t.removeprefix(WIDGET_KIND_TAG)
            for t in _QUOTED.findall(str(ctx.get("expected_tags", "")))
        ]
        tag = str(ctx.get("tag", value)).removeprefix(WIDGET_KIND_TAG)
        return (
            f"unknown widget kind {shown(tag)}{did_you_mean(tag, expected)}"
            f" (one of {one_of(expected)})"
        )
    if kind == "literal_error":
        expected = _QUOTED.findall(str(ctx.get("expected", "")))
        hint = did_you_mean(value, expected) if isinstance(value, str) else ""
        return f"{shown(value)} is not allowed{hint} (one of {one_of(expected)})"
    simple: dict[str, str] = {
        "string_type": f"expected text, got {describe(value)}",
        "int_type": f"expected a whole number, got {describe(value)}",
        "int_parsing": f"expected a whole number, got {describe(value)}",
        "int_from_float": f"expected a whole number, got {describe(value)}",
        "float_type": f"expected a number, got {describe(value)}",
        "float_parsing": f"expected a number, got {describe(value)}",
        "bool_type": f"expected true or false, got {describe(value)}",
        "bool_parsing": f"expected true or false, got {describe(value)}",
        "list_type": f"expected a list, got {describe(value)}",
        "dict_type": f"expected a mapping of keys, got {describe(value)}",
        "model_type": f"expected a mapping of keys, got {describe(value)}",
        "model_attributes_type": f"expected a mapping of keys, got {describe(value)}",
        "literal_error": f"{shown(value)} is not allowed",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, got {value}",
        "less_than_equal": f"must be at most {ctx.get('le')}, got {value}",
        "greater_than": f"must be more than {ctx.get('gt')}, got {value}",
        "less_than": f"must be less than {ctx.get('lt')}, got {value}",
        "too_short": f"needs at least {counted(int(ctx.get('min_length') or 0), 'item')}",
        "too_long": f"has too many items (at most {ctx.get('max_length')})",
        "string_too_short": "must not be empty",
        "string_too_long": f"is too long (at most {ctx.get('max_length')} characters)",
        "finite_number": "must be a finite number",
        "extra_forbidden": "unknown key",
    }
    if kind in simple:
        return simple[kind]
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def as_final_errors(errors: list[ErrorDetails]) -> list[InitErrorDetails]:
    """Pydantic errors as final-message errors, so they can be raised again with our own."""
    rebuilt = []
    for error in errors:
        ctx = error.get("ctx") if error["type"] == "layout" else None
        rebuilt.append(
            InitErrorDetails(
                type=PydanticCustomError("layout", friendly_message(error), ctx),
                loc=error["loc"],
                input=None,
            )
        )
    return rebuilt
