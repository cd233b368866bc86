"""docs/simulator.md stays in step with the code: every statistic, definition and fault is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.sim import catalog, faults

DOC = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(catalog.PREDEFINED))
def test_every_predefined_statistic_is_documented(name: str) -> None:
    """Each predefined name has a catalogue row with its object types and unit."""
    entry = catalog.PREDEFINED[name]
    row = f"| `{name}` | {', '.join(entry.object_types)} | {entry.unit} |"
    assert row in DOC


@pytest.mark.parametrize("row", catalog.ADHOC, ids=lambda r: f"{r.category}-{r.subjects[0]}")
def test_every_ad_hoc_combination_is_documented(row: catalog.AdHoc) -> None:
    """Each supported category/subject combination has a row listing its object types."""
    prefix = f"| {row.category} | {', '.join(row.subjects)} | {', '.join(row.object_types)} |"
    assert prefix in DOC


def test_every_fault_field_kind_and_operation_is_documented() -> None:
    """The faults section names every field, malformed kind and operation the API accepts."""
    for word in (
        *faults.FIELDS,
        *faults.MALFORMED_KINDS,
        *faults.PUSH_MALFORMED_KINDS,
        *faults.OPERATIONS,
    ):
        assert f"`{word}`" in DOC, word
