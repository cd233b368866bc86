"""Hostile mode: reason codes and error messages full of markup and escapes, still valid JSON."""

from __future__ import annotations

import dataclasses

from statdash.sim.config import SimConfig
from statdash.sim.model import HOSTILE_STRINGS, NOT_READY_REASONS
from tests.sim.support import client, peek_body
from tests.support.sim import serve


def reasons_served(config: SimConfig) -> tuple[set[str], bytes]:
    """Every reason seen on the floor over an hour, and one raw response body."""
    seen: set[str] = set()
    raw = b""
    with serve(config) as sim, client(sim) as api:
        agents = sim.state()["objects"]["Agent"]
        body = peek_body(*((a, "Agent", "CurrentAgentState") for a in agents))
        for _ in range(12):
            response = api.post("/operations/get-statistic-ex", json=body)
            raw = response.content
            for value in response.json()["data"]["statistics"]:
                reason = value["value"]["stateValue"].get("reason")
                if reason is not None:
                    seen.add(reason)
            sim.advance(300)
    return seen, raw


def test_hostile_reasons_are_served_as_data(sim_config: SimConfig) -> None:
    """With hostile on, reasons are markup, escapes and bidi tricks, escaped in valid JSON."""
    seen, raw = reasons_served(dataclasses.replace(sim_config, hostile=True))
    assert seen <= set(HOSTILE_STRINGS)
    assert len(seen) >= len(HOSTILE_STRINGS) - 2
    assert {"[/]", "\x1b[2J", "[@click=app.quit]x"} <= seen
    assert b"\x1b" not in raw, "control characters must travel JSON-escaped"


def test_ordinary_reasons_without_hostile(sim_config: SimConfig) -> None:
    """Without hostile mode the reasons are the ordinary reason codes and ACW."""
    seen, _ = reasons_served(sim_config)
    assert seen <= {name for name, *_ in NOT_READY_REASONS} | {"ACW"}
    assert "ACW" in seen


def test_hostile_error_messages(sim_config: SimConfig) -> None:
    """Error messages carry a hostile tail after the ordinary text."""
    with (
        serve(dataclasses.replace(sim_config, hostile=True)) as sim,
        client(sim) as api,
    ):
        message = api.get("/subscriptions/nope/statistic-values").json()["status"]["message"]
        partial = api.post(
            "/operations/get-statistic-ex", json=peek_body(("ana.silva", "Agent", "Foo"))
        ).json()
    assert message.startswith("Subscription 'nope' not found ")
    assert any(message.endswith(h) for h in HOSTILE_STRINGS)
    item = partial["errors"][0]["status"]["message"]
    assert item.startswith("Unknown statistic 'Foo' ")
    assert any(item.endswith(h) for h in HOSTILE_STRINGS)
