"""Snapshots of the small widgets: KPI tiles and state summary in two themes, trend, status."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from statdash.layout.formats import STATE_STYLES, Level, duration
from statdash.ui.app import STYLESHEET
from statdash.ui.palette import STATDASH_THEME
from statdash.ui.widgets.kpi import KpiTile
from statdash.ui.widgets.states import StateSummary
from statdash.ui.widgets.status_bar import StatusBar, StatusInfo
from statdash.ui.widgets.trend import TrendChart, TrendSeries

HISTORY = [3.0, 4.0, 6.0, 9.0, 12.0, 16.0, 19.0, 15.0, 12.0, 10.0, 8.0, 9.0, 12.0]
COUNTS = [
    ("WaitForNextCall", 12),
    ("CallInbound", 20),
    ("AfterCallWork", 5),
    ("NotReadyForNextCall", 3),
    ("CallOnHold", 1),
    ("LoggedOut", 0),
]


class TilesApp(App[None]):
    """Four tiles in a row (ok, warning, stale alarm, problem), a tiny tile, a state summary."""

    CSS_PATH = STYLESHEET  # the widgets' frames are the dashboard's
    CSS = """
    Horizontal { height: 7; }
    #tiny { width: 16; height: 5; }
    """

    def __init__(self, theme: str) -> None:
        super().__init__()
        self.register_theme(STATDASH_THEME)
        self.theme = theme

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield KpiTile("Service level", id="sl")
            yield KpiTile("Longest wait", id="wait")
            yield KpiTile("Waiting", id="queue")
            yield KpiTile("[b]Mystery[/b]", id="problem")
        yield KpiTile("Abandoned", id="tiny")
        yield StateSummary("Agents", id="states")

    def on_mount(self) -> None:
        self.query_one("#sl", KpiTile).update_value("87.5%", Level.OK, HISTORY)
        self.query_one("#wait", KpiTile).update_value(duration(252), Level.WARN, HISTORY)
        queue = self.query_one("#queue", KpiTile)
        queue.update_value("12", Level.ALARM, HISTORY)
        queue.stale = True
        self.query_one("#problem", KpiTile).set_problem("unknown statistic [@click=app.quit]x")
        self.query_one("#tiny", KpiTile).update_value("4.2%", Level.ALARM, HISTORY)
        self.query_one("#states", StateSummary).set_counts(
            [(STATE_STYLES[status], count) for status, count in COUNTS]
        )


@pytest.mark.parametrize("theme", ["statdash", "ansi-dark"])
def test_tiles_and_state_summary(snap_compare: Any, theme: str) -> None:
    """Tiles show big digits with level words, a stale mark, a problem, a one-line tiny tile."""
    assert snap_compare(TilesApp(theme), terminal_size=(80, 24))


class TrendStatusApp(App[None]):
    """A trend chart over three series and a status bar with every field set, at 80 columns."""

    CSS_PATH = STYLESHEET
    CSS = "StatusBar { dock: bottom; }"

    def compose(self) -> ComposeResult:
        yield TrendChart("Queue trends", window_label="last 30 min", id="trend")
        yield StatusBar(
            StatusInfo(
                server="https://alice:s3cret@stats.example.com:8443/statistics/v3",
                phase="retrying",
                retry_in=4.2,
                age=12.0,
                poll_ms=84.0,
                errors=3,
                message="connection refused",
                demo=True,
                page="2/3 Queues",
            )
        )

    def on_mount(self) -> None:
        self.register_theme(STATDASH_THEME)
        self.theme = "statdash"
        self.query_one(TrendChart).set_series(
            [
                ("Waiting", HISTORY, "12"),
                TrendSeries("Longest wait", [60.0, 95.0, 180.0, 252.0], duration(252), duration),
                ("Abandoned", [0.0, 0.0, 1.0, 1.0, 2.0, 3.0], "3"),
            ]
        )


def test_trend_chart_and_status_bar(snap_compare: Any) -> None:
    """Trend rows line up label, bars, value and range; the status bar fits one 80-column line."""
    assert snap_compare(TrendStatusApp(), terminal_size=(80, 12))
