"""Big digits: the sizes grow with the room, the size hint keeps it steady, pixels line up."""

from __future__ import annotations

from rich.style import Style

from statdash.ui.widgets.bigdigits import SMALL, as_text, fit, render, sizes, text_width


def test_sizes_grow_from_the_3x3_font_to_many_rows() -> None:
    """The smallest size is the 3-row font; the pixel sizes go 4, 7, 11, 14 rows and on."""
    rows = sorted({size.rows for size in sizes()})
    assert rows[:5] == [3, 4, 7, 11, 14]
    assert sizes()[0] == SMALL


def test_fit_takes_the_largest_size_the_room_allows() -> None:
    """More room gives taller digits; a narrow room limits them by width."""
    assert fit("42", 10, 3) == SMALL
    small, large = fit("42", 60, 8), fit("42", 60, 30)
    assert small is not None and large is not None
    assert small.rows == 7 and large.rows > 20
    narrow = fit("0:00:00", 40, 30)
    assert narrow is not None and narrow.rows == 4
    assert fit("42", 3, 30) is None


def test_the_hint_keeps_one_size_when_a_value_grows_by_a_digit() -> None:
    """With the hint "888", "7" and "123" are drawn at the same size."""
    assert fit("7", 50, 30, hint="888") == fit("123", 50, 30, hint="888")
    assert fit("7", 50, 30) != fit("7", 50, 30, hint="888")


def test_rendered_rows_are_as_wide_and_tall_as_the_size_says() -> None:
    """Every row of a rendered figure has the width `text_width` gives, `rows` rows of it."""
    for size in sizes()[:12]:
        rows = render("12.5%", size)
        assert rows is not None
        assert len(rows) == size.rows
        assert {len(row) for row in rows} == {text_width("12.5%", size)}


def test_text_without_a_big_form_has_none() -> None:
    """A state word or "n/a" is not drawn big at any size."""
    for size in sizes()[:4]:
        assert render("Ready", size) is None
        assert render("n/a", size) is None


def test_full_pixels_are_reverse_spaces() -> None:
    """A full block becomes a reverse-video space; half blocks stay glyphs."""
    text = as_text("▀██ ▄", Style(color="red"))
    assert text.plain == "▀   ▄"
    reversed_cells = [
        span for span in text.spans if span.style and Style.parse(str(span.style)).reverse
    ]
    assert [(span.start, span.end) for span in reversed_cells] == [(1, 3)]
