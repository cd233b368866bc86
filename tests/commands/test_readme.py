"""The README's first hour works exactly as written, against the simulator it starts."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from statdash.sim.config import SimConfig
from tests.support.sim import serve

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
_START = README.index("## A first hour with the simulator")
SECTION = README[_START : README.index("\n## ", _START + 1)]
# The section's indented blocks: the walkthrough's commands, one per line, in order.
COMMANDS = [
    line.strip()
    for block in re.findall(r"\n\n((?:    .*\n)+)", SECTION)
    for line in block.splitlines()
]
START = "statdash sim --port 8080 --agents 50 --queues 5 &"
# Commands a test cannot run as written: the simulator (started below, on a free port, with
# the same sizes) and the full-screen dashboard (tested through the pilot elsewhere).
NOT_HERE = (START, "statdash run ")


def test_the_walkthrough_starts_the_simulator_it_is_written_for() -> None:
    """The first command starts the 50-agent simulator the rest of the walkthrough expects."""
    assert COMMANDS[0] == START


def test_every_command_of_the_walkthrough_works_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each command, run by a shell as typed (globs, pipes, the exported key), does what the
    README says: exit 0, except floor.yaml's check, which says which simulator it needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATDASH_")}
    statdash = f"{shlex.quote(sys.executable)} -m statdash"
    ran = []
    with serve(SimConfig(agents=50, queues=5, clock="manual")) as sim:
        for command in COMMANDS:
            if command.startswith(NOT_HERE):
                continue
            export = re.fullmatch(r"export (\w+)=(\S+)", command)
            if export:
                env[export[1]] = export[2]
                continue
            line = command.replace("127.0.0.1:8080", f"127.0.0.1:{sim.port}")
            line = re.sub(r"^statdash ", f"{statdash} ", line)
            line = re.sub(r"^python ", f"{shlex.quote(sys.executable)} ", line)
            if command.startswith("curl ") and shutil.which("curl") is None:
                continue
            # A statdash command's own status counts, also through `| head`.
            pipefail = ["-o", "pipefail"] if command.startswith("statdash ") else []
            done = subprocess.run(
                ["bash", *pipefail, "-c", line],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=120,
            )
            ran.append(command)
            if "layouts/floor.yaml --url" in command:
                assert done.returncode == 2, (command, done.stderr)
                assert "start it with: statdash sim --agents 2000 --queues 50" in done.stderr
            else:
                assert done.returncode == 0, (command, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
        assert sim.state()["open_subscriptions"] == 0
    assert any(c.startswith("statdash snapshot") for c in ran)
    assert any(c.startswith("statdash peek") for c in ran)
    assert any(c.startswith("statdash cleanup") for c in ran)
    assert any("client_tour.py" in c for c in ran)
