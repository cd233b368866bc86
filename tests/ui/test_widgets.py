"""Palette and small dashboard widgets: KPI tile, trend chart, state summary, status bar."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TypeVar

import pytest
from rich.color import ColorType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Offset, Region
from textual.selection import Selection
from textual.theme import BUILTIN_THEMES
from textual.widget import Widget

from statdash.layout.formats import MISSING, STATE_STYLES, Level, StateStyle, duration
from statdash.ui.app import STYLESHEET
from statdash.ui.palette import (
    PALETTE_NAMES,
    STATDASH_THEME,
    THEME_NAMES,
    colour,
    colour_style,
    fill_style,
    level_style,
)
from statdash.ui.widgets.kpi import KpiTile, big_digits
from statdash.ui.widgets.line import TextLine, changed_cells
from statdash.ui.widgets.states import StateSummary, allocate
from statdash.ui.widgets.status_bar import StatusBar, StatusInfo, ago, host_of
from statdash.ui.widgets.trend import BARS, TrendChart, TrendSeries, spark_bars
from tests.support.panels import record_refreshes

HOSTILE = ("[/]", "[@click=app.quit]x", "\x1b]52;c;aGk=\x07", "[b]x[/b]")
READY = STATE_STYLES["WaitForNextCall"]
INBOUND = STATE_STYLES["CallInbound"]
AFTER = STATE_STYLES["AfterCallWork"]
NOT_READY = STATE_STYLES["NotReadyForNextCall"]
HISTORY = [3.0, 5.0, 8.0, 12.0, 19.0, 14.0, 12.0]


class Harness(App[None]):
    """An app showing the given widgets under a chosen theme; records quit requests."""

    CSS_PATH = STYLESHEET  # the widgets' frames are the dashboard's
    CSS = "Screen { layout: vertical; }"

    def __init__(self, *widgets: Widget, theme: str = "textual-dark") -> None:
        super().__init__()
        self.register_theme(STATDASH_THEME)
        self.theme = theme
        self.widgets = widgets
        self.quit_requests = 0

    def compose(self) -> ComposeResult:
        yield from self.widgets

    async def action_quit(self) -> None:
        """Count instead of quitting, so a smuggled [@click=app.quit] shows up in a test."""
        self.quit_requests += 1


def strips(widget: Widget) -> list[list[Segment]]:
    """The segments of every line the widget paints, border included."""
    width, height = widget.outer_size
    return [list(strip) for strip in widget.render_lines(Region(0, 0, width, height))]


def lines(widget: Widget) -> list[str]:
    """The text of every line the widget paints, border included."""
    return ["".join(segment.text for segment in line) for line in strips(widget)]


def screen_text(widget: Widget) -> str:
    """All painted lines joined by newlines."""
    return "\n".join(lines(widget))


def styles_of(widget: Widget, text: str) -> Iterator[Style]:
    """Styles of the painted segments whose text contains `text`."""
    for line in strips(widget):
        for segment in line:
            if text in segment.text and segment.style is not None:
                yield segment.style


W = TypeVar("W", bound=Widget)


def sized(widget: W, width: int, height: int | None = None) -> W:
    """`widget` with a fixed outer size."""
    widget.styles.width = width
    if height is not None:
        widget.styles.height = height
    return widget


def ansi_number(style: Style) -> int | None:
    """The ANSI colour number of the style's foreground, None when it is not an ANSI colour."""
    if style.color is None or style.color.type is not ColorType.STANDARD:
        return None
    return style.color.number


def count_refreshes(widget: Widget) -> list[int]:
    """Wrap `widget.refresh` so the returned list grows by one per call."""
    calls: list[int] = []
    original = widget.refresh

    def counting(*args: object, **kwargs: object) -> Widget:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    widget.refresh = counting  # type: ignore[method-assign]
    return calls


# --- palette -------------------------------------------------------------------------------


def test_ansi_theme_uses_the_terminals_own_colours() -> None:
    """Under ansi-dark every palette name is one of the 16 ANSI colours; grey is bright black."""
    theme = BUILTIN_THEMES["ansi-dark"]
    for name in PALETTE_NAMES:
        found = colour(name, theme)
        assert found is not None and found.type is ColorType.STANDARD, name
    assert colour_style("grey", theme) == Style(color="bright_black")
    assert colour_style("green", theme) == Style(color="green")


def test_truecolor_themes_get_distinct_truecolor_colours() -> None:
    """Under truecolor themes, dark or light, the eight names are distinct truecolor colours."""
    for theme in (STATDASH_THEME, BUILTIN_THEMES["textual-dark"], BUILTIN_THEMES["textual-light"]):
        found = [colour(name, theme) for name in PALETTE_NAMES]
        assert all(c is not None and c.type is ColorType.TRUECOLOR for c in found), theme.name
        assert len({c.triplet for c in found if c is not None}) == len(PALETTE_NAMES)
    dark = colour("yellow", BUILTIN_THEMES["textual-dark"])
    light = colour("yellow", BUILTIN_THEMES["textual-light"])
    assert dark != light


def test_unknown_colour_name_is_the_default_foreground() -> None:
    """A name the palette does not know (say, from a layout file) gives a plain style."""
    theme = BUILTIN_THEMES["textual-dark"]
    assert colour_style("chartreuse", theme) == Style()
    assert colour_style("Gray", theme) == colour_style("grey", theme)
    assert fill_style("chartreuse", theme) == Style(reverse=True)


def test_fill_style_puts_readable_ink_on_the_colour() -> None:
    """Bar segments get the palette colour as background and a contrasting foreground."""
    for theme in (BUILTIN_THEMES["ansi-dark"], STATDASH_THEME, BUILTIN_THEMES["textual-light"]):
        for name in PALETTE_NAMES:
            style = fill_style(name, theme)
            assert style.bgcolor == colour(name, theme)
            assert style.color is not None and style.color != style.bgcolor
    assert fill_style("yellow", BUILTIN_THEMES["ansi-dark"]).color == Style(color="black").color


def test_level_styles_follow_the_theme() -> None:
    """WARN/ALARM are bold in the theme's warning/error colour (ANSI in ansi-dark); OK is plain."""
    ansi = BUILTIN_THEMES["ansi-dark"]
    warn, alarm = level_style(Level.WARN, ansi), level_style(Level.ALARM, ansi)
    assert warn.bold and ansi_number(warn) == 3  # yellow
    assert alarm.bold and ansi_number(alarm) == 1  # red
    assert level_style(Level.OK, ansi) == Style()
    dark, light = BUILTIN_THEMES["textual-dark"], BUILTIN_THEMES["textual-light"]
    assert level_style(Level.ALARM, dark).color != level_style(Level.ALARM, light).color
    assert level_style(Level.WARN, dark).color != level_style(Level.ALARM, dark).color


async def test_every_offered_theme_is_available() -> None:
    """Each theme name the app offers exists once statdash's theme is registered."""
    app = Harness()
    async with app.run_test():
        assert set(THEME_NAMES) <= set(app.available_themes)
        for name in THEME_NAMES:
            app.theme = name
            assert colour_style("green", app.current_theme).color is not None


# --- KPI tile ------------------------------------------------------------------------------


def test_big_font_covers_dashboard_values() -> None:
    """Digits, '.', ',', '%', ':' and the missing-value dash all have a 3-row big form."""
    for text in ("87.5%", "1,234", duration(252), MISSING, "-3", "+2"):
        rows = big_digits(text)
        assert rows is not None, text
        assert len({len(row) for row in rows}) == 1 and "".join(rows).strip(), text
    assert big_digits("Ready") is None
    assert big_digits("n/a") is None


async def test_kpi_tile_shows_value_big_with_level_word() -> None:
    """A roomy tile draws the value in big digits and the level as glyph and word."""
    tile = sized(KpiTile("Waiting"), 30, 7)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("12.5%", Level.ALARM, HISTORY)
        await pilot.pause()
        painted = screen_text(tile)
        assert "Waiting" in lines(tile)[0]
        rows = big_digits("12.5%")
        assert rows is not None
        for row in rows:
            assert row in painted
        assert "‼ ALARM" in painted
        assert any(bar in painted for bar in BARS)
        assert tile.has_class("-alarm")


async def test_kpi_tile_level_is_colour_and_word() -> None:
    """Under ansi-dark an alarm value is ANSI red and the tile also says ALARM in words."""
    tile = sized(KpiTile("Waiting"), 30, 7)
    async with Harness(tile, theme="ansi-dark").run_test(size=(40, 10)) as pilot:
        tile.update_value("7", Level.WARN)
        await pilot.pause()
        assert "! WARNING" in screen_text(tile)
        assert any(ansi_number(style) == 3 for style in styles_of(tile, "╶─┐"))
        tile.update_value("7", Level.OK)
        await pilot.pause()
        assert "WARNING" not in screen_text(tile) and not tile.has_class("-warn")


async def test_widgets_repaint_in_a_new_theme() -> None:
    """Switching to ansi-dark repaints palette colours as ANSI colours without new data."""
    tile = sized(KpiTile("Waiting"), 30, 7)
    summary = StateSummary()
    async with Harness(tile, summary).run_test(size=(40, 14)) as pilot:
        tile.update_value("7", Level.ALARM)
        summary.set_counts([(READY, 2)])
        await pilot.pause()
        assert ansi_number(next(styles_of(tile, "╶─┐"))) is None
        pilot.app.theme = "ansi-dark"
        await pilot.pause()
        assert ansi_number(next(styles_of(tile, "╶─┐"))) == 1  # red
        bar = next(styles_of(summary, "● 2"))
        assert bar.bgcolor is not None and bar.bgcolor.number == 2  # green


async def test_kpi_tile_degrades_to_one_line_when_small() -> None:
    """At 16x5 cells the value is one line of ordinary text, not clipped big digits."""
    tile = sized(KpiTile("Service level"), 16, 5)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("87.5%", Level.ALARM, HISTORY)
        await pilot.pause()
        painted = lines(tile)
        assert "87.5%" in painted[1]
        assert "‼" in screen_text(tile)
        assert not any(char in screen_text(tile) for char in "╭╮╰╯╶╴")


async def test_kpi_tile_single_row_keeps_glyph_beside_value() -> None:
    """With one content row the level glyph (or word when it fits) stays next to the value."""
    tile = sized(KpiTile("SL"), 12, 3)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("87.5%", Level.ALARM, HISTORY)
        await pilot.pause()
        assert lines(tile)[1].strip("│┃ ").startswith("87.5% ‼")


async def test_kpi_tile_text_values_fall_back_to_plain_text() -> None:
    """A value with letters (a state word) is shown as ordinary text even in a big tile."""
    tile = sized(KpiTile("State"), 30, 7)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("Ready", Level.OK)
        await pilot.pause()
        assert "Ready" in lines(tile)[1]


async def test_kpi_tile_stale_keeps_value_dimmed_with_mark() -> None:
    """A stale tile still shows its value, dimmed, and says 'stale' in its border."""
    tile = sized(KpiTile("Waiting"), 30, 7)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("12", Level.OK)
        await pilot.pause()
        assert "stale" not in screen_text(tile)
        fresh = {style.color for style in styles_of(tile, "╶┴╴")}
        tile.stale = True
        await pilot.pause()
        assert "stale" in lines(tile)[-1]
        # Textual paints dim text as a colour blended towards the background.
        stale = {style.color for style in styles_of(tile, "╶┴╴")}
        assert fresh and stale and fresh.isdisjoint(stale)
        rows = big_digits("12")
        assert rows is not None and rows[1] in screen_text(tile)


async def test_kpi_tile_problem_replaces_value() -> None:
    """A problem text is shown instead of the value until it is cleared."""
    tile = sized(KpiTile("Mystery"), 30, 7)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("12", Level.ALARM)
        tile.set_problem("unknown statistic")
        await pilot.pause()
        painted = screen_text(tile)
        assert "unknown statistic" in painted and "ALARM" not in painted
        assert not tile.has_class("-alarm")
        tile.set_problem(None)
        await pilot.pause()
        assert "unknown statistic" not in screen_text(tile) and "ALARM" in screen_text(tile)
        assert tile.has_class("-alarm")


async def test_a_selection_in_a_tile_copies_what_it_shows() -> None:
    """Text selected in a tile is the tile's text (a tile drawing its own lines has no
    `render()`: Textual's default would have copied the widget's CSS name)."""
    tile = sized(KpiTile("Waiting"), 30, 7)
    async with Harness(tile).run_test(size=(40, 10)) as pilot:
        tile.update_value("12", Level.ALARM)
        await pilot.pause()
        selected = tile.get_selection(Selection(None, None))
        rows = big_digits("12")
        assert selected is not None and rows is not None
        assert all(row in selected[0] for row in rows) and "ALARM" in selected[0]
        assert "KpiTile" not in selected[0]


async def test_a_tile_whose_trend_moved_repaints_only_its_trend_rows() -> None:
    """A big tile whose trend gained a sample repaints its trend rows, not its digits (it was
    repainted whole: Textual's border and style work on every line), and shows the new bars."""
    tile = sized(KpiTile("Waiting"), 40, 20)
    async with Harness(tile).run_test(size=(50, 24)) as pilot:
        tile.update_value("12", Level.WARN, HISTORY)
        await pilot.pause()
        before = lines(tile)
        repainted = record_refreshes(tile)
        tile.update_value("12", Level.WARN, [*HISTORY, 2.0])
        await pilot.pause()
        after = lines(tile)
        pairs = enumerate(zip(before, after, strict=True))
        changed = {row for row, (old, new) in pairs if old != new}
        assert repainted and all(regions for regions in repainted)
        # Content rows are one below the painted rows (the border).
        rows = {row + 1 for regions in repainted for region in regions for row in region.line_range}
        assert changed and changed <= rows
        trend = {row for row, line in enumerate(after) if any(bar in line for bar in BARS)}
        assert rows <= trend


async def test_kpi_tile_skips_redraw_when_nothing_changed() -> None:
    """Pushing the same value, level and history again does not refresh the tile."""
    tile = KpiTile("Waiting")
    async with Harness(tile).run_test() as pilot:
        tile.update_value("12", Level.OK, HISTORY)
        await pilot.pause()
        calls = count_refreshes(tile)
        tile.update_value("12", Level.OK, list(HISTORY))
        tile.set_problem(None)
        assert calls == []
        tile.update_value("13", Level.OK, HISTORY)
        assert calls == [1]


# --- trend ---------------------------------------------------------------------------------


def test_spark_bars_scale_bucket_and_gap() -> None:
    """Bars span min..max, newest right; long series bucket by max; NaN is a gap."""
    assert spark_bars([0, 7], 4) == "  ▁█"
    assert spark_bars([1, 9, 1, 1], 2) == "█▁"
    assert spark_bars([1, math.nan, 3], 3) == "▁ █"
    assert spark_bars([5, 5], 2) == "▄▄"
    assert spark_bars([0, 0], 2) == "▁▁"
    assert spark_bars([], 3) == "   "
    assert spark_bars([1, 2], 0) == ""


async def test_trend_chart_rows_show_label_bars_current_and_range() -> None:
    """Each series is one row: label, sparkline, current value and min/max."""
    chart = sized(TrendChart("Trends", window_label="last 30 min"), 70)
    async with Harness(chart).run_test(size=(80, 12)) as pilot:
        chart.set_series(
            [
                ("Waiting", HISTORY, "12"),
                TrendSeries("Longest wait", [60, 252], duration(252), duration),
            ]
        )
        await pilot.pause()
        painted = lines(chart)
        assert len(painted) == 4
        waiting = painted[1]
        assert waiting.index("Waiting") < waiting.index("▁") < waiting.index("12 (min 3, max 19)")
        assert "0:04:12 (min 0:01:00, max 0:04:12)" in painted[2]
        assert "last 30 min" in painted[-1]


async def test_trend_chart_drops_range_then_bars_when_narrow() -> None:
    """A narrow chart keeps label and value; min/max goes before the bars do."""
    chart = sized(TrendChart(), 40)
    async with Harness(chart).run_test(size=(80, 12)) as pilot:
        chart.set_series([("Waiting", HISTORY, "12")])
        await pilot.pause()
        row = lines(chart)[1]
        assert "(max 19)" in row and "min" not in row and "▁" in row
        chart.styles.width = 16
        await pilot.pause()
        row = lines(chart)[1]
        assert "Waiting" in row and "12" in row and "max" not in row


async def test_trend_chart_stale_and_overflow() -> None:
    """A stale chart says so; more series than lines end in a '… N more' line."""
    chart = sized(TrendChart(window_label="last 30 min"), 60, 5)
    async with Harness(chart).run_test(size=(80, 12)) as pilot:
        chart.set_series([(f"Queue {n}", HISTORY, str(n)) for n in range(5)])
        chart.stale = True
        await pilot.pause()
        painted = lines(chart)
        assert "stale · last 30 min" in painted[-1]
        assert "Queue 0" in painted[1] and "Queue 1" in painted[2] and "… 3 more" in painted[3]
        assert chart.has_class("-stale")


async def test_trend_chart_skips_redraw_when_nothing_changed() -> None:
    """Setting equal series again does not refresh the chart."""
    chart = TrendChart()
    async with Harness(chart).run_test() as pilot:
        chart.set_series([("Waiting", HISTORY, "12")])
        await pilot.pause()
        calls = count_refreshes(chart)
        chart.set_series([("Waiting", tuple(HISTORY), "12")])
        assert calls == []


# --- state summary -------------------------------------------------------------------------


def test_allocate_is_proportional_and_keeps_small_states_visible() -> None:
    """Cells follow the counts, add up to the width, and every non-zero state gets a cell."""
    assert allocate([50, 25, 25], 8) == [4, 2, 2]
    cells = allocate([98, 1, 1, 0], 10)
    assert cells == [8, 1, 1, 0]
    assert sum(allocate([12, 20, 5, 3, 1], 77)) == 77
    assert allocate([0, 0], 10) == [0, 0]
    assert allocate([3], 0) == [0]


async def test_state_summary_bar_proportions_and_legend() -> None:
    """The bar's segments are as wide as their share of agents; the legend lists every state."""
    summary = sized(StateSummary("Agents"), 44)
    async with Harness(summary).run_test(size=(60, 10)) as pilot:
        summary.set_counts([(READY, 20), (INBOUND, 10), (NOT_READY, 10)])
        await pilot.pause()
        bar = strips(summary)[1][1:-1]
        theme = summary.app.current_theme
        widths = {
            state.word: sum(
                len(seg.text)
                for seg in bar
                if seg.style and seg.style.bgcolor == colour(state.colour, theme)
            )
            for state in (READY, INBOUND, NOT_READY)
        }
        assert widths == {"Ready": 20, "Inbound": 10, "Not ready": 10}
        legend = " ".join(lines(summary)[2:-1])
        assert "● Ready 20" in legend and "◀ Inbound 10" in legend and "total 40" in legend


async def test_state_summary_readable_without_colour() -> None:
    """With NO_COLOR the bar is drawn with each state's glyph, in proportion."""
    summary = sized(StateSummary(), 36)
    app = Harness(summary)
    app.no_color = True
    async with app.run_test(size=(60, 10)) as pilot:
        summary.set_counts([(READY, 3), (AFTER, 1)])
        await pilot.pause()
        bar = lines(summary)[1]
        assert bar.count("●") == 24 and bar.count("✎") == 8


async def test_state_summary_legend_wraps_whole_entries() -> None:
    """At a narrow width the legend wraps between entries and the widget grows taller."""
    summary = sized(StateSummary(), 30)
    async with Harness(summary).run_test(size=(60, 12)) as pilot:
        summary.set_counts([(READY, 12)])
        await pilot.pause()
        assert summary.outer_size.height == 2 + 1 + 1
        summary.set_counts([(READY, 12), (INBOUND, 20), (AFTER, 5), (NOT_READY, 3)])
        await pilot.pause()
        legend = lines(summary)[2:-1]
        assert len(legend) >= 3 and summary.outer_size.height == 2 + 1 + len(legend)
        for entry in ("● Ready 12", "◀ Inbound 20", "✎ After call 5", "■ Not ready 3"):
            assert any(entry in line for line in legend), entry


async def test_state_summary_keeps_every_count_when_short() -> None:
    """In a cell too short for the full legend, every state's count still shows: the legend
    drops the words, then the entries whose count the bar already shows."""
    from textual.containers import Container

    styles = list(STATE_STYLES.values())[:10]
    counts = list(zip(styles, range(40, 0, -4), strict=True))
    summary = StateSummary("States")
    cell = sized(Container(summary), 40, 6)
    summary.styles.max_height = "100%"
    async with Harness(cell).run_test(size=(60, 12)) as pilot:
        summary.set_counts(counts)
        await pilot.pause()
        painted = lines(summary)
        assert len(painted) == 6
        bar, legend = painted[1], " ".join(painted[2:-1])
        for style, count in counts:
            entry = f"{style.glyph} {count}"
            assert entry in legend or entry in bar or f"{style.word} {count}" in legend, entry


async def test_state_summary_stale_and_unchanged() -> None:
    """A stale summary says so; equal counts again cause no refresh."""
    summary = StateSummary()
    async with Harness(summary).run_test() as pilot:
        summary.set_counts([(READY, 1)])
        summary.stale = True
        await pilot.pause()
        assert "stale" in lines(summary)[-1]
        calls = count_refreshes(summary)
        summary.set_counts([(StateStyle("Ready", "●", "green"), 1)])
        assert calls == []


async def test_a_state_summary_repaints_only_the_lines_whose_counts_moved() -> None:
    """New counts repaint the bar and the legend lines that changed, not the whole widget
    (through `render()` Textual converted the whole summary at each change)."""
    summary = sized(StateSummary("Agents"), 44)
    async with Harness(summary).run_test(size=(60, 10)) as pilot:
        summary.set_counts([(READY, 20), (INBOUND, 10), (NOT_READY, 10)])
        await pilot.pause()
        repainted = record_refreshes(summary)
        # One agent from Inbound to Ready: the bar's proportions and the legend move.
        summary.set_counts([(READY, 21), (INBOUND, 9), (NOT_READY, 10)])
        await pilot.pause()
        assert repainted, "the new counts were drawn"
        assert all(regions for regions in repainted), "a region each time, never the whole"
        rows = {y for regions in repainted for region in regions for y in region.line_range}
        assert rows and max(rows) < len(lines(summary)) - 2
        assert "● Ready 21" in " ".join(lines(summary))


# --- status bar ----------------------------------------------------------------------------

FULL_STATUS = StatusInfo(
    server="https://alice:s3cret@stats.contact-center.example.com:8443/statistics/v3?key=K",
    phase="failed",
    retry_in=None,
    age=125.0,
    poll_ms=84.4,
    errors=3,
    message="HTTP 503 from the Statistics API: service unavailable, try again later please",
    demo=True,
    page="2/3 Queues",
)


async def test_status_bar_fits_80_columns_with_every_field() -> None:
    """Every field set at 80 columns: one line, DEMO and phase kept, no credentials."""
    bar = StatusBar(FULL_STATUS)
    async with Harness(bar).run_test(size=(80, 5)):
        (line,) = lines(bar)
        assert len(line) == 80 and "DEMO" in line and "failed: HTTP 503" in line
        # The last part is whole, so nothing was cropped at the edge.
        assert "updated 2m ago" in line and line.rstrip().endswith("3 errors")
        assert "alice" not in line and "s3cret" not in line and "key=" not in line


async def test_status_bar_shows_everything_when_wide() -> None:
    """A wide bar shows host, phase, age, poll time, errors and the page."""
    info = StatusInfo(
        server="https://alice:pw@stats.example.com:8443/v3",
        phase="retrying",
        retry_in=4.2,
        age=2.4,
        poll_ms=84.4,
        errors=1,
        message="connection refused",
        page="2/3 Queues",
    )
    bar = StatusBar(info)
    async with Harness(bar).run_test(size=(160, 5)):
        (line,) = lines(bar)
        for part in (
            "↻ retrying in 5s: connection refused",
            "stats.example.com:8443",
            "updated 2s ago",
            "poll 84 ms",
            "1 error",
            "2/3 Queues",
        ):
            assert part in line, part
        assert "DEMO" not in line and "alice" not in line


async def test_status_bar_drops_least_important_parts_first() -> None:
    """Narrowing drops poll time, server, page, errors, age in that order; the phase stays."""
    info = StatusInfo("stats.example.com", "live", age=1, poll_ms=84, errors=2, page="1/2 Agents")
    bar = StatusBar(info)
    async with Harness(bar).run_test(size=(120, 5)) as pilot:
        seen = []
        for width in (100, 80, 62, 50, 40, 24, 12):
            bar.styles.width = width
            await pilot.pause()
            (line,) = lines(bar)
            assert len(line) <= width
            seen.append(line)
        order = ("poll 84 ms", "stats.example.com", "1/2 Agents", "2 errors", "updated 1s ago")
        first_missing = [
            next(i for i, line in enumerate(seen) if part not in line) for part in order
        ]
        assert first_missing == [1, 2, 4, 5, 6]
        assert all("● live" in line for line in seen)


@pytest.mark.parametrize("width", [120, 80])
async def test_status_bar_keeps_the_layout_notice_whole(width: int) -> None:
    """A broken layout's notice stays whole at 120 and 80 columns; the other parts give way."""
    info = StatusInfo(
        server="https://stats.example.com:8443/v3",
        phase="live",
        age=2.4,
        poll_ms=84.4,
        errors=3,
        layout="layout: 12 problems (press e)",
        demo=True,
        page="2/3 Queues",
    )
    bar = StatusBar(info)
    async with Harness(bar).run_test(size=(width, 5)):
        (line,) = lines(bar)
        assert len(line) <= width
        assert "layout: 12 problems (press e)" in line
        assert "DEMO" in line and "● live" in line


def test_host_of_never_shows_credentials_or_paths() -> None:
    """Only host and port survive; odd inputs give something sensible, never secrets."""
    assert host_of("https://u:p@h.example.com:8443/a?apikey=x") == "h.example.com:8443"
    assert host_of("h.example.com") == "h.example.com"
    assert host_of("user@h.example.com:99/p") == "h.example.com:99"
    assert host_of("http://[::1]:8080/") == "[::1]:8080"
    assert host_of("http://u:p@h:notaport/") == "h"
    assert ago(0.4) == "0s" and ago(3599) == "59m" and ago(3725) == "1h 2m"


async def test_status_bar_phases_and_unchanged_info() -> None:
    """Phases read as words, unknown ones as given; equal info skips redraw; odd numbers are ok."""
    bar = StatusBar()
    async with Harness(bar).run_test(size=(80, 5)) as pilot:
        assert "◌ connecting" in lines(bar)[0] and "no data yet" in lines(bar)[0]
        for phase, shown in (("paused", "‖ paused"), ("live", "● live"), ("warp", "? warp")):
            bar.update_status(StatusInfo("h", phase))
            await pilot.pause()
            assert shown in lines(bar)[0]
        calls = count_refreshes(bar)
        bar.update_status(StatusInfo("h", "warp"))
        assert calls == []
        odd = StatusInfo("h", "retrying", retry_in=math.inf, age=math.nan, poll_ms=math.inf)
        bar.update_status(odd)
        await pilot.pause()
        assert "↻ retrying │ h │ no data yet │ 0 errors" in lines(bar)[0]


async def test_status_bar_repaints_only_when_its_line_reads_differently() -> None:
    """The data age moves every second, but the line is sent only when the words change."""
    bar = StatusBar(StatusInfo("h", "live", age=1.2))
    async with Harness(bar).run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        assert "updated 1s ago" in lines(bar)[0]
        calls = count_refreshes(bar)
        bar.update_status(StatusInfo("h", "live", age=1.7))
        assert calls == []
        bar.update_status(StatusInfo("h", "live", age=2.1))
        assert calls == [1]
        await pilot.pause()
        assert "updated 2s ago" in lines(bar)[0]


def test_changed_cells_finds_the_cells_that_read_or_look_different() -> None:
    """The span of cells between the first and the last difference, in characters or style;
    a wide character takes two cells; the same line has no span."""
    line = Text("next: 2 Queues in 18s")
    assert changed_cells(line, Text("next: 2 Queues in 18s")) is None
    assert changed_cells(line, Text("next: 2 Queues in 17s")) == (19, 20)
    assert changed_cells(line, Text("next: 2 Queues in 9s")) == (18, 21)
    bold = Text("next: 2 Queues in 18s")
    bold.stylize("bold", 6, 7)
    assert changed_cells(line, bold) == (6, 7)
    assert changed_cells(Text("a界b"), Text("a界c")) == (3, 4)
    assert changed_cells(Text("ab"), Text("")) == (0, 2)


async def test_a_text_line_repaints_only_the_cells_that_changed() -> None:
    """The title's countdown moving from 18s to 17s repaints its one changed cell (after the
    line's padding), not the line; the same text again repaints nothing."""
    title = TextLine(Text("Wallboard   next: 2 Queues in 18s"))
    title.styles.padding = (0, 1)
    async with Harness(title).run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        calls = record_refreshes(title)
        title.show(Text("Wallboard   next: 2 Queues in 17s"))
        title.show(Text("Wallboard   next: 2 Queues in 17s"))
        assert [title.content_offset] == [Offset(1, 0)]
        assert calls == [(Region(31, 0, 1, 1),)]
        await pilot.pause()
        assert lines(title)[0].startswith(" Wallboard   next: 2 Queues in 17s ")


async def test_status_bar_repaints_only_the_cells_that_changed() -> None:
    """A second later only the data age's digit is repainted, not the line; a new phase
    repaints from its first changed cell to its last."""
    bar = StatusBar(StatusInfo("h", "live", age=2.1))
    async with Harness(bar).run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        before = lines(bar)[0]
        calls = record_refreshes(bar)
        bar.update_status(StatusInfo("h", "live", age=3.2))
        assert calls == [(Region(before.index("2s ago"), 0, 1, 1),)]
        await pilot.pause()
        assert lines(bar)[0] == before.replace("2s ago", "3s ago")
        calls.clear()
        bar.update_status(StatusInfo("h", "paused", age=3.2))
        await pilot.pause()
        after = lines(bar)[0]
        first = next(
            x for x, (old, new) in enumerate(zip(before, after, strict=True)) if old != new
        )
        [(region,)] = calls
        # From the glyph (● -> ‖) to the last cell that moved (the line got longer).
        assert region.x == first == before.index("●")
        assert region.right == len(after.rstrip())


async def test_status_bar_paints_the_last_status_given_before_the_paint() -> None:
    """Two statuses before one paint: the line painted is the second's, also when the second
    reads as the line already on screen."""
    bar = StatusBar(StatusInfo("h", "live", age=2.1))
    async with Harness(bar).run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        bar.update_status(StatusInfo("h", "live", age=3.2))
        bar.update_status(StatusInfo("h", "live", age=2.2))
        await pilot.pause()
        assert "updated 2s ago" in lines(bar)[0]
        bar.update_status(StatusInfo("h", "live", age=4.2))
        bar.update_status(StatusInfo("h", "live", age=5.2))
        await pilot.pause()
        assert "updated 5s ago" in lines(bar)[0]


# --- hostile text --------------------------------------------------------------------------


def hostile_widgets(text: str) -> list[Widget]:
    """One of each widget, fed `text` everywhere it takes server or layout text."""
    tile = sized(KpiTile(text, id="value"), 30, 7)
    tile.update_value(text, Level.WARN, HISTORY)
    problem = sized(KpiTile(text, id="problem"), 30, 7)
    problem.set_problem(text)
    chart = TrendChart(text, window_label=text)
    chart.set_series([(text, HISTORY, text), (text, [], text)])
    summary = StateSummary(text)
    summary.set_counts([(StateStyle(text, "?", text), 3), (READY, 1)])
    bar = StatusBar(StatusInfo(text, text, message=text, page=text, demo=True))
    return [tile, problem, chart, summary, bar]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_renders_literally_and_inertly(text: str) -> None:
    """Markup and escape sequences in data are shown as characters: no crash, style or action."""
    widgets = hostile_widgets(text)
    app = Harness(*widgets)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        visible = text.replace("\x1b", "\ufffd").replace("\x07", "\ufffd")
        for widget in widgets:
            painted = screen_text(widget)
            assert "\x1b" not in painted and "\x07" not in painted
            assert visible[:8] in painted, (widget, painted)
            if not isinstance(widget, StatusBar):
                assert visible[:8] in lines(widget)[0], "border title"
            for line in strips(widget):
                for segment in line:
                    meta = segment.style.meta if segment.style else {}
                    assert "@click" not in meta
            await pilot.click(widget)
        await pilot.pause()
        assert app.quit_requests == 0
        assert app.is_running


def test_palette_covers_every_layout_colour() -> None:
    """Every colour a layout file may name has a palette entry in dark, light and ANSI themes."""
    from textual.theme import BUILTIN_THEMES

    from statdash.layout.vocabulary import COLOURS
    from statdash.ui.palette import PALETTE_NAMES, colour

    assert set(COLOURS) <= set(PALETTE_NAMES)
    for theme_name in ("textual-dark", "textual-light", "ansi-dark"):
        theme = BUILTIN_THEMES[theme_name]
        assert all(colour(name, theme) is not None for name in COLOURS), theme_name


async def test_status_bar_says_how_values_arrive_and_what_reconciliation_corrected() -> None:
    """The phase carries push/poll/push lost, the corrections count shows, a failure hides both."""
    bar = StatusBar()
    async with Harness(bar).run_test(size=(120, 5)) as pilot:
        for updates in ("push", "poll", "push lost: polling"):
            bar.update_status(StatusInfo("h", "live", age=1, updates=updates, corrected=3))
            await pilot.pause()
            (line,) = lines(bar)
            assert f"● live · {updates} │" in line and "3 corrected" in line
        bar.update_status(StatusInfo("h", "failed", message="refused", updates="push"))
        await pilot.pause()
        (line,) = lines(bar)
        assert "push" not in line and "✗ failed: refused" in line


@pytest.mark.parametrize(
    ("updates", "news", "pushed"),
    [
        ("push", False, True),
        ("poll", False, False),
        ("push lost: polling", True, False),
        ("hub: push", False, True),
        ("hub: poll", False, True),
        ("hub: push lost: polling", True, True),
        ("hub: lost: cannot reach the server", True, True),
        ("hub lost: polling", True, False),
    ],
)
def test_the_status_line_reads_a_hub_as_it_reads_push(
    updates: str, news: bool, pushed: bool
) -> None:
    """Through a hub values are pushed to the dashboard whatever the hub's upstream does; a
    hub lost, or a hub whose upstream is in trouble, is news in the warning colour."""
    from statdash.ui.widgets.status_bar import arrives_by_push, is_news

    assert is_news(updates) is news
    assert arrives_by_push(updates) is pushed
