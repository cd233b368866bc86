"""`statdash snapshot` against the real simulator: formats, exit codes, and that the
subscription is deleted on every way out (errors, faults, Ctrl+C, SIGTERM)."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from statdash.commands import snapshot
from statdash.commands.common import load_compiled
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.sim.runner import RunningSimulator
from tests.support.wait import CEILING, until

from .conftest import LAYOUTS, Result, WebServer, spawn

Cli = Callable[..., Result]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

BAD_COLUMN_LAYOUT = """\
title: Partly wrong
pages:
  - widgets:
      - kind: agents
        title: Team
        agents: [ana.silva, ben.novak]
        columns: [InboundCalls, NoSuchStatistic]
"""


def expected_count(layout: Path) -> int:
    """How many records a layout yields: one per widget use of a statistic."""
    compiled = load_compiled(layout)
    assert compiled is not None
    return sum(1 for _ in snapshot.uses(compiled))


@pytest.mark.parametrize("name", ["demo", "supervisor"])
def test_json_lists_every_widget_use_with_a_value(
    name: str, floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """JSON: layout, host-only server, UTC taken_at, one valued record per use; none left open."""
    layout = LAYOUTS / f"{name}.yaml"
    result = cli(
        "snapshot",
        str(layout),
        "--url",
        floor.base_url,
        "--format",
        "json",
        "--records",
        str(records_path),
    )
    assert (result.code, result.err) == (0, "")
    document = json.loads(result.out)
    assert document["server"] == f"127.0.0.1:{floor.port}"
    assert ISO_UTC.match(document["taken_at"])
    statistics = document["statistics"]
    assert len(statistics) == expected_count(layout)
    assert list(statistics[0]) == list(snapshot.FIELDS)
    assert all(s["error"] is None and s["value"] for s in statistics)
    assert {s["level"] for s in statistics} <= {"ok", "warning", "alarm"}
    states = [s for s in statistics if s["statistic"] == "State"]
    assert states and all(s["state_status"] and ISO_UTC.match(s["state_since"]) for s in states)
    numbers = [s for s in statistics if s["number"] is not None]
    assert numbers and all(isinstance(s["number"], int | float) for s in numbers)
    assert floor.state()["open_subscriptions"] == 0
    assert SubscriptionRecords(records_path).entries() == []


@pytest.mark.parametrize("name", ["demo", "supervisor"])
def test_csv_has_a_header_and_one_row_per_use(
    name: str, floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """CSV: the field names as header, then one row per widget use; none left open."""
    layout = LAYOUTS / f"{name}.yaml"
    result = cli(
        "snapshot",
        str(layout),
        "--url",
        floor.base_url,
        "--format",
        "csv",
        "--records",
        str(records_path),
    )
    assert (result.code, result.err) == (0, "")
    rows = list(csv.reader(io.StringIO(result.out)))
    assert tuple(rows[0]) == snapshot.FIELDS
    assert len(rows) - 1 == expected_count(layout)
    error = snapshot.FIELDS.index("error")
    assert all(row[error] == "" for row in rows[1:])
    assert floor.state()["open_subscriptions"] == 0


@pytest.mark.parametrize("name", ["demo", "supervisor"])
def test_table_is_aligned_plain_text(
    name: str, floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """Table: a title line, a header, one aligned row per use, no colour off a terminal."""
    layout = LAYOUTS / f"{name}.yaml"
    result = cli("snapshot", str(layout), "--url", floor.base_url, "--records", str(records_path))
    assert (result.code, result.err) == (0, "")
    title, header, *rows = result.out.splitlines()
    assert title.endswith("Z") and f" on 127.0.0.1:{floor.port} at " in title
    assert header.split() == ["PAGE", "WIDGET", "OBJECT", "STATISTIC", "VALUE", "LEVEL"]
    assert len(rows) == expected_count(layout)
    value_column = header.index("VALUE")
    assert all(row[value_column - 2 : value_column] == "  " for row in rows)
    assert "\x1b" not in result.out
    assert floor.state()["open_subscriptions"] == 0


def test_supervisor_state_words_come_from_the_layout(
    floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """A state the layout renames (`states:`) shows the layout's word, and its reason."""
    result = cli(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        floor.base_url,
        "--format",
        "json",
        "--records",
        str(records_path),
    )
    states = [s for s in json.loads(result.out)["statistics"] if s["statistic"] == "State"]
    not_ready = [s for s in states if s["state_status"] == "NotReadyForNextCall"]
    assert not_ready, "the seeded floor has agents not ready ten minutes in"
    for record in not_ready:
        reason = f" ({record['state_reason']})" if record["state_reason"] else ""
        assert re.fullmatch(rf"Not ready{re.escape(reason)} for \d+:\d\d:\d\d", record["value"])


def test_refused_statistics_are_listed_and_exit_3(
    floor: RunningSimulator, cli: Cli, tmp_path: Path, records_path: Path
) -> None:
    """Statistics the server refuses carry its error; the rest have values; exit 3."""
    layout = tmp_path / "partly.yaml"
    layout.write_text(BAD_COLUMN_LAYOUT, encoding="utf-8")
    result = cli(
        "snapshot",
        str(layout),
        "--url",
        floor.base_url,
        "--format",
        "json",
        "--records",
        str(records_path),
    )
    assert result.code == 3
    by_statistic: dict[str, list[dict[str, object]]] = {}
    for record in json.loads(result.out)["statistics"]:
        by_statistic.setdefault(str(record["statistic"]), []).append(record)
    assert [r["error"] for r in by_statistic["InboundCalls"]] == [None, None]
    refused = by_statistic["NoSuchStatistic"]
    assert [r["value"] for r in refused] == ["", ""]
    assert all("Unknown statistic 'NoSuchStatistic'" in str(r["error"]) for r in refused)
    assert all(r["level"] is None and r["number"] is None for r in refused)
    assert result.err == "statdash snapshot: 2 of 6 statistics could not be read\n"
    assert floor.state()["open_subscriptions"] == 0


SHOWN_TWICE_LAYOUT = """\
title: Shown twice
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva, ben.novak]
        columns: [NoSuchStatistic]
      - kind: states
        agents: [ana.silva, ben.novak]
"""


def test_snapshot_counts_statistics_as_check_does(
    floor: RunningSimulator, cli: Cli, tmp_path: Path, records_path: Path
) -> None:
    """A state shown by two widgets is one statistic in `check` and in `snapshot`'s count."""
    layout = tmp_path / "twice.yaml"
    layout.write_text(SHOWN_TWICE_LAYOUT, encoding="utf-8")
    checked = cli("check", str(layout))
    assert checked.out == f"{layout}: OK: 1 page, 2 widgets, 4 statistics on 2 objects\n"
    result = cli("snapshot", str(layout), "--url", floor.base_url, "--records", str(records_path))
    assert result.code == 3
    # Six records (the two states are listed once per widget), four statistics read.
    assert len(result.out.splitlines()) == 1 + 1 + 6
    assert result.err == "statdash snapshot: 2 of 4 statistics could not be read\n"


def test_dead_port_is_exit_1_with_one_line(cli: Cli, dead_url: str, records_path: Path) -> None:
    """Nothing listening: exit 1, one line on stderr, nothing on stdout, no record kept."""
    result = cli(
        "snapshot", str(LAYOUTS / "demo.yaml"), "--url", dead_url, "--records", str(records_path)
    )
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("statdash snapshot: cannot reach the server at 127.0.0.1:")
    assert result.err.count("\n") == 1
    # A refused connection proves the open never arrived: nothing for cleanup to do.
    assert SubscriptionRecords(records_path).entries() == []


def test_garbled_reply_to_the_open_still_deletes(
    floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """The server opens the subscription but its reply is garbage: exit 1, and it is deleted."""
    floor.set_faults(malformed={"subscribe": "invalid_json"})
    result = cli(
        "snapshot",
        str(LAYOUTS / "demo.yaml"),
        "--url",
        floor.base_url,
        "--records",
        str(records_path),
    )
    assert (result.code, result.out) == (1, "")
    assert "sent a malformed reply" in result.err and result.err.count("\n") == 1
    state = floor.state()
    assert state["requests"]["delete"] >= 1
    assert state["open_subscriptions"] == 0
    assert SubscriptionRecords(records_path).entries() == []


def test_refused_subscription_is_exit_1(
    floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """A server refusing new subscriptions (503) is a failed read: exit 1, one line."""
    floor.set_faults(refuse_subscriptions=True)
    result = cli(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        floor.base_url,
        "--records",
        str(records_path),
    )
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(f"statdash snapshot: the server at 127.0.0.1:{floor.port}")
    assert floor.state()["open_subscriptions"] == 0


def test_failed_delete_is_warned_and_stays_recorded(
    floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """A delete the server fails is retried, then warned about and kept in the records."""
    floor.set_faults(fail_next={"delete": 2})
    result = cli(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        floor.base_url,
        "--format",
        "csv",
        "--records",
        str(records_path),
    )
    assert result.code == 0
    assert "could not delete subscription" in result.err
    assert "recorded for `statdash cleanup`" in result.err
    assert floor.state()["open_subscriptions"] == 1
    [entry] = SubscriptionRecords(records_path).entries()
    assert entry.server == floor.base_url
    assert entry.subscription_id in floor.state()["subscriptions"]


def test_ctrl_c_during_the_read_deletes(
    floor: RunningSimulator, cli: Cli, records_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C arriving as the open's reply comes in still deletes the subscription; exit 130."""
    from statdash.api.client import StatisticsClient

    original = StatisticsClient.open_subscription

    async def interrupted(self: StatisticsClient, *args: object, **kwargs: object) -> object:
        await original(self, *args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(StatisticsClient, "open_subscription", interrupted)
    result = cli(
        "snapshot",
        str(LAYOUTS / "demo.yaml"),
        "--url",
        floor.base_url,
        "--records",
        str(records_path),
    )
    assert (result.code, result.out) == (130, "")
    state = floor.state()
    assert state["requests"]["subscribe"] == 1
    assert state["open_subscriptions"] == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_the_open_is_in_flight_deletes_after_it_lands(
    signum: signal.Signals, floor: RunningSimulator, records_path: Path
) -> None:
    """SIGTERM or Ctrl+C during a slow open: wait for it, delete it, exit 128+signal."""
    floor.set_faults(latency_ms={"subscribe": 800})
    child = spawn(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        floor.base_url,
        "--records",
        str(records_path),
    )
    try:
        until(lambda: floor.state()["requests"].get("subscribe", 0) >= 1, what="the open")
        child.send_signal(signum)
        out, err = child.communicate(timeout=CEILING)
    finally:
        child.kill()
    assert (child.returncode, out) == (128 + signum, "")
    assert f"stopped by {signum.name}" in err
    state = floor.state()
    assert state["requests"]["delete"] == 1
    assert state["open_subscriptions"] == 0
    assert SubscriptionRecords(records_path).entries() == []


def test_bad_layout_is_exit_2_before_any_request(
    floor: RunningSimulator, cli: Cli, tmp_path: Path
) -> None:
    """A layout with problems is exit 2 with its located problems, and nothing is sent."""
    layout = tmp_path / "bad.yaml"
    layout.write_text("title: x\npages: []\n", encoding="utf-8")
    result = cli("snapshot", str(layout), "--url", floor.base_url)
    assert (result.code, result.out) == (2, "")
    assert f"{layout}:" in result.err and "nothing was started" in result.err
    assert floor.state()["requests"] == {}


def test_missing_api_key_is_exit_2(
    floor: RunningSimulator, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No API key anywhere is a usage error (exit 2) that says how to give one."""
    monkeypatch.delenv("STATDASH_API_KEY")
    result = cli("snapshot", str(LAYOUTS / "demo.yaml"), "--url", floor.base_url)
    assert (result.code, result.out) == (2, "")
    assert "no API key given" in result.err


def test_on_a_terminal_the_table_fits_and_levels_are_coloured(
    floor: RunningSimulator,
    cli: Cli,
    records_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On an 80-column terminal every line fits in 80 cells and alarms are shown in red."""
    from rich.cells import cell_len

    # Where snapshot looks them up (they are statdash.commands.output's).
    monkeypatch.setattr(snapshot, "terminal_width", lambda: 80)
    monkeypatch.setattr(snapshot, "use_colour", lambda: True)
    result = cli(
        "snapshot",
        str(LAYOUTS / "supervisor.yaml"),
        "--url",
        floor.base_url,
        "--records",
        str(records_path),
    )
    assert result.code == 0
    plain = [re.sub("\x1b\\[[0-9;]*m", "", line) for line in result.out.splitlines()[1:]]
    assert max(cell_len(line) for line in plain) <= 80
    assert "\x1b[31malarm" in result.out


def snapshot_of(cli: Cli, url: str, records_path: Path) -> Result:
    """`statdash snapshot` of the demo layout from `url`, with its own records file."""
    return cli("snapshot", str(LAYOUTS / "demo.yaml"), "--url", url, "--records", str(records_path))


@pytest.mark.parametrize("status", [501, 404, 405])
def test_a_server_that_is_not_a_statistics_api_leaves_no_record(
    web_server: WebServer, cli: Cli, records_path: Path, status: int
) -> None:
    """A URL that points at an ordinary web server (HTML 501, 404 or 405) is a failed read,
    exit 1 in one line; no subscription can exist there, so nothing is recorded for cleanup."""
    web_server.status = status
    result = snapshot_of(cli, web_server.url, records_path)
    assert (result.code, result.out) == (1, "")
    assert result.err.count("\n") == 1, result.err
    assert f"HTTP {status}" in result.err
    assert "cleanup" not in result.err
    assert SubscriptionRecords(records_path).entries() == []


def test_a_gateway_error_without_an_envelope_stays_recorded(
    web_server: WebServer, cli: Cli, records_path: Path
) -> None:
    """A 502 page may come from a gateway that passed the open on to a Statistics API, so its
    subscription may exist: it stays recorded (and the user is told)."""
    web_server.status = 502
    result = snapshot_of(cli, web_server.url, records_path)
    assert result.code == 1
    assert "recorded for `statdash cleanup`" in result.err
    assert len(SubscriptionRecords(records_path).entries()) == 1
