"""Tests for the trend chart (`style: chart`): markers on shared axes, legend, no markup."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult

from statdash.ui.widgets.plot import MARKERS, TrendPlot, buckets
from statdash.ui.widgets.trend import TrendSeries


class PlotApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TrendPlot("Waiting", window_label="last 15 min")


def test_buckets_right_align_and_take_the_peak() -> None:
    """Short series sit at the right; long ones keep each bucket's maximum."""
    short = buckets([1.0, 2.0], 4)
    assert all(math.isnan(v) for v in short[:2]) and short[2:] == [1.0, 2.0]
    assert buckets([1.0, 5.0, 2.0, 3.0], 2) == [5.0, 3.0]


async def test_series_are_drawn_with_their_markers_and_legend() -> None:
    """Each series appears as its own marker, with the axis range and a legend line."""
    app = PlotApp()
    async with app.run_test(size=(60, 14)) as pilot:
        plot = app.query_one(TrendPlot)
        plot.set_series(
            [
                TrendSeries("Sales", [0.0, 1.0, 2.0, 3.0], "3"),
                TrendSeries("[@click=a.b]x", [5.0, 5.0, 5.0, 5.0], "5"),
            ]
        )
        await pilot.pause()
        rendered = plot.render().plain
        assert MARKERS[0] in rendered and MARKERS[1] in rendered
        assert rendered.splitlines()[0].lstrip().startswith("5")
        assert "Sales 3" in rendered and "[@click=a.b]x 5" in rendered
        assert all(
            not span.style or "@click" not in str(span.style) for span in plot.render().spans
        )


async def test_no_data_says_so() -> None:
    """Before any sample the chart says there is no data rather than drawing empty axes."""
    app = PlotApp()
    async with app.run_test(size=(40, 10)):
        plot = app.query_one(TrendPlot)
        plot.set_series([TrendSeries("Sales", [], "-")])
        assert "no data" in plot.render().plain
