"""Secrets stay secret and transport choices stay explicit, checked end to end.

API keys, client secrets and bearer tokens must appear nowhere a user or another user of the
jump host could read them: the terminal (tracebacks included, which Textual prints with
local variables), the logs at DEBUG, the state directory, `statdash snapshot` output. Plain
http to a remote host is refused, and disabling TLS verification stays visible.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from statdash.api.auth import ClientCredentials
from statdash.live.session import Phase
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.reliability.support import LiveRun
from tests.support.sim import SIM_START, open_subscriptions, serve
from tests.support.terminal import ALT_SCREEN_OFF, PtyApp, child_environment

API_KEY = "k3y-0f-the-supervisor-7f1c"
CLIENT_ID = "statdash-floor"
CLIENT_SECRET = "s3cret-of-the-client-92ab"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
SECRETS = (API_KEY, CLIENT_SECRET, BASIC)
LAYOUT = """
title: Secrets
refresh: 1s
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva, ben.novak]
        columns: [{stat: InboundCalls, label: Calls}, {stat: NoSuchStatistic, label: Refused}]
"""
# Test-only, loaded by the child through PYTHONPATH: once the trigger file exists the app's
# tick raises, so Textual prints its traceback with local variables onto the terminal.
CRASH_HOOK = """
import os
import statdash.ui.app as app_module

_tick = app_module.StatdashApp._tick


def _failing_tick(self):
    if os.path.exists(os.environ["RELIABILITY_CRASH_FILE"]):
        raise RuntimeError("injected failure with credentials in scope")
    _tick(self)


app_module.StatdashApp._tick = _failing_tick
"""
SIM_CONFIG = SimConfig(
    agents=10,
    queues=2,
    seed=4,
    clock="manual",
    start_time=SIM_START,
    api_key=API_KEY,
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    token_ttl=2.0,  # tokens expire and are refreshed during the test
)


@pytest.fixture
def secure_sim() -> Iterator[RunningSimulator]:
    """A simulator that wants the API key and client-credentials tokens."""
    with serve(SIM_CONFIG) as simulator:
        yield simulator
        assert open_subscriptions(simulator) == {}


def secret_env(home: Path, *, hooks: tuple[Path, ...] = (), **extra: str) -> dict[str, str]:
    """A child environment holding every credential, as a supervisor would set them."""
    return child_environment(
        home,
        {
            "STATDASH_API_KEY": API_KEY,
            "STATDASH_CLIENT_ID": CLIENT_ID,
            "STATDASH_CLIENT_SECRET": CLIENT_SECRET,
            **extra,
        },
        hooks=hooks,
    )


def leaks(data: bytes | str, extra: tuple[str, ...] = ()) -> list[str]:
    """The secrets (and `extra` values) found in `data`."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [secret for secret in (*SECRETS, *extra) if secret in text]


def test_secrets_reach_neither_the_terminal_nor_the_state_directory(
    secure_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Through token refreshes, revoked tokens, failed polls and finally a crash whose
    traceback shows local variables, no credential is written to the terminal or the state
    directory."""
    layout = tmp_path / "secrets.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK, encoding="utf-8")
    trigger = tmp_path / "crash-now"
    env = secret_env(tmp_path, hooks=(hook,), RELIABILITY_CRASH_FILE=str(trigger))
    # Polling: the failed polls and their token refreshes are part of what is checked.
    app = PtyApp(["run", str(layout), "--url", secure_sim.base_url, "--updates", "poll"], env)
    try:
        app.wait_for(lambda: b"live" in app.output, "the dashboard to be live")
        issued = secure_sim.state()["tokens_issued"]
        secure_sim.set_faults(revoke_tokens=True, fail_next={"peek": 1})
        app.wait_for(lambda: secure_sim.state()["tokens_issued"] >= issued + 2, "new tokens")
        trigger.touch()
        assert app.wait_exit() == 1
        app.finish_output()
    finally:
        app.close()
    output = app.output
    traceback = output[output.rfind(ALT_SCREEN_OFF) :]
    assert b"injected failure with credentials in scope" in traceback
    assert b"locals" in traceback  # Textual's traceback shows local variables
    assert leaks(output) == []
    assert b"Bearer " not in output and b"Basic " not in output
    state_files = [path for path in (tmp_path / "state").rglob("*") if path.is_file()]
    assert state_files
    for path in state_files:
        assert leaks(path.read_bytes()) == [], path


class TokenSpy(httpx.AsyncHTTPTransport):
    """A real transport that remembers every token the server hands out."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/oauth/token"):
            body = await response.aread()
            try:
                reply = httpx.Response(200, content=body).json()
            except ValueError:
                reply = None
            if isinstance(reply, dict):
                self.tokens.extend(
                    value
                    for key in ("access_token", "refresh_token")
                    if isinstance(value := reply.get(key), str)
                )
        return response


async def test_secrets_never_reach_the_logs(
    secure_sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, through expiring and revoked tokens, token endpoint failures, garbled token
    replies and failed polls, no log record holds the API key, client secret or any token."""
    caplog.set_level(logging.DEBUG)
    spy = TokenSpy()
    grant = ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    async with LiveRun(secure_sim, auth=grant, api_key=API_KEY, transport=spy) as run:
        await run.live_with(polls=2)
        faults: list[dict[str, object]] = [
            {"revoke_tokens": True},
            {"fail_next": {"token": 1, "peek": 1}, "revoke_tokens": True},
            {"malformed": {"token": {"kind": "bad_values", "count": 1}}, "revoke_tokens": True},
            {"malformed": {"peek": {"kind": "invalid_json", "count": 1}}},
        ]
        for fault in faults:
            secure_sim.set_faults(**fault)
            await run.live_with(polls=run.status.polls + 2)
        assert run.status.phase is Phase.LIVE
        assert run.status.error_count >= 2
    # Initial grant, renewals after revocation, refreshes as 2 s tokens expire.
    assert len(spy.tokens) >= 6
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    assert leaks(caplog.text, tuple(spy.tokens)) == []
    for record in caplog.records:
        assert leaks(record.getMessage(), tuple(spy.tokens)) == [], record.getMessage()


def test_snapshot_output_holds_no_secret(secure_sim: RunningSimulator, tmp_path: Path) -> None:
    """`statdash snapshot`, in every format and when the server refuses the key, prints no
    credential on stdout or stderr."""
    layout = tmp_path / "secrets.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    runs = [(["--format", fmt], secret_env(tmp_path)) for fmt in ("table", "json", "csv")]
    runs.append(([], {**secret_env(tmp_path), "STATDASH_API_KEY": API_KEY[::-1]}))
    for extra, env in runs:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "statdash",
                "snapshot",
                str(layout),
                "--url",
                secure_sim.base_url,
                *extra,
            ],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode in (0, 1, 3), done.stderr
        assert leaks(done.stdout + done.stderr, (API_KEY[::-1],)) == [], extra
    assert open_subscriptions(secure_sim) == {}


def test_plain_http_to_a_remote_host_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """`statdash run` with an http:// URL of a non-loopback host exits 2 with a message that
    names the fix (https or --allow-http) and no secret, before any connection."""
    layout = tmp_path / "secrets.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "statdash", "run", str(layout), "--url", "http://192.0.2.7:8080"],
        env=secret_env(tmp_path),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    message = done.stderr.decode()
    assert "refusing to send credentials over plain http to 192.0.2.7" in message
    assert "--allow-http" in message
    assert leaks(done.stdout + done.stderr) == []


def test_insecure_run_and_readable_config_are_flagged(
    secure_sim: RunningSimulator, tmp_path: Path
) -> None:
    """A config file with secrets that others can read gets a warning, and --insecure keeps a
    'TLS NOT VERIFIED' mark on screen; neither shows the secret."""
    layout = tmp_path / "secrets.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    config = tmp_path / "config" / "statdash" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[server]\napi_key = "{API_KEY}"\n', encoding="utf-8")
    os.chmod(config, 0o644)
    env = child_environment(
        tmp_path, {"STATDASH_CLIENT_ID": CLIENT_ID, "STATDASH_CLIENT_SECRET": CLIENT_SECRET}
    )
    app = PtyApp(["run", str(layout), "--url", secure_sim.base_url, "--insecure"], env)
    try:
        app.wait_for(lambda: b"live" in app.output, "the dashboard to be live")
        app.wait_for(lambda: b"TLS NOT VERIFIED" in app.output, "the insecure mark")
        app.send(b"q")
        assert app.wait_exit() == 0
        app.finish_output()
    finally:
        app.close()
    output = app.output
    assert b"holds secrets but other users can read it; run: chmod 600" in output
    assert leaks(output) == []
