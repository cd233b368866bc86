"""AlertActions with run_commands=False (a `statdash serve` viewer): screen actions only."""

from __future__ import annotations

import sys
from pathlib import Path

from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertView, CommandAction, RowObject
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.book import Alert, AlertEvent, AlertState

QUEUE = RowObject("8001@SIP_Switch", "Queue", "Sales")


def raised(command: CommandAction) -> AlertEvent:
    """A raised alarm whose rule rings, flashes, says a line and runs `command`."""
    rule = AlertView(
        name="Backlog",
        level="alarm",
        hold=0,
        clear_after=0,
        repeat=0,
        quiet=False,
        actions=("bell", "banner", "log", command),
        targets=(),
        location=SourceLocation("layout.yaml", 4, 5),
    )
    alert = Alert(("Backlog", "Queue", QUEUE.id), rule, QUEUE, AlertState.RAISED, 7.0, 1.0e9)
    return AlertEvent("raised", alert, 1.0e9 + 5)


async def test_without_commands_the_screen_actions_still_run(tmp_path: Path) -> None:
    """run_commands=False rings, flashes and says the line, and starts no command."""
    ran = tmp_path / "ran"
    command = CommandAction((sys.executable, "-c", f"open({str(ran)!r}, 'w')"), 10.0)
    written: list[str] = []
    said: list[str] = []
    banners: list[AlertEvent] = []
    actions = AlertActions(
        terminal=written.append,
        say=said.append,
        banner=banners.append,
        flavour="osc9",
        run_commands=False,
    )
    event = raised(command)
    actions.run(event)
    await actions.aclose()
    assert written == ["\a"]
    assert banners == [event]
    assert said == ["ALARM raised: Backlog on Sales (Queue 8001@SIP_Switch) = 7"]
    assert not ran.exists()
