"""`statdash schema`: the JSON Schema of the layout language, for editors' YAML language servers.

With it, VS Code (Red Hat's YAML extension) and other editors complete keys, widget kinds and
formats, and underline mistakes as you type (docs/layouts.md says how to wire it up).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from statdash.layout.specs import Layout

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def attribute_docstrings(cls: type[BaseModel]) -> dict[str, str]:
    """The docstring under each annotated attribute of `cls` and its bases, by field name.

    The layout's models document their keys this way; reading them is for the schema alone
    (every start that reads a layout used to pay ~40 ms for it, when pydantic read them at
    import with `use_attribute_docstrings`).
    """
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass is BaseModel:
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0]
        if not isinstance(body, ast.ClassDef):
            continue
        for statement, following in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found


class _Documented(GenerateJsonSchema):
    """Pydantic's JSON Schema, each key described by its attribute's docstring."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model = schema["cls"]
        properties = json_schema.get("properties")
        if not isinstance(properties, dict) or not issubclass(model, BaseModel):
            return json_schema
        docs = attribute_docstrings(model)
        for name, field in model.model_fields.items():
            key = field.alias or name
            if name in docs and key in properties and field.description is None:
                properties[key].setdefault("description", docs[name])
        return json_schema


def layout_schema() -> dict[str, Any]:
    """The JSON Schema of a layout file, generated from the pydantic models."""
    schema = Layout.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_Documented
    )
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "statdash layout",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render() -> str:
    """The schema as the text `statdash schema` prints (stable: sorted keys, final newline)."""
    return json.dumps(layout_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print (or write) the schema."""
    text = render()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            f"statdash schema: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
