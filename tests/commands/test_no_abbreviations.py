"""No command takes an abbreviated option: a prefix of a long option is refused, exit 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from statdash.cli import COMMANDS, build_parser, main

from .conftest import LAYOUTS

# A layout that does not exist: with abbreviations accepted, each command would refuse it
# with exit status 2 through its return value, never start, and never reach the network.
MISSING = str(LAYOUTS / "no-such-layout.yaml")
URL = "http://127.0.0.1:9"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    choices: dict[str, argparse.ArgumentParser] = actions[0].choices
    return choices


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_parser_refuses_abbreviations(command: str) -> None:
    """The top-level parser and each command's own parser have allow_abbrev off."""
    parser = build_parser(command)
    assert parser.allow_abbrev is False
    assert _subparsers(parser)[command].allow_abbrev is False


@pytest.mark.parametrize(
    ("argv", "abbreviated"),
    [
        # The two: a prefix of --records silently took the file name (watch now
        # has --record of its own, so its prefix of both is refused).
        (["watch", MISSING, "--url", URL, "--reco", "{tmp}/F"], "--reco"),
        (["snapshot", MISSING, "--url", URL, "--record", "{tmp}/F"], "--record"),
        (["run", MISSING, "--url", URL, "--them", "ansi-dark"], "--them"),
        (["serve", MISSING, "--url", URL, "--max-view", "3"], "--max-view"),
        (["check", MISSING, "--ur", URL], "--ur"),
        (["peek", "CurrentAgentState", "Agent:x", "--url", URL, "--form", "json"], "--form"),
        (["replay", "{tmp}/x.sqlite", "--spe", "2"], "--spe"),
        (["--vers"], "--vers"),
    ],
)
def test_an_abbreviated_option_is_refused(
    argv: list[str],
    abbreviated: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An abbreviation exits 2 before anything starts, naming the option it did not know,
    and writes no file."""
    words = [word.replace("{tmp}", str(tmp_path)) for word in argv]
    with pytest.raises(SystemExit) as stopped:
        main(words)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {abbreviated}" in err
    assert list(tmp_path.iterdir()) == []
