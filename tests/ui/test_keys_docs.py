"""docs/commands.md and the README name the dashboard's keys, escape among them."""

from __future__ import annotations

from pathlib import Path

from statdash.ui.keys import KEY_ACTIONS, key_label

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def keys_section() -> str:
    start = COMMANDS.index("## `statdash run` and `statdash demo`: the dashboard's keys")
    return COMMANDS[start : COMMANDS.index("\n## ", start + 1)]


def test_every_key_is_in_the_commands_doc() -> None:
    """Each key of the key table is named in docs/commands.md's table of keys."""
    section = keys_section()
    assert [k.keys for k in KEY_ACTIONS if f"`{key_label(k.keys)}`" not in section] == []


def test_escape_clearing_the_filter_is_documented() -> None:
    """The docs and the README say that escape clears the filter."""
    row = next(line for line in keys_section().splitlines() if line.startswith("| `escape`"))
    assert "clear the filter" in row
    assert "`escape` clears it" in README
