"""The first hour at the command line (issue 22): what `--help` says and what the demo opens on."""

from __future__ import annotations

import re

import pytest

from statdash.cli import build_parser, main
from statdash.commands import watch
from statdash.commands.arguments.demo import DEMO_WARM_UP
from statdash.commands.demo import simulator_config


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """`statdash COMMAND --help`, its words joined by single spaces."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_the_demo_opens_half_an_hour_into_the_shift() -> None:
    """`statdash demo` runs its simulator with a 30-minute warm-up unless told otherwise."""
    args = build_parser("demo").parse_args(["demo"])
    config = simulator_config(args)
    assert config.warm_up == DEMO_WARM_UP == 1800
    args = build_parser("demo").parse_args(["demo", "--warm-up", "0", "--seed", "3"])
    assert (simulator_config(args).warm_up, simulator_config(args).seed) == (0, 3)


def test_demo_help_gives_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --help` says the time scale's and the warm-up's defaults."""
    text = help_text("demo", capsys)
    assert "--time-scale X simulated seconds per real second (default 1)" in text
    assert "--warm-up SECONDS" in text and "(default 1800" in text


def test_sim_help_offers_a_warm_up(capsys: pytest.CaptureFixture[str]) -> None:
    """`statdash sim --warm-up` exists and says its default."""
    assert "--warm-up SECONDS" in help_text("sim", capsys)


def test_run_help_ends_with_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """`run --help` has the exit-status epilogue the other commands have."""
    text = help_text("run", capsys)
    assert "Exit status: 0 you quit" in text
    assert " 1 the server was never reached" in text and " 2 bad layout" in text


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "


def test_watch_lines_start_with_the_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Once `watch` runs, an alert event on stdout and a line on stderr start with the time."""
    watch._print("ALARM raised: Waiting ≥ 6 on Sales (Queue 8001@SIP_Switch)")
    watch.SESSION_VOICE.say("stopping (SIGTERM)")
    captured = capsys.readouterr()
    assert re.fullmatch(
        STAMP + r"ALARM raised: Waiting ≥ 6 on Sales \(Queue 8001@SIP_Switch\)\n", captured.out
    )
    assert re.fullmatch(STAMP + r"statdash watch: stopping \(SIGTERM\)\n", captured.err)
