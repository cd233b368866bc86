"""`check --url` advice about the simulator fits the layout (issue 22), and the docs' first
layout runs on the simulator `statdash demo` and `statdash sim` start by default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from statdash.commands import check as check_command
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.support.sim import serve

from .conftest import ROOT, run_command

LAYOUT = """\
title: Three agents
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva, ben.novak, {agents}]
        columns: [TalkDuration]
"""


@pytest.fixture(scope="module")
def default_sim() -> Iterator[RunningSimulator]:
    """The simulator `statdash sim` starts with no options: 50 agents, 5 queues."""
    with serve(SimConfig(agents=50, queues=5, clock="manual")) as sim:
        yield sim


def check(
    layout: Path, sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """`statdash check LAYOUT --url SIM` with an API key and an empty config file."""
    monkeypatch.setenv("STATDASH_API_KEY", "test-key")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    return run_command(check_command, [str(layout), "--url", sim.base_url, "--config", str(config)])


def first_layout() -> str:
    """The YAML of docs/layouts.md's "A first layout"."""
    text = (ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")
    section = text.split("## A first layout", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_docs_first_layout_resolves_on_the_default_simulator(
    default_sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every statistic of the first example resolves on `statdash sim` / `statdash demo`."""
    layout = tmp_path / "first.yaml"
    layout.write_text(first_layout(), encoding="utf-8")
    status = check(layout, default_sim, tmp_path, monkeypatch)
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")


def test_an_agent_only_a_big_simulator_has_is_named_with_the_ids_advice(
    default_sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """For three agents, one of them the simulator's agent 1,963, the advice says so and
    offers the default simulator's agents instead of only a 1,963-agent simulator."""
    layout = tmp_path / "team.yaml"
    layout.write_text(LAYOUT.format(agents="carla.meyer"), encoding="utf-8")
    status = check(layout, default_sim, tmp_path, monkeypatch)
    advice = capsys.readouterr().err.splitlines()[-2]
    assert status == 2
    assert advice == (
        f"{layout}: 1 object of this layout is not on the server; for the simulator, start it"
        " with: statdash sim --agents 1963 --queues 1, or use agents of the default"
        " simulator's first 50 (layouts/demo.yaml lists them) instead of carla.meyer"
        " (its agent 1,963)"
    )


def test_an_id_the_simulator_never_makes_is_said(
    default_sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unknown id no simulator has gets no size advice but the reason."""
    layout = tmp_path / "team.yaml"
    layout.write_text(LAYOUT.format(agents="x.one"), encoding="utf-8")
    status = check(layout, default_sim, tmp_path, monkeypatch)
    advice = capsys.readouterr().err.splitlines()[-2]
    assert status == 2
    assert advice == (
        f"{layout}: 1 object of this layout is not on the server; Agent x.one is not an id"
        " the simulator makes (docs/simulator.md lists its ids)"
    )
