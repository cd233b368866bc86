"""`statdash check --url` against the real simulator: shipped layouts pass, rejections are
located, and no subscription is left open afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.commands import check as check_command
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.support.sim import serve

from .conftest import LAYOUTS, run_command

# Layout -> the simulator size it is written for (floor.yaml: `sim --agents 2000 --queues 50`).
SIZES = {"demo": (50, 5), "supervisor": (50, 5), "wallboard": (50, 5), "floor": (2000, 50)}


def check(
    layout: Path,
    sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *more: str,
) -> int:
    """Run `statdash check LAYOUT --url SIM [more...]` with the API key in the environment."""
    monkeypatch.setenv("STATDASH_API_KEY", "test-key")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    argv = [str(layout), "--url", sim.base_url, "--config", str(config), *more]
    return run_command(check_command, argv)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_shipped_layout_passes_on_a_matching_simulator(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every (object, statistic) of a shipped layout resolves; no subscription stays open."""
    agents, queues = SIZES[name]
    with serve(SimConfig(agents=agents, queues=queues, clock="manual")) as sim:
        status = check(LAYOUTS / f"{name}.yaml", sim, tmp_path, monkeypatch)
        captured = capsys.readouterr()
        assert (status, captured.err) == (0, "")
        assert "every statistic resolved" in captured.out
        assert sim.state()["open_subscriptions"] == 0


def test_rejected_statistics_are_reported_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Statistics the server refuses come back at their lines, exit 2, nothing left open."""
    layout = tmp_path / "bad.yaml"
    layout.write_text(
        "title: Bad\n"
        "pages:\n"
        "  - widgets:\n"
        "      - kind: agents\n"
        "        agents: [ana.silva, ben.novak]\n"
        "        columns: [TalkDuration, NoSuchStatistic]\n"
        "      - kind: kpi\n"
        "        object: {queue: 9999@SIP_Switch}\n"
        "        stat: Current_In_Queue\n",
        encoding="utf-8",
    )
    with serve(SimConfig(agents=10, queues=2, clock="manual")) as sim:
        status = check(layout, sim, tmp_path, monkeypatch)
        err = capsys.readouterr().err.splitlines()
        assert sim.state()["open_subscriptions"] == 0
    assert status == 2
    assert err[0].startswith(
        f"{layout}:6:33: pages[0].widgets[0].columns[1]: the server rejected NoSuchStatistic"
        " for Agent ana.silva, ben.novak: "
    )
    assert err[1] == (
        f"{layout}:9:15: pages[0].widgets[1].stat: the server does not know Queue"
        " 9999@SIP_Switch: Unknown object 'Queue:9999@SIP_Switch' (code 404)"
    )
    # Its ids are all the simulator's (9999@SIP_Switch is its queue number 1,999).
    assert err[2] == (
        f"{layout}: 1 object of this layout is not on the server; for the simulator, start it"
        " with: statdash sim --agents 2 --queues 1999"
    )
    assert err[3].endswith("rejected 3 of 7 statistics; --all lists each one")


def test_a_big_layout_on_a_small_simulator_is_a_short_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """floor.yaml (2,000 agents) on a 50-agent simulator: a few grouped lines, not 10,094.

    Every statistic of an object the server does not know is one group; each group names
    three objects and counts the rest; the advice names the simulator the layout needs, and
    one summary line ends it.
    """
    with serve(SimConfig(agents=50, queues=5, clock="manual")) as sim:
        status = check(LAYOUTS / "floor.yaml", sim, tmp_path, monkeypatch)
        err = capsys.readouterr().err.splitlines()
        assert sim.state()["open_subscriptions"] == 0
    layout = LAYOUTS / "floor.yaml"
    assert status == 2
    assert len(err) == 5, err
    assert err[0].startswith(f"{layout}:")
    assert err[0].endswith(
        ": the server does not know Agent kira.clarke, liam.fischer, maya.ito"
        " and 1,947 more objects: Unknown object 'Agent:kira.clarke' (code 404)"
    )
    assert ": the server does not know Queue 8006@SIP_Switch," in err[1]
    assert err[1].endswith(
        " and 42 more objects: Unknown object 'Queue:8006@SIP_Switch' (code 404)"
    )
    assert (
        "know GroupQueues QueueGroup_02, QueueGroup_03, QueueGroup_04 and 6 more objects" in err[2]
    )
    assert err[3] == (
        f"{layout}: 2,004 objects of this layout are not on the server; for the simulator,"
        " start it with: statdash sim --agents 2000 --queues 50"
    )
    assert err[4] == (
        f"{layout}: the server at 127.0.0.1:{sim.port} rejected 10,092 of 10,380 statistics;"
        " --all lists each one"
    )


UNKNOWN_AGENTS = (
    "title: Strangers\n"
    "pages:\n"
    "  - widgets:\n"
    "      - kind: agents\n"
    "        agents: [ana.silva, x.one, x.two, x.three, x.four, x.five]\n"
    "        columns: [TalkDuration, NoSuchStatistic]\n"
)


def test_all_lists_every_rejection_on_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Grouped by default (the objects the server does not know, then one line per refused
    statistic); --all prints one line per rejected (object, statistic). No simulator advice
    for ids the simulator never has."""
    layout = tmp_path / "strangers.yaml"
    layout.write_text(UNKNOWN_AGENTS, encoding="utf-8")
    with serve(SimConfig(agents=10, queues=2, clock="manual")) as sim:
        grouped_status = check(layout, sim, tmp_path, monkeypatch)
        grouped = capsys.readouterr().err.splitlines()
        every_status = check(layout, sim, tmp_path, monkeypatch, "--all")
        every = capsys.readouterr().err.splitlines()
    assert (grouped_status, every_status) == (2, 2)
    assert grouped == [
        f"{layout}:4:9: pages[0].widgets[0]: the server does not know Agent x.one, x.two,"
        " x.three and 2 more objects: Unknown object 'Agent:x.one' (code 404)",
        f"{layout}:6:33: pages[0].widgets[0].columns[1]: the server rejected NoSuchStatistic"
        " for Agent ana.silva, x.one, x.two and 3 more objects: Unknown statistic"
        " 'NoSuchStatistic' (code 404)",
        f"{layout}: 5 objects of this layout are not on the server; Agent x.one, Agent x.two,"
        " Agent x.three and 2 more are not ids the simulator makes (docs/simulator.md lists"
        " its ids)",
        f"{layout}: the server at 127.0.0.1:{sim.port} rejected 16 of 18 statistics;"
        " --all lists each one",
    ]
    assert len(every) == 16 + 1 + 1
    assert every[-1] == f"{layout}: the server at 127.0.0.1:{sim.port} rejected 16 of 18 statistics"
    assert sum("for Agent x.one:" in line for line in every) == 3


def test_a_bare_loopback_url_reaches_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--url 127.0.0.1:PORT` (no scheme) is the simulator over http://, without a word."""
    monkeypatch.setenv("STATDASH_API_KEY", "test-key")
    with serve(SimConfig(agents=50, queues=5, clock="manual")) as sim:
        argv = [str(LAYOUTS / "demo.yaml"), "--url", f"127.0.0.1:{sim.port}"]
        status = run_command(check_command, argv)
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")
    assert captured.out.endswith(f"OK on 127.0.0.1:{sim.port}: every statistic resolved\n")


def test_a_subscription_refused_as_a_whole_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An envelope refusing the whole subscription is one line at the file, in describe's
    words, and nothing is left open."""
    with serve(SimConfig(agents=50, queues=5, clock="manual")) as sim:
        sim.set_faults(refuse_subscriptions="envelope")
        status = check(LAYOUTS / "wallboard.yaml", sim, tmp_path, monkeypatch)
        err = capsys.readouterr().err
        assert sim.state()["open_subscriptions"] == 0
    assert status == 2
    assert err == (
        f"{LAYOUTS / 'wallboard.yaml'}: the whole subscription was refused: the server at"
        f" 127.0.0.1:{sim.port} answered status 503: Stat Server is not accepting new subscriptions"
        " (injected fault)\n"
    )
