"""The wallboard parts of the language: rotate:, show_for:, kind: clock and kind: text."""

from __future__ import annotations

import pytest

from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.problems import LayoutError
from statdash.layout.views import ClockView, TextView

KPI = "{kind: kpi, object: {queue: 8001@SIP_Switch}, stat: CurrentNumberWaitingCalls}"


def messages(text: str) -> list[str]:
    """Every problem the loader reports for `text`, as `line:column: key: message`."""
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="t.yaml")
    return [f"{p.line}:{p.column}: {p.path}: {p.message}" for p in caught.value.problems]


def test_rotate_gives_every_page_its_time_and_show_for_overrides_it() -> None:
    """`rotate:` is each page's time on screen unless the page gives its own `show_for:`."""
    layout = compile_layout(
        load_layout_text(
            f"title: T\nrotate: 15s\npages:\n"
            f"  - {{title: A, widgets: [{KPI}]}}\n"
            f"  - {{title: B, show_for: 1m, widgets: [{KPI}]}}\n",
            file="t.yaml",
        )
    )
    assert [page.show_for for page in layout.pages] == [15.0, 60.0]
    assert layout.rotate == 15.0
    assert layout.rotates


def test_a_layout_without_rotate_does_not_rotate() -> None:
    """No `rotate:` and no `show_for:`: the pages stay until a key changes them."""
    layout = compile_layout(
        load_layout_text(f"title: T\npages:\n  - widgets: [{KPI}]\n  - widgets: [{KPI}]\n")
    )
    assert [page.show_for for page in layout.pages] == [None, None]
    assert not layout.rotates


def test_one_page_does_not_rotate_even_with_rotate() -> None:
    """A single page has nothing to rotate to."""
    layout = compile_layout(
        load_layout_text(f"title: T\nrotate: 10s\npages:\n  - widgets: [{KPI}]\n")
    )
    assert not layout.rotates


def test_show_for_on_some_pages_only_names_the_page_without_a_time() -> None:
    """Without `rotate:`, a page lacking `show_for:` is an error at that page."""
    assert messages(
        f"title: T\npages:\n  - {{show_for: 10s, widgets: [{KPI}]}}\n  - widgets: [{KPI}]\n"
    ) == [
        "4:5: pages[1]: other pages rotate ('show_for:'), this one has no time on screen;"
        " give it 'show_for:' or give the dashboard 'rotate:' (the time of every other page)"
    ]


def test_page_times_out_of_bounds_are_refused() -> None:
    """A page time below 3s or above 1h is refused with the bounds."""
    assert messages(f"title: T\nrotate: 1s\npages:\n  - widgets: [{KPI}]\n") == [
        "2:9: rotate: a page's time on screen must be between 3s and 1h, got 1s"
    ]


def test_clock_and_text_compile_to_their_views() -> None:
    """A clock keeps its options and zone; a text keeps its lines, stripped."""
    layout = compile_layout(
        load_layout_text(
            "title: T\npages:\n  - widgets:\n"
            "      - {kind: clock, seconds: true, date: false, timezone: Europe/Berlin}\n"
            "      - kind: text\n        message: |\n          First line  \n          second\n"
            f"      - {KPI}\n"
        )
    )
    clock, text, _ = layout.pages[0].widgets
    assert isinstance(clock, ClockView)
    assert (clock.seconds, clock.date, clock.timezone) == (True, False, "Europe/Berlin")
    assert isinstance(text, TextView)
    assert text.message == "First line\nsecond"
    assert len(layout.items) == 1  # the kpi's: a clock and a text ask the server for nothing


def test_bad_clock_and_text_options_are_each_reported() -> None:
    """An unknown zone, an empty message and a control character are named where written."""
    assert messages(
        "title: T\npages:\n  - widgets:\n"
        "      - {kind: clock, timezone: Mars/Olympus}\n"
        "      - {kind: text, message: ''}\n"
        '      - {kind: text, message: "bell \\a"}\n'
    ) == [
        "4:33: pages[0].widgets[0].timezone: unknown time zone 'Mars/Olympus'"
        " (an IANA name such as Europe/Berlin, America/New_York or UTC)",
        "5:31: pages[0].widgets[1].message: must not be empty",
        "6:31: pages[0].widgets[2].message: must not contain control characters (tabs, escapes)",
    ]


def test_a_layout_of_only_clocks_and_text_is_refused() -> None:
    """A layout with nothing to subscribe to is an error (the server would refuse it)."""
    assert messages(
        "title: T\npages:\n  - widgets: [{kind: clock}, {kind: text, message: hi}]\n"
    ) == [
        "3:3: pages: this layout shows no statistic (only clocks and text); add a kpi,"
        " agents, queues, trend or states widget"
    ]
