"""`statdash schema`: the layout language's JSON Schema, and the copy in docs/ kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statdash.commands import schema as schema_command
from statdash.layout.vocabulary import FORMATS, WIDGET_KINDS

from .conftest import ROOT, run_command

SCHEMA_FILE = ROOT / "docs" / "layout.schema.json"


def test_schema_is_json_with_completion_data(capsys: pytest.CaptureFixture[str]) -> None:
    """The schema is JSON Schema 2020-12 naming every widget kind and format for completion."""
    assert run_command(schema_command, []) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == schema_command.SCHEMA_DIALECT
    assert schema["required"] == ["title", "pages"]
    text = json.dumps(schema)
    for kind in WIDGET_KINDS:
        assert json.dumps({"const": kind})[1:-1] in text
    assert json.dumps(sorted(FORMATS)) in json.dumps(
        sorted(schema["$defs"]["ColumnSpec"]["properties"]["format"]["anyOf"][0]["enum"])
    )
    assert schema["properties"]["refresh"]["default"] == "2s"


def test_schema_file_in_docs_is_up_to_date(tmp_path: Path) -> None:
    """docs/layout.schema.json (what shipped layouts point editors at) is what `schema` prints."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_command.render(), (
        "regenerate it: statdash schema -o docs/layout.schema.json"
    )
    out = tmp_path / "s.json"
    assert run_command(schema_command, ["-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema_command.render()
