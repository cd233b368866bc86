"""NATS credentials: taken from the settings, refused in one line, never shown anywhere."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from statdash.api import errors
from statdash.api.settings import HubSettings
from statdash.hub.connection import close, connect
from statdash.hub.natsd import LocalNats, running_nats
from statdash.layout.shipped import layouts_dir
from tests.support.nats import require_nats_server
from tests.support.terminal import child_environment

TOKEN = "s3cret-hub-token-7Q"
WRONG = "wrong-hub-token-9Z"


@pytest.fixture(scope="module")
def guarded() -> Iterator[LocalNats]:
    """A nats-server that wants a token."""
    require_nats_server()
    with running_nats(token=TOKEN) as server:
        yield server


async def test_the_token_from_the_settings_is_what_connects(guarded: LocalNats) -> None:
    """The right token connects; a wrong one is refused in words that show neither."""
    client = await connect(HubSettings(url=guarded.url, token=SecretStr(TOKEN)), name="test")
    await close(client)
    with pytest.raises(errors.ConnectError) as refused:
        await connect(HubSettings(url=guarded.url, token=SecretStr(WRONG)), name="test")
    said = f"{refused.value} {refused.value.reason}"
    assert "refused the credentials" in said or "authorization" in said.lower()
    assert TOKEN not in said and WRONG not in said


def test_a_snapshot_with_a_wrong_token_says_so_and_shows_no_secret(
    guarded: LocalNats, tmp_path: Path
) -> None:
    """`snapshot --url nats://` with a wrong STATDASH_HUB_TOKEN: one line, no token, no
    traceback, a failing exit status."""
    env = child_environment(tmp_path, {"STATDASH_HUB_TOKEN": WRONG})
    layout = str(layouts_dir() / "supervisor.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "statdash", "snapshot", layout, "--url", guarded.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert WRONG not in output and TOKEN not in output
    assert "NATS" in done.stderr and done.stderr.count("\n") == 1, done.stderr
