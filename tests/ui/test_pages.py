"""Page layout: rows as tall as their content, spare height to a chart, tables shrink first."""

from __future__ import annotations

from textual.app import App, ComposeResult

from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import PageView
from statdash.ui.app import STYLESHEET
from statdash.ui.pages import MIN_ROW_HEIGHT, TABLE_CHROME, PageGrid, RowNeed, row_heights
from statdash.ui.panels import PlotPanel, TablePanel


def test_spare_height_goes_to_the_last_chart_row() -> None:
    """Rows keep their natural height; what is left goes to the (last) row with a chart."""
    rows = [RowNeed(7), RowNeed(12, grows=True), RowNeed(6, scrolls=True)]
    assert row_heights(rows, 36) == [7, 23, 6]
    # Without a chart nothing stretches: blank rows under a table would only be empty.
    assert row_heights([RowNeed(7), RowNeed(8, scrolls=True)], 36) == [7, 8]


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


async def test_a_table_of_five_agents_is_as_tall_as_its_rows() -> None:
    """Five agents beside a states bar on a tall screen: eight rows, not the page's height."""
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
        assert table.region.height == 5 + TABLE_CHROME


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
