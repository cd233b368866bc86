"""What the dashboard commands (run, demo, replay, serve) share: `--updates`, the theme's and
kiosk's help."""

from __future__ import annotations

import argparse

from statdash.layout.vocabulary import UPDATES_MODES

THEMES_HELP = "colour theme, e.g. statdash, ansi-dark (the terminal's 16 colours), textual-light"
KIOSK_HELP = "for a wall display: no key bar and no command palette (the status line stays)"


def add_updates_argument(
    parser: argparse._ActionsContainer, *, default: str = "the layout's updates:, else auto"
) -> None:
    """`--updates auto|push|poll`, over the layout's `updates:` (default: the layout's).

    `parser` may be an argument group (serve's options for each viewer's dashboard);
    `default` says in the help what applies when the flag is not given.
    """
    parser.add_argument(
        "--updates",
        choices=UPDATES_MODES,
        help="how values arrive: auto (push over CometD where the server offers it, else"
        f" polling), push, or poll (default: {default})",
    )
