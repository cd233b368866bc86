"""Alerts on the dashboard: pilot tests against the simulator, a snapshot of the alerts screen."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertView, RowObject
from statdash.live.alerts.book import Alert, AlertKey, AlertState, RuleState
from statdash.live.alerts.log import AlertLog
from statdash.live.controller import LiveController
from statdash.live.store import Batch
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import STYLESHEET, StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.palette import STATDASH_THEME
from statdash.ui.screens.alerts import AlertsScreen
from statdash.ui.widgets.alert_banner import AlertBanner
from tests.support.sim import SIM_START, shared_simulator
from tests.support.wait import until_async

SnapCompare = Callable[..., bool]

# `alert: true` at alarm 0 (direction above): every queue is at alarm from the first poll.
LAYOUT = """\
title: Alerts pilot
refresh: 2s
alert_settings:
  actions: [banner, bell, log]
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}, {queue: 8002@SIP_Switch, label: Care}]
        columns:
          - {stat: CurrentNumberWaitingCalls, label: Waiting, thresholds: {alarm: 0, alert: true}}
"""


# A small contact center on a manual clock.
sim = shared_simulator(SimConfig(agents=10, queues=2, seed=1, clock="manual", start_time=SIM_START))


def states(app: StatdashApp) -> dict[str, AlertState]:
    assert app.alerts is not None
    return {alert.object.label: alert.state for alert in app.alerts.book.active()}


async def test_raise_acknowledge_and_clear_on_the_dashboard(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """Alerts raise a banner, `a` on the alerts screen acks the selected one, `a` on the
    dashboard acks the rest, and a value out of alarm clears them into the history and log."""
    log_path = tmp_path / "alerts.jsonl"
    layout = compile_layout(load_layout_text(LAYOUT, file="pilot.yaml"))
    async with StatisticsClient(sim.base_url, "k", retry=RetryPolicy(attempts=1)) as client:
        app = build_app(
            layout,
            client,
            server_label="simulator",
            handle_signals=False,
            wall_clock=lambda: SIM_START + 30,
            alert_log=AlertLog(log_path),
        )
        async with app.run_test(size=(120, 30)) as pilot:
            banner = app.query_one(AlertBanner)
            await until_async(lambda: len(states(app)) == 2, pilot=pilot)
            await pilot.pause()
            assert banner.display
            assert banner.last_line.startswith(" \u203c ALARM  Waiting \u2265 0 on ")
            assert "+1 more" in banner.last_line

            await pilot.press("exclamation_mark")
            assert isinstance(app.screen, AlertsScreen)
            await pilot.press("a")  # the selected alert only
            assert sorted(states(app).values(), key=str) == [
                AlertState.ACKNOWLEDGED,
                AlertState.RAISED,
            ]
            await pilot.press("escape")
            await pilot.press("a")  # every raised alert
            assert set(states(app).values()) == {AlertState.ACKNOWLEDGED}
            await pilot.pause()
            assert banner.display and "2 acknowledged alerts standing" in banner.last_line

            # No pins in the simulator yet: pause polling, then put values out of alarm into
            # the store as a poll would, and tell the alerts what changed.
            await pilot.press("p")
            inputs = [t.inputs[0] for t in layout.alerts[0].targets]
            ingested = app.controller.store.ingest(
                Batch.of([(i, {"intValue": -1, "stringValue": "-1"}, None) for i in inputs]),
                now=time.monotonic(),
                wall=SIM_START + 40,
            )
            assert app.alerts is not None
            app.alerts.changed(ingested.changed)
            await pilot.pause()
            assert states(app) == {}
            assert not banner.display
            assert [a.state for a in app.alerts.book.history()] == [AlertState.CLEARED] * 2
            await pilot.press("q")
            await pilot.pause()
    assert sim.state()["open_subscriptions"] == 0
    events = [json.loads(line)["event"] for line in log_path.read_text().splitlines()]
    assert events.count("raised") == 2 and events.count("acknowledged") == 2
    assert events[-2:] == ["cleared", "cleared"]


PIN_LAYOUT = """\
title: Alerts with pins
refresh: 1s
statistics:
  waiting: {name: CurrentNumberWaitingCalls, label: Waiting}
alerts:
  - name: Sales backlog
    when: "waiting > 5"
    objects: [{queue: 8001@SIP_Switch, label: Sales}]
    level: alarm
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}]
        columns: [$waiting]
"""


def _pin(sim: RunningSimulator, value: float | None) -> None:
    """Pin Sales' calls waiting to `value` (None: release every pin)."""
    url = sim.base_url + "/simulator/pin"
    body = {
        "objectType": "Queue",
        "objectId": "8001@SIP_Switch",
        "name": "CurrentNumberWaitingCalls",
        "value": value,
    }
    with httpx.Client(trust_env=False) as http:
        answer = http.delete(url) if value is None else http.post(url, json=body)
    answer.raise_for_status()


async def test_a_pinned_backlog_raises_a_rule_a_acknowledges_and_a_lower_pin_clears(
    sim: RunningSimulator,
) -> None:
    """A rule over the simulator's pinned value (by push, as the dashboard runs by default):
    raised when the pin goes over the limit, acknowledged with `a`, cleared when it drops."""
    layout = compile_layout(load_layout_text(PIN_LAYOUT, file="pins.yaml"))
    _pin(sim, 1)
    try:
        async with StatisticsClient(sim.base_url, "k", retry=RetryPolicy(attempts=1)) as client:
            app = build_app(layout, client, server_label="simulator", handle_signals=False)
            async with app.run_test(size=(120, 30)) as pilot:
                controller = app.controller
                assert isinstance(controller, LiveController)  # a live app, not a replay
                await until_async(lambda: controller.pushing, pilot=pilot)
                assert states(app) == {}
                _pin(sim, 9)
                await until_async(lambda: states(app) == {"Sales": AlertState.RAISED}, pilot=pilot)
                await pilot.press("a")
                assert states(app) == {"Sales": AlertState.ACKNOWLEDGED}
                _pin(sim, 2)
                await until_async(lambda: states(app) == {}, pilot=pilot)
                assert app.alerts is not None
                assert [a.state for a in app.alerts.book.history()] == [AlertState.CLEARED]
                await pilot.press("q")
                await pilot.pause()
    finally:
        _pin(sim, None)
    assert sim.state()["open_subscriptions"] == 0
    assert sim.state()["cometd_clients"] == 0


# --- Snapshot: the alerts screen over a banner -------------------------------------------------


def _rule(name: str, level: Any) -> AlertView:
    return AlertView(
        name=name,
        level=level,
        hold=0,
        clear_after=0,
        repeat=0,
        quiet=False,
        actions=(),
        targets=(),
        location=SourceLocation("demo.yaml", 12, 5),
    )


SALES = RowObject("8001@SIP_Switch", "Queue", "Sales")
CARE = RowObject("8002@SIP_Switch", "Queue", "Care")
ANA = RowObject("ana.silva", "Agent", "ana.silva")
BACKLOG = _rule("Sales backlog", "alarm")
SLOW = _rule("Oldest call \u2265 1:00", "warn")
T0 = 1_700_000_000.0  # 22:13:20 UTC


def _alert(rule: AlertView, row: RowObject, state: AlertState, **times: Any) -> Alert:
    key: AlertKey = (rule.name, row.type, row.id)
    return Alert(key, rule, row, state, times.pop("value", 7.0), times.pop("at", T0), **times)


STANDING = [
    _alert(BACKLOG, SALES, AlertState.RAISED, value=9.0, at=T0 + 300),
    _alert(SLOW, CARE, AlertState.ACKNOWLEDGED, value=75.0, acknowledged_at=T0 + 90, stale=True),
]
CLEARED = [
    _alert(BACKLOG, CARE, AlertState.CLEARED, at=T0 - 600, cleared_at=T0 - 420),
    _alert(
        _rule("Not ready [b]too long[/b]", "warn"),
        ANA,
        AlertState.CLEARED,
        value=None,
        at=T0 - 1800,
        acknowledged_at=T0 - 1700,
        cleared_at=T0 - 1500,
    ),
]


RULES = [
    RuleState(
        replace(BACKLOG, when="waiting > 5", hold=10),
        watched=5,
        holding=1,
        raised=1,
        acknowledged=0,
    ),
    RuleState(SLOW, watched=5, holding=0, raised=0, acknowledged=1),
    RuleState(_rule("Nobody ready", "alarm"), watched=1, holding=0, raised=0, acknowledged=0),
]


class AlertsApp(App[None]):
    """A banner over the alerts screen, fed fixed alerts (one name holds markup)."""

    CSS_PATH = STYLESHEET

    def __init__(self) -> None:
        super().__init__()
        self.register_theme(STATDASH_THEME)
        self.theme = "statdash"

    def compose(self) -> ComposeResult:
        yield AlertBanner()

    def on_mount(self) -> None:
        self.query_one(AlertBanner).show_alerts(STANDING)
        self.push_screen(AlertsScreen(lambda: (STANDING, CLEARED, RULES), lambda keys: None))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so the times on screen are the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_alerts_screen(snap_compare: SnapCompare, utc: None) -> None:
    """Standing alerts with level words, state, stale mark and times; the cleared history."""
    assert snap_compare(AlertsApp(), terminal_size=(100, 24))


async def test_the_alerts_screen_says_which_rules_are_off_hours() -> None:
    """Rules outside their `active` windows are named in the heading, as plain text, and
    their Now column says off-hours."""
    rules = [
        RuleState(_rule("Night [b]backlog[/]", "alarm"), 2, 0, 0, 0, off_hours=True),
        RuleState(_rule("Weekend", "warn"), 1, 0, 0, 0, off_hours=True),
        RuleState(BACKLOG, 5, 0, 0, 0),
    ]

    class OffHoursApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(AlertsScreen(lambda: (STANDING, CLEARED, rules), lambda keys: None))

    app = OffHoursApp()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        heading = app.screen.query_one("#standing-heading", Static)
        assert str(heading.render()).endswith("; off-hours now: Night [b]backlog[/], Weekend")
        table = app.screen.query_one("#rules", DataTable)
        now = [str(table.get_row_at(index)[5]) for index in range(table.row_count)]
        assert now == ["off-hours", "off-hours", "quiet"]
        rules[:2] = [replace(rule, off_hours=False) for rule in rules[:2]]
        assert isinstance(app.screen, AlertsScreen)
        app.screen.show_alerts()
        await pilot.pause()
        assert "off-hours" not in str(heading.render())
