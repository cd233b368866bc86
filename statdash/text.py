"""safe(): turns any untrusted string (server data, layout text) into plain, control-free Text.

(And `counted()`, the one way a number of things is worded: `1 problem`, `2,000 objects`.)

Textual parses plain strings in many places as markup (`[/]` crashes, `[@click=...]` makes an
action), and escape sequences such as OSC 52 pass straight through even `rich.text.Text`.
So every string from a server or a file goes through here before it reaches the screen:
control characters become U+FFFD (visible, so the user sees that something odd was sent),
invisible format characters (bidi overrides, zero-width) are dropped, and the result is
wrapped in a `Text` built from the plain string, never parsed as markup.

It stays at the top of the package, outside the layers, because every layer above `api`
uses it (layout messages, the screen, the commands' output); `api` puts nothing on a
terminal and does not import it (the import contracts in pyproject.toml hold both).
"""

from __future__ import annotations

import unicodedata

from rich.style import Style
from rich.text import Text

REPLACEMENT = "\ufffd"
_WHITESPACE_CONTROLS = {"\t": " ", "\n": " ", "\r": " "}


def clean(value: object, max_length: int | None = None) -> str:
    """The printable form of `value`: no control, escape or invisible format characters."""
    text = value if isinstance(value, str) else str(value)
    # Fast path: most ids and state words are plain printable text already.
    if not text.isprintable():
        text = "".join(_clean_char(char) for char in text)
    if max_length is not None and len(text) > max_length:
        text = text[: max(0, max_length - 1)] + "…"
    return text


def _clean_char(char: str) -> str:
    if char.isprintable():
        return char
    if char in _WHITESPACE_CONTROLS:
        return _WHITESPACE_CONTROLS[char]
    category = unicodedata.category(char)
    if category == "Cf":
        # Bidi overrides and zero-width characters can disguise text; drop them.
        return ""
    if category in ("Zs", "Zl", "Zp"):
        return " "
    # Cc (C0/C1 controls, ESC, DEL), Cs (lone surrogates), Co, Cn: shown, never executed.
    return REPLACEMENT


def safe(value: object, style: str | Style = "", max_length: int | None = None) -> Text:
    """A `Text` holding `clean(value)` as literal characters; markup in it has no effect."""
    return Text(clean(value, max_length), style=style, no_wrap=True, end="")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 problem`, `2 problems`, `10,092 problems`: never `problem(s)`."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
