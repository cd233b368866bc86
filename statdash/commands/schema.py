"""`statdash schema`: the JSON Schema of the layout language, for editors' YAML language servers.

With it, VS Code (Red Hat's YAML extension) and other editors complete keys, widget kinds and
formats, and underline mistakes as you type (docs/layouts.md says how to wire it up).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from statdash.layout.specs import Layout

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def layout_schema() -> dict[str, Any]:
    """The JSON Schema of a layout file, generated from the pydantic models."""
    schema = Layout.model_json_schema(by_alias=True, mode="validation")
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
