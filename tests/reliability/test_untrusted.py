"""Server and layout strings reach the terminal as plain text: no markup, actions or escapes.

The simulator's hostile mode serves reason codes and error messages full of markup, escape
sequences (an OSC 52 clipboard write, a screen clear), bidi overrides, zero-width characters,
NUL and DEL; the layout adds markup of its own in titles and labels. One test reads the raw
bytes `statdash run` writes to a real pty and allows only the escape sequences Textual itself
emits; another walks the rendered segments of the headless app for actions and links.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.style import Style
from textual.geometry import Region
from textual.widget import Widget

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from tests.reliability.support import API_KEY
from tests.support.sim import SIM_START, open_subscriptions, serve
from tests.support.terminal import PtyApp, child_environment
from tests.support.wait import until_async

AGENTS = (
    "ana.silva, ben.novak, carla.ortiz, dev.weber, elena.ivanova, farid.lopez, grace.olsen, "
    "hugo.romero, ines.ueda, jon.yilmaz, kira.baker, liam.evans, maya.hughes, nils.kim, "
    "olga.nguyen, paulo.reyes, quinn.vogel, rosa.berg, sami.costa, tara.rossi"
)
# Markup in every string a layout author controls; control characters are refused by the
# loader itself (tests/layout/test_hostile.py), so markup is what a layout can smuggle.
LAYOUT = f"""
title: "[@click=app.quit]Floor[/] [b]boss[/b]"
refresh: 1s
pages:
  - title: "[link=https://evil.example]page[/link]"
    widgets:
      - kind: agents
        title: "[@click=app.bell]Agents"
        agents: [{AGENTS}]
        columns: [{{stat: InboundCalls, label: "[link=https://evil.example]Calls[/link]"}}]
      - kind: states
        title: States
        agents: [{AGENTS}]
      - kind: queues
        title: Queues
        objects: [{{queue: 8001@SIP_Switch, label: "[reverse]Sales[/]"}}]
        columns:
          - {{stat: CurrentNumberWaitingCalls, label: Waiting}}
          - {{stat: NoSuchStatistic, label: Refused}}
"""
# What Textual itself writes: SGR, cursor positions, private modes, keyboard-protocol and
# synchronized-output queries, and the pointer-shape OSC 22. Anything else is suspect.
ESCAPE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)", re.DOTALL)
ALLOWED = re.compile(
    rb"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\x1b\[\?\d+[hl]|\x1b\[<u|\x1b\[>\d+u|\x1b\[\?\d+\$p"
    rb"|\x1b\]22;[a-z-]+\x07"
)
INVISIBLE = ("\u202e", "\u202c", "\u200b", "\u200d", "\ufeff", "\x00", "\x7f")


@pytest.fixture
def hostile_sim() -> Iterator[RunningSimulator]:
    """A fresh hostile simulator an hour into the shift (so agents show reasons)."""
    config = SimConfig(
        agents=20, queues=2, seed=2, clock="manual", start_time=SIM_START, hostile=True
    )
    with serve(config) as simulator:
        simulator.advance(3600)
        yield simulator
        assert open_subscriptions(simulator) == {}


def test_hostile_strings_reach_the_pty_only_as_plain_text(
    hostile_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Every escape sequence in the bytes written to the terminal is one Textual emits itself:
    no OSC 52, no screen clear, no stray BEL, NUL, DEL or bidi override; the hostile text is
    still shown, neutralised."""
    layout = tmp_path / "hostile.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    app = PtyApp(
        # Polling, so that failed peeks put the server's error text on the status line too.
        ["run", str(layout), "--url", hostile_sim.base_url, "--updates", "poll"],
        child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY}),
        size=(150, 45),
    )
    try:
        app.wait_for(lambda: b"live" in app.output, "the dashboard to be live")
        peeks = hostile_sim.state()["requests"].get("peek", 0)
        # Failed polls put the server's (hostile) error messages on the status line.
        hostile_sim.set_faults(fail_next={"peek": 2})
        app.wait_for(
            lambda: hostile_sim.state()["requests"].get("peek", 0) >= peeks + 3, "failed polls"
        )
        app.send(b"q")
        assert app.wait_exit() == 0
        app.finish_output()
    finally:
        app.close()
    output = app.output
    sequences = [match.group(0) for match in ESCAPE.finditer(output)]
    unexpected = Counter(seq for seq in sequences if not ALLOWED.fullmatch(seq))
    assert not unexpected, unexpected.most_common(5)
    assert b"\x1b]52" not in output
    text = ESCAPE.sub(b"", output).decode("utf-8", "replace")
    assert text.count("\x07") == 0
    controls = {
        char for char in text if (ord(char) < 32 and char not in "\r\n") or char in INVISIBLE
    }
    assert not controls, controls
    assert not any("\x80" <= char <= "\x9f" for char in text)  # C1 controls
    # The hostile strings were drawn: inert markup as literal text, controls as U+FFFD.
    assert "[@click=app.quit]x" in text and "\ufffd" in text
    assert "[@click=app.quit]Floor[/]" in text


def rendered_segments(app: StatdashApp) -> Iterator[tuple[str, Style | None]]:
    """(text, style) of every segment every visible widget paints."""
    for widget in (app.screen, *app.screen.walk_children(Widget)):
        width, height = widget.outer_size
        if not widget.display or not width or not height:
            continue
        for strip in widget.render_lines(Region(0, 0, width, height)):
            for segment in strip:
                yield segment.text, segment.style


async def test_hostile_strings_render_without_actions_or_links(
    hostile_sim: RunningSimulator,
) -> None:
    """No segment on screen carries a click action or a hyperlink, though the hostile markup
    is on screen as literal text."""
    layout = compile_layout(load_layout_text(LAYOUT, file="hostile.yaml"))
    async with StatisticsClient(
        hostile_sim.base_url, API_KEY, retry=RetryPolicy(attempts=1)
    ) as client:
        app = build_app(layout, client, server_label="hostile", handle_signals=False)
        async with app.run_test(size=(150, 45)) as pilot:
            await until_async(lambda: app.controller.status.polls >= 1, pilot=pilot)
            await pilot.pause(0.2)
            segments = list(rendered_segments(app))
            screen = "".join(text for text, _ in segments)
            actions = [
                (text, style.meta)
                for text, style in segments
                if style is not None and any(key.startswith("@") for key in style.meta)
            ]
            links = [text for text, style in segments if style is not None and style.link]
            assert actions == [] and links == []
            assert "[@click=app.quit]x" in screen
            assert "[link=https://evil.example]Ca" in screen  # the label, cut to its column
            assert "[reverse]Sales[/]" in screen
            assert all(char.isprintable() for char in screen)
            await pilot.press("q")
        assert app.return_code == 0
