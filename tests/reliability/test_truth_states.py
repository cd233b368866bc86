"""Numeric agent states, against the simulator over real loopback HTTP.

The simulator's `numeric_states` option serves status numbers and reason codes as real Stat
Servers do; with the layout's `reasons:` naming the codes, `snapshot` and the dashboard read
exactly what the named simulator (same seed, same clock) gives.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.push import PushChannel
from statdash.api.values import AgentStateValue, parse_value
from statdash.cli import main
from statdash.layout.compile import compile_layout
from statdash.layout.formats import state_style
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.controller import LiveController, plan_for
from statdash.live.store import Store
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.panels import DrawContext, state_cell
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, serve

LAYOUT = """
title: Numbers
refresh: 1s
reasons: {1: Break, 2: Personal, 3: Coaching, 4: Meeting, 5: Training, 6: Lunch, 9: ACW}
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [
          ana.silva, ben.novak, carla.ortiz, dev.weber, elena.ivanova, farid.lopez, grace.olsen,
          hugo.romero, ines.ueda, jon.yilmaz, kira.baker, liam.evans, maya.hughes, nils.kim,
          olga.nguyen, paulo.reyes, quinn.vogel, rosa.berg, sami.costa, tara.rossi,
          umar.dubois, vera.jensen, wes.moreau, xenia.petrov, yusuf.schmidt, zoe.varga,
          aiko.zhang, bruno.clarke, chloe.fischer, diego.ito]
        columns: [{stat: InboundCalls, label: Calls}]
"""


def _config(*, numeric: bool) -> SimConfig:
    return SimConfig(
        agents=30,
        queues=3,
        seed=9,
        clock="manual",
        start_time=SIM_START,
        numeric_states=numeric,
    )


@pytest.fixture(scope="module")
def sims() -> Iterator[tuple[RunningSimulator, RunningSimulator]]:
    """The same floor twice: statuses by name, and by number."""
    with (
        serve(_config(numeric=False)) as named,
        serve(_config(numeric=True)) as numbered,
    ):
        for sim in (named, numbered):
            sim.advance(3600)
        yield named, numbered


def _snapshot(sim: RunningSimulator, layout: Path, capsys: pytest.CaptureFixture[str]) -> object:
    capsys.readouterr()
    argv = ["snapshot", str(layout), "--url", sim.base_url, "--format", "json"]
    assert main([*argv, "--api-key", API_KEY]) == 0
    rows = json.loads(capsys.readouterr().out)["statistics"]
    return [
        (r["object_id"], r["value"], r["state_status"], r["state_reason"], r["state_since"])
        for r in rows
    ]


def test_snapshot_of_numeric_states_reads_as_the_named_ones(
    sims: tuple[RunningSimulator, RunningSimulator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Status numbers become their names and reason codes the layout's names: the snapshot of
    the numeric floor is the snapshot of the named one, and no agent reads `? N`."""
    named, numbered = sims
    layout = tmp_path / "numbers.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    by_name = _snapshot(named, layout, capsys)
    by_number = _snapshot(numbered, layout, capsys)
    assert by_number == by_name
    assert isinstance(by_number, list)
    states = [row for row in by_number if row[2]]
    assert len({row[2] for row in states}) >= 3
    assert not [row for row in states if row[1].startswith("?") or row[2].isdigit()]
    assert any(row[3] for row in states)


def _context(layout: CompiledLayout, store: Store) -> DrawContext:
    return DrawContext(
        store=store,
        wall_now=time.time(),
        theme=BUILTIN_THEMES["textual-dark"],
        state_style=layout.state_style,
        problems={},
        numbered=layout.state_styles,
        reasons=layout.reasons,
    )


async def test_the_dashboard_shows_numeric_states_by_name_under_push(
    sims: tuple[RunningSimulator, RunningSimulator],
) -> None:
    """Under push from the numeric floor, every state cell shows a word (Ready, Not ready
    Lunch...), never a bare number; reason codes read as the layout names them."""
    _, numbered = sims
    layout = compile_layout(load_layout_text(LAYOUT, file="numbers.yaml"))
    async with StatisticsClient(
        numbered.base_url, API_KEY, retry=RetryPolicy(attempts=1)
    ) as client:
        controller = LiveController(
            client,
            plan_for(layout),
            on_change=lambda _: None,
            on_status=lambda _: None,
            open_channel=lambda: PushChannel(client),
            updates="auto",
        )
        controller.start()
        try:
            deadline = time.monotonic() + 15
            while not (controller.pushing and controller.store.revision > 0):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            states = [
                value
                for value in controller.store.values().values()
                if isinstance(value, AgentStateValue)
            ]
            assert states and all(value.status_code is not None for value in states)
            context = _context(layout, controller.store)
            cells = [state_cell(value, context).text.plain for value in states]
            assert not [cell for cell in cells if cell.startswith("?")]
            reasons = {value.reason for value in states if value.reason}
            assert reasons and reasons <= set(layout.reasons)
            names = layout.reasons.values()
            assert any(cell.endswith(f" {name}") for cell in cells for name in names)
        finally:
            await controller.close()


def test_unknown_numbers_stay_numbers_and_a_layout_can_renumber() -> None:
    """An unknown status number reads `? 42`; `states:` with a number key styles it, and
    can restyle a known number (middleware that renumbers)."""
    value = parse_value({"stateValue": {"status": 42, "time": 1_700_000_000}})
    assert isinstance(value, AgentStateValue)
    assert (value.status, value.status_code) == ("42", 42)
    unknown = state_style(value.status)
    assert (unknown.glyph, unknown.word) == ("?", "42")
    layout = compile_layout(
        load_layout_text(
            LAYOUT + "states:\n  42: {word: Callback, glyph: C}\n  8: {word: Away}\n",
            file="numbers.yaml",
        )
    )
    assert layout.state_style(value.status, value.status_code).word == "Callback"
    eight = parse_value({"stateValue": {"status": 8}})
    assert isinstance(eight, AgentStateValue)
    assert eight.status == "NotReadyForNextCall"
    assert layout.state_style(eight.status, eight.status_code).word == "Away"
    assert layout.state_style("NotReadyForNextCall").word == "Not ready"
