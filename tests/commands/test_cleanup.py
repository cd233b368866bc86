"""`statdash cleanup`: recorded leftovers are deleted, kept when unreachable, scoped by --url."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.support.wait import CEILING

from .conftest import API_KEY, LAYOUTS, Result, WebServer, spawn

Cli = Callable[..., Result]
# Far above Linux's pid_max, so never a live process.
DEAD_PID = 2**30
DAY = 86_400.0


def open_on(sim: RunningSimulator, subscription_id: str) -> None:
    """Open a one-statistic subscription on the simulator, as a crashed run would have."""
    response = httpx.post(
        sim.api_url + "/subscriptions",
        headers={"x-api-key": API_KEY},
        json={
            "operationId": subscription_id,
            "data": {
                "statistics": [
                    {
                        "statisticId": "a",
                        "objectId": "ana.silva",
                        "objectType": "Agent",
                        "name": "CurrentAgentState",
                    },
                ]
            },
        },
    )
    response.raise_for_status()


def write_records(path: Path, *entries: tuple[str, str, int], age: float = 60.0) -> None:
    """A record file holding (server, subscription id, pid) entries recorded `age` s ago."""
    opened_at = time.time() - age
    path.write_text(
        json.dumps(
            [
                {"server": server, "subscription_id": sid, "pid": pid, "opened_at": opened_at}
                for server, sid, pid in entries
            ]
        ),
        encoding="utf-8",
    )


def recorded(path: Path) -> list[str]:
    """The subscription ids still in the record file."""
    return [entry.subscription_id for entry in SubscriptionRecords(path).entries()]


def test_deletes_what_a_dead_run_left_open(
    simulator: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """A subscription recorded by a dead process is deleted and crossed out; exit 0."""
    open_on(simulator, "left-behind-1")
    write_records(records_path, (simulator.base_url, "left-behind-1", DEAD_PID))
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    assert result.out == f"deleted subscription left-behind-1 on {simulator.base_url}\n"
    assert simulator.state()["open_subscriptions"] == 0
    assert recorded(records_path) == []


def test_unreachable_server_keeps_its_records(cli: Cli, records_path: Path, dead_url: str) -> None:
    """Records of a server that cannot be reached stay for next time; exit 1."""
    write_records(records_path, (dead_url, "x-1", DEAD_PID), (dead_url, "x-2", DEAD_PID))
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.out) == (1, "")
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert all("for next time: cannot reach the server: " in line for line in lines)
    assert recorded(records_path) == ["x-1", "x-2"]


def test_url_limits_the_work_to_one_server(
    simulator: RunningSimulator, cli: Cli, records_path: Path, dead_url: str
) -> None:
    """With --url only that server's records are touched; others stay untouched."""
    open_on(simulator, "mine")
    write_records(
        records_path, (dead_url, "elsewhere", DEAD_PID), (simulator.base_url, "mine", DEAD_PID)
    )
    # A trailing slash and the API path are spelt away, as the client spells the server.
    url = simulator.base_url + "/statistics/v3/"
    result = cli("cleanup", "--url", url, "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    assert result.out == f"deleted subscription mine on {simulator.base_url}\n"
    assert recorded(records_path) == ["elsewhere"]


def test_running_processes_are_left_alone_unless_all(
    simulator: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """Records of a live process are skipped (with a note); --all deletes them too."""
    open_on(simulator, "alive")
    write_records(records_path, (simulator.base_url, "alive", os.getppid()))
    skipped = cli("cleanup", "--records", str(records_path))
    assert (skipped.code, skipped.out) == (0, "nothing to clean up\n")
    assert "left 1 subscription of statdash processes that are still running" in skipped.err
    assert simulator.state()["open_subscriptions"] == 1
    forced = cli("cleanup", "--all", "--records", str(records_path))
    assert (forced.code, forced.err) == (0, "")
    assert simulator.state()["open_subscriptions"] == 0
    assert recorded(records_path) == []


def test_nothing_recorded_needs_no_credentials(
    cli: Cli, records_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no records, cleanup says so and exits 0 without resolving any server."""
    monkeypatch.delenv("STATDASH_API_KEY")
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.out, result.err) == (0, "nothing to clean up\n", "")


def test_cleans_up_after_a_snapshot_whose_delete_failed(
    simulator: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """A snapshot that could not delete leaves a record that a later cleanup honours."""
    simulator.set_faults(fail_next={"delete": 2})
    # A child process, so the record's pid is really gone by the time cleanup runs.
    child = spawn(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        simulator.base_url,
        "--format",
        "json",
        "--records",
        str(records_path),
    )
    _, err = child.communicate(timeout=CEILING)
    assert child.returncode == 0 and "could not delete" in err
    assert simulator.state()["open_subscriptions"] == 1
    result = cli("cleanup", "--records", str(records_path))
    assert result.code == 0
    assert result.out.startswith("deleted subscription ")
    assert simulator.state()["open_subscriptions"] == 0
    assert recorded(records_path) == []


def test_unusable_url_is_a_usage_error(cli: Cli, records_path: Path) -> None:
    """A `--url` that is not a server URL is refused with exit 2 before anything is touched."""
    write_records(records_path, ("http://127.0.0.1:1", "x", DEAD_PID))
    result = cli("cleanup", "--url", "ftp://example.com", "--records", str(records_path))
    assert (result.code, result.out) == (2, "")
    assert result.err == "statdash cleanup: not a server URL: ftp://example.com\n"
    assert recorded(records_path) == ["x"]


def test_records_older_than_a_week_are_forgotten_without_contacting_the_server(
    cli: Cli, records_path: Path, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record of a dead run older than seven days is dropped with one line saying so, and
    the server is not tried (this one is unreachable): exit 0."""
    monkeypatch.delenv("STATDASH_API_KEY")
    write_records(records_path, (dead_url, "ancient", DEAD_PID), age=9 * DAY + 60)
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        f"forgot subscription ancient on {dead_url}, recorded 9 days ago: subscriptions this"
        " old have expired on the server\n"
    )
    assert recorded(records_path) == []


def test_old_and_fresh_records_are_handled_in_one_run(
    cli: Cli, records_path: Path, dead_url: str
) -> None:
    """The old record is forgotten, the fresh one of the same unreachable server is kept."""
    write_records(records_path, (dead_url, "ancient", DEAD_PID), age=8 * DAY)
    with_fresh = json.loads(records_path.read_text(encoding="utf-8"))
    with_fresh.append(
        {
            "server": dead_url,
            "subscription_id": "fresh",
            "pid": DEAD_PID,
            "opened_at": time.time() - 60,
        }
    )
    records_path.write_text(json.dumps(with_fresh), encoding="utf-8")
    result = cli("cleanup", "--records", str(records_path))
    assert result.code == 1
    assert result.out.startswith("forgot subscription ancient on ")
    assert "kept subscription fresh" in result.err
    assert recorded(records_path) == ["fresh"]


@pytest.mark.parametrize("status", [501, 405])
def test_a_server_that_is_not_a_statistics_api_drops_its_records(
    web_server: WebServer, cli: Cli, records_path: Path, status: int
) -> None:
    """A recorded server that answers the delete like an ordinary web server (HTML, no API
    envelope) holds no subscription: the record is dropped with the reason, exit 0."""
    web_server.status = status
    write_records(records_path, (web_server.url, "phantom", DEAD_PID))
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(f"forgot subscription phantom on {web_server.url}: ")
    assert f"not a Statistics API (the server answered HTTP {status}" in result.out
    assert recorded(records_path) == []
    assert web_server.requests == ["DELETE /statistics/v3/subscriptions/phantom"]


def test_a_gateway_that_refuses_the_key_keeps_the_records(
    web_server: WebServer, cli: Cli, records_path: Path
) -> None:
    """A 403 without an envelope may be a gateway refusing this key in front of a real API:
    the record stays for a run with the right key."""
    web_server.status = 403
    write_records(records_path, (web_server.url, "maybe", DEAD_PID))
    result = cli("cleanup", "--records", str(records_path))
    assert (result.code, result.out) == (1, "")
    assert "kept subscription maybe" in result.err
    assert recorded(records_path) == ["maybe"]


def test_forget_drops_the_records_without_contacting_any_server(
    simulator: RunningSimulator,
    cli: Cli,
    records_path: Path,
    dead_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--forget` drops every left-behind record with a line each and a summary, and sends
    nothing: no credentials are needed and the subscription stays open on its server."""
    monkeypatch.delenv("STATDASH_API_KEY")
    open_on(simulator, "real")
    write_records(
        records_path, (dead_url, "phantom", DEAD_PID), (simulator.base_url, "real", DEAD_PID)
    )
    deletes = simulator.state()["requests"].get("delete", 0)
    result = cli("cleanup", "--forget", "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        f"forgot subscription phantom on {dead_url}",
        f"forgot subscription real on {simulator.base_url}",
        "forgot 2 subscription records without contacting any server",
    ]
    assert recorded(records_path) == []
    assert simulator.state()["requests"].get("delete", 0) == deletes
    assert simulator.state()["open_subscriptions"] == 1


def test_forget_keeps_to_the_url_and_to_dead_processes(
    cli: Cli, records_path: Path, dead_url: str
) -> None:
    """`--forget --url` drops only that server's records, and never a running process's
    unless `--all` is given."""
    write_records(
        records_path,
        (dead_url, "mine", DEAD_PID),
        ("http://127.0.0.1:9", "elsewhere", DEAD_PID),
        (dead_url, "running", os.getppid()),
    )
    result = cli("cleanup", "--forget", "--url", dead_url, "--records", str(records_path))
    assert result.code == 0
    assert result.out.splitlines() == [
        f"forgot subscription mine on {dead_url}",
        "forgot 1 subscription record without contacting any server",
    ]
    assert "left 1 subscription of statdash processes that are still running" in result.err
    assert recorded(records_path) == ["elsewhere", "running"]
    everything = cli("cleanup", "--forget", "--all", "--records", str(records_path))
    assert everything.code == 0
    assert recorded(records_path) == []


def test_help_text_names_forget(capsys: pytest.CaptureFixture[str]) -> None:
    """The --forget flag is in `cleanup --help`, saying no server is contacted."""
    from statdash.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["cleanup", "--help"])
    assert stopped.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--forget" in text
    assert "without contacting any server" in text
