"""Server flags, environment and config file: precedence, URL safety, no secrets in messages."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from statdash.api.settings import ServerSettings, is_loopback
from statdash.commands.arguments.server import add_server_arguments
from statdash.commands.server_options import resolve_server as _resolve_server
from statdash.commands.voice import Refused, Voice


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    return parser.parse_args(list(argv))


def resolve_server(
    args: argparse.Namespace, environ: dict[str, str], *, warn: bool = True
) -> ServerSettings:
    """The settings as a command resolves them, the API key aside (tested on its own)."""
    return _resolve_server(args, environ, voice=Voice("test"), warn=warn, credentials=False)


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    """Each setting comes from the flag, else the environment, else the config file."""
    config = _write(
        tmp_path / "c.toml",
        '[server]\nurl = "https://file.example"\napi_key = "file-key"\nclient_id = "file-id"\n',
    )
    env = {"STATDASH_API_KEY": "env-key", "STATDASH_CLIENT_ID": "env-id"}
    settings = resolve_server(_args("--config", str(config), "--client-id", "flag-id"), env)
    assert settings.url == "https://file.example"
    assert settings.credentials.api_key == SecretStr("env-key")
    assert settings.credentials.client_id == "flag-id"


def test_missing_url_says_how_to_start(tmp_path: Path) -> None:
    """Without any URL the error names the three ways to give one and the demo."""
    with pytest.raises(Refused, match=r"--url URL.*STATDASH_URL.*statdash demo"):
        resolve_server(_args("--config", str(_write(tmp_path / "c.toml", ""))), {})


def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    """Credentials are not sent over http:// to a non-loopback host without --allow-http."""
    with pytest.raises(Refused, match="plain http"):
        resolve_server(_args("--url", "http://stats.example.com"), {}, warn=False)
    allowed = resolve_server(
        _args("--url", "http://stats.example.com", "--allow-http"), {}, warn=False
    )
    assert allowed.url == "http://stats.example.com"
    assert resolve_server(_args("--url", "http://127.0.0.1:8080/"), {}).url == (
        "http://127.0.0.1:8080"
    )


def test_url_with_embedded_password_is_refused_without_echoing_it() -> None:
    """A user:password in the URL is rejected and the password is not in the message."""
    with pytest.raises(Refused) as caught:
        resolve_server(_args("--url", "https://bob:hunter2@stats.example.com"), {})
    assert "hunter2" not in str(caught.value)


def test_secrets_are_masked_in_repr() -> None:
    """No repr of the settings shows a secret."""
    settings = resolve_server(
        _args("--url", "https://x.example", "--api-key", "k-123", "--token", "t-456"), {}
    )
    text = repr(settings)
    assert "k-123" not in text and "t-456" not in text
    assert settings.credentials.api_key is not None
    assert settings.credentials.api_key.get_secret_value() == "k-123"


def test_world_readable_config_with_secrets_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config file holding secrets that others can read gets a chmod warning."""
    body = '[server]\nurl = "https://x.example"\ntoken = "s3"\n'
    config = _write(tmp_path / "c.toml", body, 0o644)
    resolve_server(_args("--config", str(config)), {})
    err = capsys.readouterr().err
    assert err.startswith("statdash test: warning: ") and "chmod 600" in err and "s3" not in err


def test_unknown_config_keys_and_bad_toml_are_reported(tmp_path: Path) -> None:
    """Typos and syntax errors in the config file are named with the file."""
    bad_key = _write(tmp_path / "a.toml", '[server]\nurll = "x"\n')
    with pytest.raises(Refused, match=r"unknown key in \[server\]: urll$"):
        resolve_server(_args("--config", str(bad_key)), {})
    bad_toml = _write(tmp_path / "b.toml", "[server\n")
    with pytest.raises(Refused, match="cannot read config file"):
        resolve_server(_args("--config", str(bad_toml)), {})


def test_insecure_and_ca_bundle(tmp_path: Path) -> None:
    """--insecure turns verification off; a CA bundle must exist."""
    assert resolve_server(_args("--url", "https://x.example", "--insecure"), {}).verify is False
    with pytest.raises(Refused, match="CA bundle not found"):
        resolve_server(_args("--url", "https://x.example", "--ca-bundle", "/nope.pem"), {})


def test_label_shows_host_and_port_only() -> None:
    """The status line label never contains the scheme or path."""
    settings = resolve_server(_args("--url", "https://stats.example.com:8443/base"), {})
    assert settings.label == "stats.example.com:8443"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("127.0.0.5", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """Only localhost and loopback addresses count as loopback."""
    assert is_loopback(host) is expected


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('url = ["x"]', "a list"),
        ("url = 8080", "a number"),
        ("api_key = 12345", "a number"),
        ("token = true", "true/false"),
        ("username = {name = 'x'}", "a table"),
        ("password = 1979-05-27", "a date or time"),
    ],
)
def test_a_config_value_that_is_not_text_names_the_file_and_key(
    tmp_path: Path, line: str, kind: str
) -> None:
    """Every [server] setting is text: anything else is one line naming the file, the key and
    what was found (never the value, which may be a secret), not a traceback or "['x']"."""
    config = _write(tmp_path / "c.toml", f"[server]\n{line}\n")
    key = line.split(" ", 1)[0]
    with pytest.raises(Refused) as caught:
        resolve_server(_args("--config", str(config), "--url", "http://127.0.0.1:9"), {})
    assert caught.value.message == (
        f'{config}: [server] {key} must be text in quotes (key = "..."), not {kind}'
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://127.0.0.1:99999", "Port out of range 0-65535"),
        ("http://127.0.0.1:port", "Port could not be cast to integer value as 'port'"),
    ],
)
def test_a_url_python_cannot_split_is_one_line(url: str, why: str) -> None:
    """`--url 'http://[::1'` (or a port that is no port) is refused with the reason, not a
    ValueError from urlsplit at start or, for the port, later on the status line."""
    with pytest.raises(Refused) as caught:
        resolve_server(_args("--url", url), {})
    assert caught.value.message == (
        f"not a server URL ({why}); type e.g. https://gcxapi.example.com"
    )


def test_a_config_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """`--config FIFO` names what it is at once; opening it would wait for a writer for ever."""
    config = tmp_path / "c.toml"
    os.mkfifo(config)
    with pytest.raises(Refused) as caught:
        resolve_server(_args("--config", str(config), "--url", "http://127.0.0.1:9"), {})
    assert caught.value.message == (
        f"{config}: cannot read config file: it is a FIFO (named pipe), not a regular file"
    )


def test_a_config_file_that_cannot_be_entered_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config file in a folder the user cannot enter is refused naming the file.

    Tests run as root here, who can enter any folder, so the denial is made by os.stat (the
    first thing that touches the path), as chmod 000 on its folder makes it for a user.
    """
    config = _write(tmp_path / "c.toml", '[server]\nurl = "http://127.0.0.1:9"\n')
    real_stat = os.stat

    def denied(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path) == str(config):
            raise PermissionError(13, "Permission denied", str(config))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied)
    with pytest.raises(Refused) as caught:
        resolve_server(_args("--config", str(config)), {})
    assert caught.value.message == f"{config}: cannot read config file: Permission denied"
