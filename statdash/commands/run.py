"""`statdash run LAYOUT`: the live dashboard against a Statistics API server."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from statdash.api.errors import ConfigError
from statdash.commands.common import EXIT_USAGE, fail, load_compiled, theme_problem
from statdash.commands.server_options import add_server_arguments, resolve_server

THEMES_HELP = "colour theme, e.g. statdash, ansi-dark (the terminal's 16 colours), textual-light"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`run` takes a layout file, the server flags and a theme."""
    parser.add_argument("layout", type=Path, help="the layout file (YAML)")
    parser.add_argument("--theme", help=THEMES_HELP)
    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Validate everything before the screen starts; then run until the user quits."""
    problem = theme_problem(args.theme)
    if problem is not None:
        return fail(problem)
    layout = load_compiled(args.layout)
    if layout is None:
        return EXIT_USAGE
    try:
        settings = resolve_server(args)
    except ConfigError as error:
        return fail(str(error))
    from statdash.live.records import SubscriptionRecords
    from statdash.ui.launch import run_dashboard

    try:
        return asyncio.run(
            run_dashboard(
                layout,
                settings,
                layout_path=args.layout,
                theme=args.theme,
                records=SubscriptionRecords(),
            )
        )
    except ConfigError as error:
        return fail(str(error))
