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
    explain: str = ""
    """What the command palette says under the description: more than the name says."""


KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction(
        "q",
        "quit",
        "Quit (closes the subscription)",
        "Quit",
        "Leave the dashboard; the subscription on the server is deleted on the way out",
    ),
    KeyAction("ctrl+q", "quit", "Quit"),
    KeyAction("ctrl+c", "quit", "Quit"),
    KeyAction(
        "p",
        "toggle_pause",
        "Pause / resume updates",
        "Pause",
        "Stop taking new values (the screen keeps the last ones, the subscription stays open);"
        " again to resume",
    ),
    KeyAction(
        "r",
        "poll_now",
        "Check now",
        "Check",
        "Ask the server for every value at once (under push: a reconciliation, whose"
        " finding the status line shows)",
    ),
    KeyAction(
        "slash",
        "filter",
        "Filter the table by name, state or any text",
        "Filter",
        "Show only the rows holding what you type; escape clears the filter",
    ),
    KeyAction(
        "s",
        "sort",
        "Sort the table by the next column",
        "Sort",
        "Each press sorts by the following column: name, state, time in state, figures",
    ),
    KeyAction(
        "S",
        "reverse_sort",
        "Reverse the sort order",
        explain="Flip the table between ascending and descending",
    ),
    KeyAction(
        "m",
        "toggle_maximize",
        "Maximize / restore the focused widget",
        "Max",
        "Give the focused widget the whole screen (a table shows its hidden columns)",
    ),
    KeyAction(
        "escape",
        "escape",
        "Clear the filter / restore a maximized widget",
        explain="Show every row again, or give a maximized widget its place back",
    ),
    KeyAction(
        "R",
        "resume_rotation",
        "Rotate the pages again (any other key stops it)",
        explain="On a layout with 'rotate:', cycle the pages again from the one on screen",
    ),
    KeyAction(
        "e",
        "layout_problems",
        "Why the edited layout file was not applied",
        explain="Every problem of the last edit, each with its file:line:column",
    ),
    KeyAction(
        "a",
        "acknowledge",
        "Acknowledge the raised alerts",
        explain="Stop the raised alerts repeating (on the alerts screen: the selected one);"
        " they stay listed until they clear",
    ),
    KeyAction(
        "exclamation_mark",
        "alerts",
        "List the alerts and the history of the shift",
        explain="Every standing alert with its times, and those cleared during this run",
    ),
    KeyAction("tab", "app.focus_next", "Focus the next widget"),
    KeyAction(
        "question_mark",
        "help",
        "Show every key (this help)",
        "Help",
        "List every key of the dashboard and what it does",
    ),
    KeyAction("ctrl+p", "command_palette", "Command palette (every action by name)"),
)

REPLAY_KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("space", "toggle_pause", "Play / pause the replay", "Play"),
    KeyAction("left", "replay_step(-1)", "Step back one poll", explain="Pause and go back"),
    KeyAction("right", "replay_step(1)", "Step on one poll", explain="Pause and go on"),
    KeyAction("left_square_bracket", "replay_slower", "Replay slower", "Slower"),
    KeyAction("right_square_bracket", "replay_faster", "Replay faster", "Faster"),
    KeyAction("g", "replay_go_to", "Go to a time of the recording", "Go to"),
)
"""Keys only a replay answers to (`statdash replay`); docs/recordings.md lists them."""

PAGE_KEYS = tuple(str(number) for number in range(1, 10))
"""`1`-`9` switch to that page."""

KEY_LABELS = {
    "slash": "/",
    "question_mark": "?",
    "exclamation_mark": "!",
    "S": "shift+s",
    "R": "shift+r",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(keys: str) -> str:
    """How a key is written for people: `/` rather than `slash`."""
    return KEY_LABELS.get(keys, keys)
