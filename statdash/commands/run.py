"""`statdash run LAYOUT`: the live dashboard against a Statistics API server."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from statdash.api.errors import ConfigError
from statdash.commands.alert_options import AlertLogUnusable, add_alert_arguments, open_alert_log
from statdash.commands.common import EXIT_USAGE, add_updates_argument, load_compiled
from statdash.commands.record_options import add_record_arguments, make_recorder, record_problem
from statdash.commands.server_options import add_server_arguments, resolve_server
from statdash.commands.voice import Voice
from statdash.layout.suggest import did_you_mean
from statdash.live.recorder import RecorderError
from statdash.live.records import SubscriptionRecords

# Textual (~350 ms to import with the dashboard) is imported only where it is used, so
# `statdash run --help` and the refusals before the screen (bad layout, no server) stay quick.

VOICE = Voice("run")
THEMES_HELP = "colour theme, e.g. statdash, ansi-dark (the terminal's 16 colours), textual-light"
KIOSK_HELP = "for a wall display: no key bar and no command palette (the status line stays)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`run` takes a layout file, the server flags, a theme and how values arrive."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML)")
    parser.add_argument("--theme", help=THEMES_HELP)
    add_alert_arguments(parser)
    add_updates_argument(parser)
    parser.add_argument("--kiosk", action="store_true", help=KIOSK_HELP)
    add_server_arguments(parser)
    add_record_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Validate everything before the screen starts; then run until the user quits."""
    problem = theme_problem(args.theme) or record_problem(args)
    if problem is not None:
        return VOICE.fail(problem)
    try:
        settings = resolve_server(args, voice=VOICE)
    except ConfigError as error:
        return VOICE.fail(str(error))
    layout = load_compiled(args.layout, VOICE)
    if layout is None:
        return EXIT_USAGE
    try:
        alert_log = open_alert_log(args, layout, VOICE)
    except AlertLogUnusable:
        return EXIT_USAGE
    # why here: Textual loads only once the layout and settings are good (see the top).
    from statdash.ui.launch import run_dashboard

    try:
        recorder = make_recorder(args, layout, settings.label)
    except RecorderError as error:
        return VOICE.fail(str(error))
    try:
        return asyncio.run(
            run_dashboard(
                layout,
                settings,
                layout_path=args.layout,
                theme=args.theme,
                records=SubscriptionRecords(),
                alert_log=alert_log,
                updates=args.updates,
                kiosk=args.kiosk,
                recorder=recorder,
                say=VOICE.say,
            )
        )
    except ConfigError as error:
        # The client refused the settings before the screen, e.g. a CA bundle with no
        # certificate in it: one line, exit 2, like every other settings problem.
        return VOICE.fail(str(error))


def theme_problem(theme: str | None) -> str | None:
    """Why `--theme` cannot be used (with a did-you-mean), or None when it can."""
    if theme is None:
        return None
    # why here: the theme names live beside the Textual themes (see the top).
    from statdash.ui.palette import THEME_NAMES

    if theme in THEME_NAMES:
        return None
    hint = did_you_mean(theme, THEME_NAMES)
    return f"unknown theme {theme!r}{hint} (one of: {', '.join(THEME_NAMES)})"
