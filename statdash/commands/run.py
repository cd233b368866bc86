"""`statdash run LAYOUT`: the live dashboard against a Statistics API server."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from statdash.api.errors import ConfigError
from statdash.api.settings import Endpoint
from statdash.commands.alert_options import (
    alert_actions_problem,
    check_alert_webhooks,
    open_alert_log,
    screen_only,
)
from statdash.commands.arguments.run import add_arguments
from statdash.commands.common import load_compiled
from statdash.commands.record_options import make_recorder, record_problem
from statdash.commands.server_options import resolve_endpoint
from statdash.commands.voice import Refused, Voice
from statdash.layout.suggest import did_you_mean
from statdash.layout.views import CompiledLayout
from statdash.live.alerts.log import AlertLog
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.ui.heap import hold_collections, resume_collections

# Textual (~350 ms to import with the dashboard) is imported only where it is used, so
# `statdash run --help` and the refusals before the screen (bad layout, no server) stay quick.

VOICE = Voice("run")


@dataclass(frozen=True)
class Prepared:
    """What `run` has checked and opened before the screen starts."""

    settings: Endpoint
    layout: CompiledLayout
    alert_log: AlertLog | None


def prepare(
    args: argparse.Namespace,
    voice: Voice,
    environ: Mapping[str, str] | None = None,
    *,
    warn: bool = True,
) -> Prepared:
    """Every check `run` makes before the screen starts; Refused with the reason (exit 2).

    `serve` runs this on each viewer's command line (in the viewer's `environ`), so an
    option a viewer's `run` would refuse is refused before anything listens. `voice` says
    the config file's permission warning (with `warn`).
    """
    problem = theme_problem(args.theme) or record_problem(args) or alert_actions_problem(args)
    if problem is not None:
        raise Refused(problem)
    settings = resolve_endpoint(args, environ, voice=voice, warn=warn)
    layout = load_compiled(args.layout)
    # With --alert-actions screen another process keeps the log (the layout's included).
    if not screen_only(args):
        check_alert_webhooks(args, layout)
    alert_log = None if screen_only(args) else open_alert_log(args, layout, voice)
    return Prepared(settings, layout, alert_log)


class RunUsageError(Exception):
    """A command line `run` does not accept; the message is argparse's (one line)."""


class _Refusing(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise RunUsageError(message)


def parse_run_args(argv: Sequence[str]) -> argparse.Namespace:
    """`statdash run ARGV...` as `run` reads it; RunUsageError where `run` would exit 2."""
    parser = _Refusing(prog="statdash run", allow_abbrev=False)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def run(args: argparse.Namespace) -> int:
    """Validate everything before the screen starts; then run until the user quits."""
    # No garbage collection until the first data is on screen, where the app collects once
    # and settles the heap (statdash.ui.heap): what start-up builds lives for the whole run.
    hold_collections()
    try:
        return _run(args)
    finally:
        resume_collections()


def _run(args: argparse.Namespace) -> int:
    """`run` itself, collections held: every check, then the screen until the user quits."""
    prepared = prepare(args, VOICE)
    settings, layout, alert_log = prepared.settings, prepared.layout, prepared.alert_log
    # why here: Textual loads only once the layout and settings are good (see the top).
    from statdash.ui.start import run_dashboard

    recorder = make_recorder(args, layout, settings.label)
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
                alert_commands=not screen_only(args),
                say=VOICE.say,
            )
        )
    except ConfigError as error:
        # The client refused the settings before the screen, e.g. a CA bundle with no
        # certificate in it: one line, exit 2, like every other settings problem.
        raise Refused(str(error)) from None


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
