"""Where a client finds its hub: a nats:// URL, STATDASH_HUB_*, [hub]; secrets never shown."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from statdash.api.errors import ConfigError
from statdash.api.settings import HubSettings, ServerSettings, resolve_hub_settings, wants_hub
from statdash.commands.arguments.server import add_server_arguments
from statdash.commands.server_options import resolve_endpoint
from statdash.commands.voice import Refused, Voice


def _config(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_nats_url_means_the_hub_and_needs_no_api_key(tmp_path: Path) -> None:
    """`--url nats://...` resolves to the hub's settings; no API key is asked for."""
    config = _config(tmp_path)
    args = _args("--url", "nats://127.0.0.1:4222", "--config", str(config))
    settings = resolve_endpoint(args, {}, voice=Voice("test"))
    assert isinstance(settings, HubSettings)
    assert settings.url == "nats://127.0.0.1:4222"
    assert settings.label == "hub 127.0.0.1:4222"


def test_an_https_url_still_means_the_api(tmp_path: Path) -> None:
    """A Statistics API URL is not a hub, even with a hub configured."""
    config = _config(tmp_path, '[hub]\nurl = "nats://127.0.0.1:4222"\n')
    args = _args("--url", "https://gcxapi.example.com", "--config", str(config))
    settings = resolve_endpoint(args, {"STATDASH_API_KEY": "k"}, voice=Voice("test"))
    assert isinstance(settings, ServerSettings)


def test_a_hub_in_the_config_file_is_used_when_no_server_is_given(tmp_path: Path) -> None:
    """Only [hub] set: clients go through the hub, with its token from the environment."""
    config = _config(tmp_path, '[hub]\nurl = "nats://10.0.0.5:4222"\nnamespace = "floor-2"\n')
    assert wants_hub({}, {}, config_path=config)
    settings = resolve_hub_settings({}, {"STATDASH_HUB_TOKEN": "s3cret"}, config_path=config)
    assert settings.url == "nats://10.0.0.5:4222"
    assert settings.namespace == "floor-2"
    assert settings.token == SecretStr("s3cret")
    assert "s3cret" not in repr(settings)


def test_a_nats_url_with_credentials_in_it_is_refused_without_echoing_them(
    tmp_path: Path,
) -> None:
    """A token or password in the URL would reach logs and the status line: refused."""
    with pytest.raises(ConfigError) as caught:
        resolve_hub_settings(
            {"url": "nats://bob:hunter2@127.0.0.1:4222"}, {}, config_path=_config(tmp_path)
        )
    assert "hunter2" not in str(caught.value)
    assert "STATDASH_HUB_TOKEN" in str(caught.value)


@pytest.mark.parametrize("namespace", ["a.b", "*", "x y"])
def test_a_namespace_that_would_change_the_subjects_is_refused(
    namespace: str, tmp_path: Path
) -> None:
    """The namespace becomes a subject token: dots, wildcards and spaces are refused."""
    with pytest.raises(ConfigError, match="namespace"):
        resolve_hub_settings(
            {"url": "nats://127.0.0.1:4222", "namespace": namespace},
            {},
            config_path=_config(tmp_path),
        )


def test_an_unknown_key_in_the_hub_table_is_named(tmp_path: Path) -> None:
    """A misspelt [hub] setting is a clear refusal naming the key and the table."""
    config = _config(tmp_path, '[hub]\nurl = "nats://127.0.0.1:4222"\ntokn = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key in \[hub\]: tokn"):
        resolve_hub_settings({}, {}, config_path=config)


def test_no_hub_anywhere_says_how_to_give_one(tmp_path: Path) -> None:
    """`statdash hub` without --nats names the flag, the variable and the table."""
    with pytest.raises(ConfigError, match=r"--nats.*STATDASH_HUB_URL.*\[hub\]"):
        resolve_hub_settings({}, {}, config_path=_config(tmp_path))


def test_a_missing_credentials_file_is_named(tmp_path: Path) -> None:
    """A creds file that is not there is refused before any connection."""
    with pytest.raises(Refused, match="credentials file not found"):
        resolve_endpoint(
            _args("--url", "nats://127.0.0.1:4222", "--config", str(_config(tmp_path))),
            {"STATDASH_HUB_CREDS": str(tmp_path / "missing.creds")},
            voice=Voice("test"),
        )


def test_a_command_that_needs_the_api_names_what_a_nats_url_is(tmp_path: Path) -> None:
    """check/peek/cleanup given a hub's URL: one line saying they need the API's."""
    from statdash.commands.server_options import resolve_server

    args = _args("--url", "nats://127.0.0.1:4222", "--config", str(_config(tmp_path)))
    with pytest.raises(
        Refused, match=r"check needs the Statistics API's URL.*nats:// URL is a hub"
    ):
        resolve_server(args, {}, voice=Voice("check"))
