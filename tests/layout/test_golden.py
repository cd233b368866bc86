"""Golden tests: each bad layout in tests/layout/bad/ beside the exact lines a user sees.

`statdash check NAME.yaml` is run from inside bad/, and its stderr must equal NAME.expected.
After a deliberate change of wording, regenerate with STATDASH_REGENERATE_GOLDEN=1 and read
the diff: these files are the product's error messages.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from statdash.commands import check
from statdash.commands.arguments.check import add_arguments

BAD = Path(__file__).parent / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))


def run_check(name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `statdash check NAME.yaml` the way the CLI does; return (status, stdout, stderr)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    status = check.run(parser.parse_args([f"{name}.yaml"]))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("name", CASES)
def test_bad_layout_gives_exactly_the_expected_messages(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad layout exits 2, prints nothing on stdout, and prints exactly NAME.expected."""
    monkeypatch.chdir(BAD)
    status, out, err = run_check(name, capsys)
    expected_file = BAD / f"{name}.expected"
    if os.environ.get("STATDASH_REGENERATE_GOLDEN"):
        expected_file.write_text(err, encoding="utf-8")
    assert (status, out) == (2, "")
    assert err == expected_file.read_text(encoding="utf-8")


def test_every_expected_file_has_its_layout() -> None:
    """No .expected file is left without the bad layout it describes."""
    orphans = [p.name for p in BAD.glob("*.expected") if not (BAD / f"{p.stem}.yaml").exists()]
    assert orphans == []
