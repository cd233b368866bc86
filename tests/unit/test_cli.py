"""Tests for the command line: dispatch, friendly refusals before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.cli import main

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


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
