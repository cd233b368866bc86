"""Tests for statdash.text: untrusted strings become inert plain text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from statdash.text import REPLACEMENT, clean, safe


def test_plain_text_is_unchanged() -> None:
    """An ordinary agent id passes through untouched."""
    assert clean("ana.silva") == "ana.silva"


def test_markup_stays_literal() -> None:
    """Rich/Textual markup in data is kept as literal characters, with no spans or actions."""
    text = safe("[@click=app.quit]x[/] [b]bold[/b]")
    assert text.plain == "[@click=app.quit]x[/] [b]bold[/b]"
    assert text.spans == []


def test_osc52_clipboard_write_is_defused() -> None:
    """An OSC 52 escape sequence loses its ESC and BEL, so the terminal never acts on it."""
    cleaned = clean("\x1b]52;c;aGk=\x07name")
    assert "\x1b" not in cleaned and "\x07" not in cleaned
    assert cleaned == f"{REPLACEMENT}]52;c;aGk={REPLACEMENT}name"


def test_c1_controls_and_bidi_overrides() -> None:
    """C1 controls are replaced and bidi overrides and zero-width characters removed."""
    assert clean("a\x9bb") == f"a{REPLACEMENT}b"
    assert clean("ab\u202ecd\u200b") == "abcd"


def test_newlines_and_tabs_become_spaces() -> None:
    """Line breaks cannot split a table cell over several rows."""
    assert clean("a\nb\tc\r\u2028d") == "a b c  d"


def test_max_length_marks_the_cut() -> None:
    """A long string is shortened to the limit with an ellipsis."""
    assert clean("abcdefgh", max_length=5) == "abcd…"


def test_non_strings_are_rendered() -> None:
    """Numbers and other objects are shown by their str()."""
    assert clean(42) == "42"


@given(st.text())
def test_output_is_always_printable(value: str) -> None:
    """Whatever the input, the result holds only printable characters."""
    assert clean(value).isprintable()
