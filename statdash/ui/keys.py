"""Every key the dashboard answers to, in one table: bindings, help screen and palette share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One key: what to press, the app action it runs, and what it does in words."""

    keys: str
    action: str
    description: str
    short: str = ""
    """The footer's word for it; keys without one stay out of the footer (it fits 80 columns)."""


KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("q", "quit", "Quit (closes the subscription)", "Quit"),
    KeyAction("ctrl+q", "quit", "Quit"),
    KeyAction("ctrl+c", "quit", "Quit"),
    KeyAction("p", "toggle_pause", "Pause / resume polling", "Pause"),
    KeyAction("r", "poll_now", "Poll now", "Poll"),
    KeyAction("slash", "filter", "Filter the table by name, state or any text", "Filter"),
    KeyAction("s", "sort", "Sort the table by the next column", "Sort"),
    KeyAction("S", "reverse_sort", "Reverse the sort order"),
    KeyAction("m", "toggle_maximize", "Maximize / restore the focused widget", "Max"),
    KeyAction("tab", "app.focus_next", "Focus the next widget"),
    KeyAction("question_mark", "help", "Show every key (this help)", "Help"),
    KeyAction("ctrl+p", "command_palette", "Command palette (every action by name)"),
)

PAGE_KEYS = tuple(str(number) for number in range(1, 10))
"""`1`-`9` switch to that page."""

KEY_LABELS = {"slash": "/", "question_mark": "?", "S": "shift+s"}


def key_label(keys: str) -> str:
    """How a key is written for people: `/` rather than `slash`."""
    return KEY_LABELS.get(keys, keys)
