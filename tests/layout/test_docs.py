"""docs/layouts.md stays true: every YAML example is a valid layout, every widget kind has
one, and the table of agent state styles is the one the dashboard uses."""

from __future__ import annotations

import re

import pytest

from statdash.layout.compile import compile_layout
from statdash.layout.formats import STATE_STYLES
from statdash.layout.loader import load_layout_text
from statdash.layout.vocabulary import OBJECT_TYPES, WIDGET_KINDS

from .conftest import ROOT

DOC = (ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_documented_example_is_a_valid_layout(index: int) -> None:
    """Each ```yaml block of the docs loads and compiles as it is written."""
    compile_layout(load_layout_text(EXAMPLES[index], file=f"docs example {index + 1}"))


def test_every_widget_kind_has_an_example() -> None:
    """The docs show a complete layout for each widget kind."""
    shown = {kind for kind in WIDGET_KINDS if any(f"kind: {kind}" in e for e in EXAMPLES)}
    assert shown == set(WIDGET_KINDS)


def test_state_table_matches_the_dashboard_defaults() -> None:
    """The documented default word, glyph and colour of each status are the formats module's."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (\S+) \| (\w+) \|$", DOC, flags=re.MULTILINE)
    documented = {status: (word.strip(), glyph, colour) for status, word, glyph, colour in rows}
    assert documented == {
        status: (style.word, style.glyph, style.colour) for status, style in STATE_STYLES.items()
    }


# The column format that shows each of the simulator's units (the first word of `unit`).
FORMAT_OF_UNIT = {"state": "state", "seconds": "duration", "count": "integer", "percent": "percent"}


def statistic_catalogue() -> str:
    """The docs' table of statistic names, made from the simulator's own definitions.

    Object kinds are the layout's words (`agent`, `queue_group`, ...), the format is the one
    that shows the statistic's unit.
    """
    from statdash.sim.catalog import PREDEFINED

    kind_of = {api: kind for kind, api in OBJECT_TYPES.items()}
    lines = [
        "| statistic | objects | format | what it is |",
        "| --- | --- | --- | --- |",
    ]
    for entry in PREDEFINED.values():
        kinds = ", ".join(f"`{kind_of[t]}`" for t in entry.object_types)
        fmt = FORMAT_OF_UNIT[entry.unit.split()[0]]
        lines.append(f"| `{entry.name}` | {kinds} | `{fmt}` | {entry.meaning} |")
    return "\n".join(lines) + "\n"


def test_statistic_catalogue_is_the_simulators() -> None:
    """The docs list every statistic name the simulator defines, with the objects it applies
    to, exactly as statdash/sim/catalog.py defines them (so the list cannot drift)."""
    expected = statistic_catalogue()
    assert expected in DOC, f"docs/layouts.md: replace the statistic table with\n\n{expected}"
