"""Server settings: what a URL typed without a scheme means, and the API key checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.api.errors import ConfigError
from statdash.api.settings import require_credentials, resolve_settings


def _resolve(url: str, tmp_path: Path, **flags: str) -> str:
    config = tmp_path / "none.toml"
    config.write_text("", encoding="utf-8")
    settings = resolve_settings({"url": url, **flags}, {}, config_path=config, warn=None)
    return settings.url


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("127.9.8.7:8080/", "http://127.9.8.7:8080"),
        ("localhost:8080", "http://localhost:8080"),
        ("LOCALHOST", "http://LOCALHOST"),
        ("[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_a_bare_loopback_host_and_port_means_http(typed: str, meant: str, tmp_path: Path) -> None:
    """`--url 127.0.0.1:8080` (the simulator, typed in a hurry) is taken as http://."""
    assert _resolve(typed, tmp_path) == meant


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("gcxapi.example.com", "https://gcxapi.example.com"),
        ("gcxapi.example.com:8443", "https://gcxapi.example.com:8443"),
        ("10.0.0.7:8080", "https://10.0.0.7:8080"),
    ],
)
def test_a_bare_remote_host_is_refused_with_what_to_type(
    typed: str, suggested: str, tmp_path: Path
) -> None:
    """A remote host without a scheme says what is missing and what to type, never `?://?`."""
    with pytest.raises(ConfigError) as caught:
        _resolve(typed, tmp_path)
    message = str(caught.value)
    assert message == (
        f"the server URL {typed} has no scheme: type {suggested} (or http:// for a server"
        " without TLS)"
    )


def test_a_url_of_another_scheme_still_names_it(tmp_path: Path) -> None:
    """`ftp://host` is not a server URL, and the message says which scheme it had."""
    with pytest.raises(ConfigError, match=r"^not a server URL: ftp://example\.com"):
        _resolve("ftp://example.com", tmp_path)


def test_a_bare_host_with_a_password_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """`user:secret@host` typed without a scheme is refused and the secret stays out of it."""
    with pytest.raises(ConfigError) as caught:
        _resolve("bob:hunter2@127.0.0.1:8080", tmp_path)
    assert "hunter2" not in str(caught.value)


def test_require_credentials_names_every_way_to_give_a_key(tmp_path: Path) -> None:
    """Settings without an API key are refused before anything is sent, saying how to give one."""
    config = tmp_path / "none.toml"
    config.write_text("", encoding="utf-8")
    settings = resolve_settings({"url": "http://127.0.0.1:9"}, {}, config_path=config)
    with pytest.raises(ConfigError, match=r"no API key given.*STATDASH_API_KEY.*--api-key"):
        require_credentials(settings)
    keyed = resolve_settings(
        {"url": "http://127.0.0.1:9", "api_key": "k"}, {}, config_path=config, warn=None
    )
    require_credentials(keyed)
