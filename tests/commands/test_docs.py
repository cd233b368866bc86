"""docs/commands.md stays in step with the code: snapshot's fields and peek's object types."""

from __future__ import annotations

from statdash.commands.arguments.peek import OBJECT_TYPES
from statdash.commands.snapshot import FIELDS

from .conftest import ROOT

DOC = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")


def test_every_snapshot_field_is_documented() -> None:
    """Each record field of `snapshot` is named in the docs' field table."""
    assert [field for field in FIELDS if f"`{field}`" not in DOC] == []


def test_every_peek_object_type_is_listed() -> None:
    """The object types the docs list for `peek` are exactly the ones it accepts."""
    section = DOC[DOC.index("## `statdash peek`") : DOC.index("## `statdash snapshot`")]
    listed = section[section.index("`TYPE` is the API objectType:") :].split(". ")[0]
    assert [t for t in OBJECT_TYPES if t not in listed] == []
