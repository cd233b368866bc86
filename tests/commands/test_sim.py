"""The `statdash sim` command: options, the listening line, friendly errors, no secrets shown."""

from __future__ import annotations

import argparse
import io
import socket
from typing import Any

import pytest

from statdash.commands import sim as sim_command
from statdash.commands.arguments.sim import ENV_API_KEY, ENV_CLIENT_SECRET, add_arguments
from statdash.sim import runner
from statdash.sim.config import SimConfig


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def run(args: argparse.Namespace) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = sim_command.run(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the blocking server with one that records its call and is then 'Ctrl+C'ed."""
    calls: list[dict[str, Any]] = []

    def fake_serve(config: SimConfig, host: str, port: int, **kwargs: Any) -> None:
        calls.append({"config": config, "host": host, "port": port, **kwargs})
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "serve", fake_serve)
    return calls


def test_defaults_match_the_config_defaults() -> None:
    """With no options the simulator runs SimConfig's defaults on 127.0.0.1:8080."""
    args = parse()
    assert (args.host, args.port) == ("127.0.0.1", 8080)
    assert sim_command.config_from_args(args) == SimConfig()


def test_options_reach_the_config() -> None:
    """Every option lands in the matching SimConfig field."""
    config = sim_command.config_from_args(
        parse(
            "--agents",
            "200",
            "--queues",
            "12",
            "--seed",
            "9",
            "--time-scale",
            "30",
            "--manual-clock",
            "--api-key",
            "K",
            "--client-id",
            "app",
            "--client-secret",
            "S",
            "--user",
            "ACME\\ann:pw:with:colons",
            "--token-ttl",
            "60",
            "--hostile",
            "--start-time",
            "1700000000",
            "--calls-per-hour",
            "90",
            "--notification-hold",
            "3",
            "--notification-expiry",
            "9",
            "--time-driven-frequency",
            "30",
        )
    )
    assert (config.notification_hold, config.notification_expiry) == (3.0, 9.0)
    assert config.time_driven_frequency == 30.0
    assert (config.agents, config.queues, config.seed, config.time_scale) == (200, 12, 9, 30.0)
    assert (config.clock, config.api_key, config.client_id, config.client_secret) == (
        "manual",
        "K",
        "app",
        "S",
    )
    assert dict(config.users) == {"ACME\\ann": "pw:with:colons"}
    assert (config.token_ttl, config.hostile, config.start_time, config.calls_per_hour) == (
        60.0,
        True,
        1_700_000_000.0,
        90.0,
    )


def test_secrets_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API key and client secret may be given in the environment instead of argv."""
    monkeypatch.setenv(ENV_API_KEY, "env-key")
    monkeypatch.setenv(ENV_CLIENT_SECRET, "env-secret")
    config = sim_command.config_from_args(parse("--client-id", "app"))
    assert (config.api_key, config.client_secret) == ("env-key", "env-secret")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--client-id", "app"], "--client-id and --client-secret go together"),
        (
            ["--user", "nobackslash:pw", "--client-id", "a", "--client-secret", "b"],
            "--user must look like 'TENANT\\name:password'",
        ),
        (["--user", "ACME\\ann:pw"], "--user needs --client-id and --client-secret"),
        (["--agents", "0"], "agents must be between 1 and 100000"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--notification-hold", "-1"], "--notification-hold must be seconds >= 0, got -1.0"),
        (["--notification-expiry", "0"], "--notification-expiry must be seconds > 0, got 0.0"),
        (["--time-driven-frequency", "0"], "--time-driven-frequency must be seconds, more than 0"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    argv: list[str], message: str, served: list[dict[str, Any]]
) -> None:
    """Options that do not fit exit with status 2 and one readable line, and nothing starts."""
    code, out, err = run(parse(*argv))
    assert out == ""
    assert code == 2
    assert message in err
    assert err.startswith("statdash sim: error: ")
    assert "Traceback" not in err
    assert served == []


def test_listening_line_and_clean_stop(served: list[dict[str, Any]]) -> None:
    """It prints where it listens (loopback only), serves, and stops cleanly on Ctrl+C."""
    code, out, err = run(
        parse(
            "--port",
            "0",
            "--agents",
            "20",
            "--queues",
            "3",
            "--seed",
            "4",
            "--api-key",
            "TOPSECRETKEY",
            "--client-id",
            "app",
            "--client-secret",
            "TOPSECRETPASS",
        )
    )
    assert code == 0
    port = served[0]["port"]
    assert out.splitlines()[0] == (
        f"statdash simulator listening on http://127.0.0.1:{port}/statistics/v3 "
        "(agents 20, queues 3, seed 4); loopback only"
    )
    assert out.splitlines()[-1] == "statdash simulator stopped"
    assert "TOPSECRET" not in out + err
    assert err == ""


def test_port_in_use_is_a_friendly_error(served: list[dict[str, Any]]) -> None:
    """A taken port exits with status 1 and a hint, not a traceback."""
    taken = runner.bind("127.0.0.1", 0)
    try:
        code, _, err = run(parse("--port", str(taken.getsockname()[1])))
    finally:
        taken.close()
    assert code == 1
    assert "already in use" in err and "--port 0" in err
    assert "Traceback" not in err
    assert served == []


def test_non_loopback_address_warns(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    """Binding beyond loopback says so on the listening line and warns on stderr."""
    real_bind = runner.bind

    def loopback_instead(host: str, port: int) -> socket.socket:
        return real_bind("127.0.0.1", 0)  # the test itself stays on loopback

    monkeypatch.setattr(runner, "bind", loopback_instead)
    code, out, err = run(parse("--host", "0.0.0.0", "--port", "0"))
    assert code == 0
    assert out.splitlines()[0].endswith("; REACHABLE FROM OTHER MACHINES")
    assert "warning: 0.0.0.0 is not a loopback address" in err
