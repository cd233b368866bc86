"""`statdash serve` refuses, before it listens, every option a viewer's `run` would refuse."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statdash.cli import invoke
from statdash.commands import serve
from statdash.commands.arguments.serve import add_arguments
from statdash.sim.runner import RunningSimulator

from .conftest import LAYOUTS, Result, spawn

WALLBOARD = str(LAYOUTS / "wallboard.yaml")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something else listens on: a serve that got as far as listening there
    fails with "cannot listen", never serves."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_misspelt_updates_mode_is_refused_before_listening(simulator: RunningSimulator) -> None:
    """`serve --updates pushh` exits 2 naming the bad value and prints no URL: nothing ever
    listened, so no browser can get "Application failed to start"."""
    process = spawn(
        "serve", WALLBOARD, "--url", simulator.base_url, "--port", "0", "--updates", "pushh"
    )
    try:
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2
    assert out == ""
    assert "invalid choice: 'pushh'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("updates", "pushh", "argument --updates: invalid choice: 'pushh'"),
        ("theme", "ansi-drak", "unknown theme 'ansi-drak'"),
    ],
)
def test_what_a_viewers_run_refuses_serve_refuses_in_one_line(
    option: str,
    value: str,
    said: str,
    taken_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A value that reaches a viewer's command line but that `run` would refuse (here put
    past serve's own parser on purpose) is refused by serve with run's own words: one line,
    exit 2, before it tries to listen."""
    args = parse(WALLBOARD, "--url", "http://127.0.0.1:9", "--port", str(taken_port))
    setattr(args, option, value)
    assert invoke("serve", serve.run, args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("statdash serve: ")
    assert said in captured.err
    assert "cannot listen" not in captured.err


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--ca-bundle", "{tmp}/notacert.pem"], "cannot load CA bundle "),
        (["--username", "T\\ana", "--password", "p"], "the password grant needs --client-id"),
    ],
)
def test_settings_only_a_client_refuses_are_refused_before_listening(
    flags: list[str],
    said: str,
    tmp_path: Path,
    taken_port: int,
    cli: Callable[..., Result],
) -> None:
    """Settings that `run` refuses only when it builds its client (a CA bundle holding no
    certificate, a password grant without a client) are one line, exit 2, before listening."""
    (tmp_path / "notacert.pem").write_text("this is not a certificate\n", encoding="utf-8")
    words = [flag.replace("{tmp}", str(tmp_path)) for flag in flags]
    url = ["--url", "http://127.0.0.1:9", "--port", str(taken_port)]
    result = cli("serve", WALLBOARD, *url, *words)
    assert (result.code, result.out) == (2, "")
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"statdash serve: {said}")
