"""What the commands print is safe: the API key never appears, and a hostile server's
strings reach the terminal without control characters, in every format."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statdash.sim.config import SimConfig
from statdash.sim.model import HOSTILE_STRINGS
from statdash.sim.runner import RunningSimulator
from tests.support.sim import SIM_START, serve

from .conftest import API_KEY, LAYOUTS, Result

Cli = Callable[..., Result]
# C0 (but newline), DEL, C1, bidi overrides and isolates, zero-width characters, BOM.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@pytest.fixture
def keyed() -> Iterator[RunningSimulator]:
    """A demo-sized simulator that demands the test API key."""
    config = SimConfig(agents=50, queues=5, clock="manual", start_time=SIM_START, api_key=API_KEY)
    with serve(config) as sim:
        sim.advance(600)
        yield sim


@pytest.fixture
def hostile() -> Iterator[RunningSimulator]:
    """A demo-sized simulator whose reason codes and error messages are hostile strings."""
    config = SimConfig(agents=50, queues=5, clock="manual", start_time=SIM_START, hostile=True)
    with serve(config) as sim:
        # Two hours in, the seeded floor has agents paused with every control-laden reason.
        sim.advance(7200)
        yield sim


def test_api_key_never_appears_in_any_output(
    keyed: RunningSimulator, cli: Cli, records_path: Path, dead_url: str
) -> None:
    """Successes, refusals and unreachable servers: the key from the environment is never shown."""
    layout = str(LAYOUTS / "supervisor.yaml")
    runs = [
        cli(
            "snapshot",
            layout,
            "--url",
            keyed.base_url,
            "--format",
            fmt,
            "--records",
            str(records_path),
        )
        for fmt in ("table", "json", "csv")
    ]
    runs.append(
        cli(
            "peek",
            "CurrentAgentState",
            "Agent:ana.silva",
            "Agent:nobody",
            "--url",
            keyed.base_url,
            "--format",
            "json",
        )
    )
    runs.append(cli("snapshot", layout, "--url", dead_url, "--records", str(records_path)))
    runs.append(cli("peek", "X", "Agent:a", "--url", dead_url))
    with serve(SimConfig(agents=5, queues=1, api_key="another-key")) as other:
        runs.append(
            cli("snapshot", layout, "--url", other.base_url, "--records", str(records_path))
        )
        runs.append(cli("peek", "X", "Agent:a", "--url", other.base_url))
    runs.append(cli("cleanup", "--records", str(records_path)))
    assert [run.code for run in runs] == [0, 0, 0, 1, 1, 1, 1, 1, 0]
    assert "refused the credentials" in runs[6].err
    for run in runs:
        assert API_KEY not in run.out + run.err


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_hostile_server_strings_are_cleaned_in_snapshots(
    hostile: RunningSimulator, cli: Cli, records_path: Path, fmt: str
) -> None:
    """Hostile reason codes come out without control or invisible characters."""
    result = cli(
        "snapshot",
        str(LAYOUTS / "demo.yaml"),
        "--url",
        hostile.base_url,
        "--format",
        fmt,
        "--records",
        str(records_path),
    )
    assert result.code == 0
    # The check below only means something if hostile reasons were actually printed.
    assert "<script>alert(1)</script>" in result.out
    assert not UNSAFE.search(result.out + result.err)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_hostile_error_messages_are_cleaned_in_peek(
    hostile: RunningSimulator, cli: Cli, fmt: str
) -> None:
    """A hostile server's per-object error messages come out without control characters."""
    # The simulator appends its hostile strings in turn: one error per string, at least.
    objects = [f"Agent:agent-{n}" for n in range(len(HOSTILE_STRINGS) + 1)]
    result = cli("peek", "NoSuchStatistic", *objects, "--url", hostile.base_url, "--format", fmt)
    assert result.code == 1
    assert result.out.count("Unknown ") == len(objects)
    assert not UNSAFE.search(result.out + result.err)


def test_raw_json_values_from_a_hostile_server_are_escaped(
    hostile: RunningSimulator, cli: Cli
) -> None:
    """Raw values in peek's JSON keep hostile reasons exactly, but only as escapes."""
    agents = [f"Agent:{agent}" for agent in hostile.state()["objects"]["Agent"]]
    result = cli(
        "peek", "CurrentAgentState", *agents, "--url", hostile.base_url, "--format", "json"
    )
    assert result.code == 0
    reasons = {
        entry["value"]["stateValue"].get("reason") for entry in json.loads(result.out)["objects"]
    }
    # Raw means raw: the hostile strings come back exactly as the server sent them.
    assert {"\x00nul\x7fdel", "\u202eevil\u202c", "\x1b[2J"} <= reasons
    assert not UNSAFE.search(result.out + result.err)
