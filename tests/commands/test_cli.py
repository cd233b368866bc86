"""Tests for the command line: dispatch, friendly refusals before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from statdash.cli import main

from .conftest import LAYOUTS, ROOT, Result, spawn


def test_no_arguments_says_how_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    """Bare `statdash` prints the commands and points at `statdash demo`, exit 2."""
    assert main([]) == 2
    assert "statdash demo" in capsys.readouterr().err


def test_unknown_theme_is_refused_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt --theme is refused before any server is contacted, with a did-you-mean."""
    code = main(
        ["run", str(LAYOUTS / "demo.yaml"), "--url", "http://127.0.0.1:9", "--theme", "ansi-drak"]
    )
    assert code == 2
    assert "did you mean 'ansi-dark'" in capsys.readouterr().err


def test_broken_layout_is_refused_before_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` with a bad layout prints file:line problems and exits 2 without starting."""
    layout = tmp_path / "bad.yaml"
    layout.write_text("title: x\npages:\n  - widgets: [{kind: agnets}]\n")
    assert main(["run", str(layout), "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert f"{layout}:3:" in err and "nothing was started" in err


def test_a_fifo_as_the_layout_is_refused_before_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run pipe.yaml` on a FIFO names what it is and exits 2, instead of blocking at start."""
    layout = tmp_path / "pipe.yaml"
    os.mkfifo(layout)
    assert main(["run", str(layout), "--url", "http://127.0.0.1:9"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{layout}: this is a FIFO (named pipe), not a file"
    assert "nothing was started" in lines[-1] and len(lines) == 2


def test_run_without_a_server_says_where_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`run` with no URL anywhere names --url, STATDASH_URL and the config file."""
    monkeypatch.delenv("STATDASH_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["run", str(LAYOUTS / "demo.yaml")]) == 2
    assert "--url URL" in capsys.readouterr().err


def test_run_without_an_api_key_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without an API key, `run` stops with a message instead of a wall of 403s."""
    monkeypatch.delenv("STATDASH_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["run", str(LAYOUTS / "demo.yaml"), "--url", "http://127.0.0.1:9"]) == 2
    assert "no API key" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["sim", "--help"]], ids=["help", "sim"])
def test_help_and_the_simulator_start_without_textual(argv: list[str]) -> None:
    """`statdash --help` and `statdash sim` never import Textual: it costs ~170 ms to load."""
    program = (
        "import sys\n"
        "from statdash.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'textual'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=60,
    )
    assert done.stdout.splitlines()[-1] == "[]"


# Each server command with what it prints before a settings problem, and its exit status.
# Every command speaks as `statdash COMMAND: ...`, whatever went wrong.
SERVER_COMMANDS = {
    "run": (["run", str(LAYOUTS / "demo.yaml")], "statdash run: ", 2),
    "snapshot": (["snapshot", str(LAYOUTS / "demo.yaml")], "statdash snapshot: ", 2),
    "check": (["check", str(LAYOUTS / "demo.yaml")], "statdash check: ", 1),
    "peek": (["peek", "CurrentAgentState", "Agent:ana.silva"], "statdash peek: ", 2),
    "cleanup": (["cleanup"], "statdash cleanup: ", 2),
}


@pytest.mark.parametrize("command", sorted(SERVER_COMMANDS))
def test_a_bare_remote_host_says_what_to_type(command: str, cli: Callable[..., Result]) -> None:
    """`--url host` without a scheme gets one line saying what to type, in every command."""
    argv, prefix, code = SERVER_COMMANDS[command]
    result = cli(*argv, "--url", "gcxapi.example.com")
    assert (result.code, result.out) == (code, "")
    assert result.err == (
        f"{prefix}the server URL gcxapi.example.com has no scheme: type"
        " https://gcxapi.example.com (or http:// for a server without TLS)\n"
    )


# The commands that need a key before they can do anything (cleanup with nothing recorded
# needs none).
KEYED_COMMANDS = ("check", "peek", "run", "snapshot")


@pytest.mark.parametrize("command", KEYED_COMMANDS)
def test_a_missing_api_key_is_said_before_anything_else(
    command: str, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an API key the first and only output is how to give one (no "OK" before it)."""
    monkeypatch.delenv("STATDASH_API_KEY")
    argv, prefix, code = SERVER_COMMANDS[command]
    result = cli(*argv, "--url", "http://127.0.0.1:9")
    assert (result.code, result.out) == (code, "")
    assert result.err == (
        f"{prefix}no API key given: set STATDASH_API_KEY, put api_key in the config file,"
        " or pass --api-key\n"
    )


@pytest.fixture
def not_a_certificate(tmp_path: Path) -> Path:
    """A file given as --ca-bundle that exists but holds no certificate."""
    path = tmp_path / "notacert.pem"
    path.write_text("this is not a certificate\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", sorted(SERVER_COMMANDS))
def test_unusable_ca_bundle_is_one_line_naming_the_file(
    command: str, not_a_certificate: Path, cli: Callable[..., Result]
) -> None:
    """A --ca-bundle holding no certificate is one line naming the file, no traceback."""
    argv, prefix, code = SERVER_COMMANDS[command]
    result = cli(*argv, "--url", "http://127.0.0.1:9", "--ca-bundle", str(not_a_certificate))
    assert result.code == code
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"{prefix}cannot load CA bundle {str(not_a_certificate)!r}: ")


@pytest.mark.parametrize("command", sorted(SERVER_COMMANDS))
def test_missing_ca_bundle_is_one_line_naming_the_file(
    command: str, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """A --ca-bundle that does not exist is one line naming the path, no traceback."""
    argv, prefix, code = SERVER_COMMANDS[command]
    missing = tmp_path / "missing.pem"
    result = cli(*argv, "--url", "http://127.0.0.1:9", "--ca-bundle", str(missing))
    assert result.code == code
    assert result.err.splitlines() == [f"{prefix}CA bundle not found: {missing}"]


def test_run_with_an_unusable_ca_bundle_exits_2_without_a_traceback(
    not_a_certificate: Path,
) -> None:
    """The installed entry point, too, turns a bad CA bundle into one line and exit 2."""
    child = spawn(
        "run",
        str(LAYOUTS / "demo.yaml"),
        "--url",
        "http://127.0.0.1:9",
        "--api-key",
        "k",
        "--ca-bundle",
        str(not_a_certificate),
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 2
    assert out == ""
    assert err.startswith(f"statdash run: cannot load CA bundle {str(not_a_certificate)!r}: ")
    assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", sorted(SERVER_COMMANDS))
def test_a_url_that_cannot_be_split_is_one_line(command: str, cli: Callable[..., Result]) -> None:
    """`--url 'http://[::1'` is one line with urlsplit's reason, in every command."""
    argv, prefix, code = SERVER_COMMANDS[command]
    result = cli(*argv, "--url", "http://[::1")
    assert (result.code, result.out) == (code, "")
    assert result.err == (
        f"{prefix}not a server URL (Invalid IPv6 URL); type e.g. https://gcxapi.example.com\n"
    )


@pytest.mark.parametrize("command", KEYED_COMMANDS)
def test_a_config_url_that_is_a_list_is_one_line(
    command: str, cli: Callable[..., Result], tmp_path: Path
) -> None:
    """`url = ["x"]` in config.toml is one line naming the file and the key, in every command
    that reads the settings (cleanup with nothing recorded reads none)."""
    argv, prefix, code = SERVER_COMMANDS[command]
    config = tmp_path / "config" / "statdash" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[server]\nurl = ["x"]\n', encoding="utf-8")
    # `check` reads the server settings only when asked to check on a server.
    result = cli(*argv, *(["--url", "http://127.0.0.1:9"] if command == "check" else []))
    assert (result.code, result.out) == (code, "")
    assert result.err == (
        f'{prefix}{config}: [server] url must be text in quotes (key = "..."), not a list\n'
    )


def test_the_hub_without_its_extra_says_what_to_install() -> None:
    """`statdash hub` where nats-py is not installed: one line naming the extra, exit 2."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['nats'] = None\n"
        "from statdash.cli import main\n"
        "raise SystemExit(main(['hub', '--url', 'http://127.0.0.1:9', '--nats', 'nats://x']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == 'statdash hub: needs the hub extra: pip install "statdash[hub]"\n'
