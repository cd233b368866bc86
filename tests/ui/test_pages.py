"""Page layout: rows as tall as their content, spare height to a chart, tables shrink first."""

from __future__ import annotations

from textual.app import App, ComposeResult

from statdash.layout.compile import compile_layout
from statdash.layout.formats import Level
from statdash.layout.loader import load_layout_text
from statdash.layout.views import PageView
from statdash.ui.app import STYLESHEET
from statdash.ui.pages import MIN_ROW_HEIGHT, TABLE_CHROME, PageGrid, RowNeed, row_heights
from statdash.ui.panels import PlotPanel, TablePanel
from statdash.ui.widgets.clock import ClockTile
from statdash.ui.widgets.kpi import KpiTile


def test_spare_height_goes_to_the_last_chart_row() -> None:
    """Rows keep their natural height; what is left goes to the (last) row with a chart."""
    rows = [RowNeed(7), RowNeed(12, grows=True), RowNeed(6, scrolls=True)]
    assert row_heights(rows, 36) == [7, 23, 6]
    # Without a chart or tiles the last table takes the room: no empty half screen.
    assert row_heights([RowNeed(7), RowNeed(8, scrolls=True)], 36) == [7, 29]
    assert row_heights([RowNeed(8, scrolls=True), RowNeed(7)], 36) == [29, 7]
    # With tiles, the tiles take it and the table stays as tall as its rows.
    assert row_heights([RowNeed(7, fills=True), RowNeed(8, scrolls=True)], 36) == [28, 8]


def test_tables_give_up_height_first_and_a_short_one_stays_whole() -> None:
    """Too tall for the page: tables shrink, sharing so the short one keeps all its rows."""
    rows = [RowNeed(53, scrolls=True, least=6), RowNeed(9, scrolls=True)]
    assert row_heights(rows, 36) == [27, 9]
    rows = [RowNeed(7), RowNeed(30, scrolls=True), RowNeed(40, scrolls=True)]
    assert row_heights(rows, 40) == [7, 16, 17]


def test_on_a_short_page_fixed_rows_shrink_but_not_below_the_minimum() -> None:
    """Rows that cannot scroll shrink so the tables keep some height, never below the least."""
    rows = [RowNeed(7), RowNeed(7), RowNeed(6), RowNeed(23, scrolls=True)]
    heights = row_heights(rows, 21)
    assert all(height >= MIN_ROW_HEIGHT for height in heights)
    assert heights[-1] >= MIN_ROW_HEIGHT


class Host(App[None]):
    CSS_PATH = STYLESHEET

    def __init__(self, page: PageView) -> None:
        super().__init__()
        self.page = page

    def compose(self) -> ComposeResult:
        yield PageGrid(self.page, id="p1")


def page_of(text: str) -> PageView:
    return compile_layout(load_layout_text(text, file="page.yaml")).pages[0]


async def test_a_short_table_takes_the_room_nothing_else_wants() -> None:
    """Five agents beside a states bar on a tall screen, nothing below: the table reaches the
    bottom of the page instead of leaving its lower half empty."""
    page = page_of(
        """
title: Small team
pages:
  - columns: 3
    widgets:
      - kind: agents
        span: 2
        agents: [a1, a2, a3, a4, a5]
      - kind: states
        agents: [a1, a2, a3, a4, a5]
"""
    )
    async with Host(page).run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        table = pilot.app.query_one(TablePanel)
        assert table.region.height > 5 + TABLE_CHROME
        assert table.region.bottom == pilot.app.query_one(PageGrid).region.bottom


async def test_a_chart_takes_the_height_the_other_rows_leave() -> None:
    """KPI tiles, a chart and a small table: no blank rows left under the table."""
    page = page_of(
        """
title: Service
pages:
  - columns: 2
    widgets:
      - {kind: kpi, object: {queue: q1}, stat: ServiceLevel}
      - {kind: kpi, object: {queue: q1}, stat: CurrentNumberWaitingCalls}
      - kind: trend
        span: 2
        style: chart
        series: [{object: {queue: q1}, stat: CurrentNumberWaitingCalls}]
      - kind: queues
        span: 2
        objects: [{queue: q1}, {queue: q2}, {queue: q3}]
        columns: [CurrentNumberWaitingCalls]
"""
    )
    async with Host(page).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        grid = pilot.app.query_one(PageGrid)
        chart = pilot.app.query_one(PlotPanel)
        table = pilot.app.query_one(TablePanel)
        assert table.region.height == 3 + TABLE_CHROME
        assert table.region.bottom == grid.region.bottom
        assert chart.region.height > 12


async def test_tiles_side_by_side_draw_their_digits_at_one_size() -> None:
    """A `0` that could be drawn tall beside a duration that fits only small digits: both
    at the duration's size, and a row below with other figures keeps its own size."""
    page = page_of(
        """
title: Wall
pages:
  - columns: 3
    widgets:
      - {kind: kpi, title: Ready, object: {queue: q1}, stat: CurrentReadyAgents}
      - {kind: kpi, title: Oldest, object: {queue: q1}, stat: CurrMaxCallWaitingTime,
         format: duration}
      - {kind: clock}
      - {kind: kpi, title: Waiting, object: {queue: q2}, stat: CurrentNumberWaitingCalls}
      - {kind: kpi, title: Calls, object: {queue: q2}, stat: Total_Answered}
"""
    )
    async with Host(page).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        ready, oldest, waiting, calls = pilot.app.query(KpiTile)
        clock = pilot.app.query_one(ClockTile)
        for tile, text in ((ready, "0"), (oldest, "0:00:00"), (waiting, "3"), (calls, "120")):
            tile.update_value(text, Level.OK)
        clock.set_time("12:34")
        await pilot.pause()
        alone, duration = ready.own_digit_size(), oldest.own_digit_size()
        assert alone is not None and duration is not None
        assert alone > duration  # alone, the 0 would be drawn bigger
        first_row = {ready.digit_size(), oldest.digit_size(), clock.digit_size()}
        assert len(first_row) == 1 and None not in first_row
        assert waiting.digit_size() == calls.digit_size()
        assert waiting.digit_size() != ready.digit_size()
