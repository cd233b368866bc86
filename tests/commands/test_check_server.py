"""`statdash check --url` against the real simulator: shipped layouts pass, rejections are
located, and no subscription is left open afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.commands import check as check_command
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

from .conftest import LAYOUTS, run_command

# Layout -> the simulator size it is written for (floor.yaml: `sim --agents 2000 --queues 50`).
SIZES = {"demo": (50, 5), "supervisor": (50, 5), "wallboard": (50, 5), "floor": (2000, 50)}


def check(
    layout: Path, sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """Run `statdash check LAYOUT --url SIM` with the API key in the environment."""
    monkeypatch.setenv("STATDASH_API_KEY", "test-key")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    argv = [str(layout), "--url", sim.base_url, "--config", str(config)]
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
    with running_simulator(SimConfig(agents=agents, queues=queues, clock="manual")) as sim:
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
    with running_simulator(SimConfig(agents=10, queues=2, clock="manual")) as sim:
        status = check(layout, sim, tmp_path, monkeypatch)
        err = capsys.readouterr().err.splitlines()
        assert sim.state()["open_subscriptions"] == 0
    assert status == 2
    assert err[0].startswith(
        f"{layout}:6:33: pages[0].widgets[0].columns[1]: the server rejected NoSuchStatistic"
        " for Agent ana.silva, ben.novak: "
    )
    assert err[1].startswith(
        f"{layout}:9:15: pages[0].widgets[1].stat: the server rejected Current_In_Queue for"
        " Queue 9999@SIP_Switch: "
    )
    assert err[2].endswith("rejected some statistics (2 problems)")
